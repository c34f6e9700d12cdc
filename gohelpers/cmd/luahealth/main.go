// Command luahealth runs an Argo CD health check (health.lua) under gopher-lua, the
// interpreter Argo CD runs them in, on one object read from stdin as JSON or YAML,
// and prints {"status": ..., "message": ...} as JSON on stdout.
//
// Usage: luahealth path/to/health.lua < object.yaml
//
// As in Argo CD, the object is the global `obj` and the script returns a table with
// `status` and `message`. Only Lua's base library is opened (Argo CD opens base, table,
// package and a safe os): a script that passes here uses nothing Argo CD might lack.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

type output struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// toLua turns decoded JSON into Lua values the way Argo CD does: objects and arrays
// become tables (arrays 1-based), numbers LNumber, null nil.
func toLua(l *lua.LState, v interface{}) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(x)
	case float64:
		return lua.LNumber(x)
	case string:
		return lua.LString(x)
	case []interface{}:
		t := l.NewTable()
		for _, item := range x {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]interface{}:
		t := l.NewTable()
		for k, item := range x {
			t.RawSetString(k, toLua(l, item))
		}
		return t
	default:
		return lua.LString(fmt.Sprint(x))
	}
}

func run(script string, data []byte) (output, error) {
	raw, err := yaml.YAMLToJSON(data)
	if err != nil {
		return output{}, fmt.Errorf("input is not a JSON or YAML object: %w", err)
	}
	var obj map[string]interface{}
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return output{}, fmt.Errorf("input is not a JSON or YAML object")
	}
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	l.Push(l.NewFunction(lua.OpenBase))
	l.Push(lua.LString(lua.BaseLibName))
	l.Call(1, 0)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return output{}, fmt.Errorf("health script failed: %w", err)
	}
	table, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return output{}, fmt.Errorf("health script returned %s, not a table", l.Get(-1).Type())
	}
	out := output{}
	if s, ok := table.RawGetString("status").(lua.LString); ok {
		out.Status = string(s)
	} else {
		return output{}, fmt.Errorf("health script returned no string status")
	}
	if m, ok := table.RawGetString("message").(lua.LString); ok {
		out.Message = string(m)
	}
	return out, nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: luahealth HEALTH.lua < object")
		os.Exit(2)
	}
	script, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "luahealth: %v\n", err)
		os.Exit(2)
	}
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "luahealth: reading stdin: %v\n", err)
		os.Exit(2)
	}
	out, err := run(string(script), data)
	if err != nil {
		fmt.Fprintf(os.Stderr, "luahealth: %v\n", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintf(os.Stderr, "luahealth: %v\n", err)
		os.Exit(2)
	}
}

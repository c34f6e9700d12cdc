// Command kstatus runs the kstatus library (sigs.k8s.io/cli-utils/pkg/kstatus/status),
// the readiness rules Flux and kpt use, on one Kubernetes object read from stdin as
// JSON or YAML, and prints {"status": ..., "message": ...} as JSON on stdout.
//
// Empty input (or a JSON/YAML null) means the object does not exist: NotFound,
// the status kstatus's pollers report for a missing object.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

type output struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func compute(data []byte) (output, error) {
	if strings.TrimSpace(string(data)) == "" {
		return output{Status: status.NotFoundStatus.String(), Message: "object not found"}, nil
	}
	raw, err := yaml.YAMLToJSON(data)
	if err != nil {
		return output{}, fmt.Errorf("input is not a JSON or YAML object: %w", err)
	}
	// The apimachinery decoder keeps integers as int64, as kstatus's accessors expect.
	var obj map[string]interface{}
	if err := utiljson.Unmarshal(raw, &obj); err != nil {
		return output{}, fmt.Errorf("input is not a JSON or YAML object: %w", err)
	}
	if obj == nil {
		return output{Status: status.NotFoundStatus.String(), Message: "object not found"}, nil
	}
	res, err := status.Compute(&unstructured.Unstructured{Object: obj})
	if err != nil {
		return output{}, fmt.Errorf("kstatus could not compute a status: %w", err)
	}
	return output{Status: res.Status.String(), Message: res.Message}, nil
}

func main() {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kstatus: reading stdin: %v\n", err)
		os.Exit(2)
	}
	out, err := compute(data)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kstatus: %v\n", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintf(os.Stderr, "kstatus: %v\n", err)
		os.Exit(2)
	}
}

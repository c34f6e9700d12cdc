// Command controlplane is a multi-call ("hyperkube" style) binary bundling a
// Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler, built from the upstream Go packages, plus the streaming
// (exec/attach/port-forward) endpoint of the local node agent.
//
// The component is selected by the first argument; all remaining arguments
// are passed to that component unchanged:
//
//	controlplane etcd --data-dir ... --listen-client-urls ...
//	controlplane kube-apiserver --etcd-servers ... --secure-port ...
//	controlplane kube-controller-manager --kubeconfig ...
//	controlplane kube-scheduler --kubeconfig ...
//	controlplane kubelet-streaming --listen ... --agent-socket ...
//	controlplane version
//
// Invoking the binary through a symlink named after a component (e.g.
// "kube-apiserver -> controlplane") also works.
//
// Every component runs in its own process; start the binary once per
// component. Never run two components in one process.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	_ "time/tzdata" // for CronJob time zone support (kube-apiserver, kube-controller-manager)

	"github.com/spf13/cobra"
	etcdversion "go.etcd.io/etcd/api/v3/version"
	"go.etcd.io/etcd/server/v3/etcdmain"
	apimachineryversion "k8s.io/apimachinery/pkg/version"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // for JSON log format registration
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // load all the prometheus client-go plugins
	_ "k8s.io/component-base/metrics/prometheus/version"  // for version metric registration
	"k8s.io/component-base/version"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

var components = []string{
	"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet-streaming", "version",
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: %s <component> [flags...]\n\ncomponents:\n", filepath.Base(os.Args[0]))
	for _, c := range components {
		fmt.Fprintf(os.Stderr, "  %s\n", c)
	}
}

// runCobra runs an upstream component command exactly like its cmd/*/main.go
// does, but with the arguments following the component name.
func runCobra(cmd *cobra.Command, args []string) int {
	cmd.SetArgs(args)
	return cli.Run(cmd)
}

func printVersion() int {
	out := struct {
		Kubernetes apimachineryversion.Info `json:"kubernetes"`
		Etcd       string                   `json:"etcd"`
	}{
		Kubernetes: version.Get(),
		Etcd:       etcdversion.Version,
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func run(name string, args []string) int {
	switch name {
	case "etcd":
		// etcdmain.Main expects a full argv (program name first) and only
		// returns after etcd has shut down (it usually exits the process).
		etcdmain.Main(append([]string{"etcd"}, args...))
		return 0
	case "kube-apiserver":
		return runCobra(apiserver.NewAPIServerCommand(), args)
	case "kube-controller-manager":
		return runCobra(controllermanager.NewControllerManagerCommand(), args)
	case "kube-scheduler":
		return runCobra(scheduler.NewSchedulerCommand(), args)
	case "kubelet-streaming":
		return runKubeletStreaming(args)
	case "version", "--version", "-version":
		return printVersion()
	case "help", "--help", "-h", "-help":
		usage()
		return 0
	default:
		fmt.Fprintf(os.Stderr, "unknown component %q\n\n", name)
		usage()
		return 2
	}
}

func main() {
	// Symlink invocation: kube-apiserver -> controlplane.
	switch base := filepath.Base(os.Args[0]); base {
	case "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler":
		os.Exit(run(base, os.Args[1:]))
	}
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	os.Exit(run(os.Args[1], os.Args[2:]))
}

// The "kubelet-streaming" component: the kubelet endpoint of the local node
// agent (dask_kubernetes/testing/nodeagent).
//
// The node agent (Python) plays the kubelet for Pod lifecycle, status and
// logs. What it cannot do well is the kubelet's streaming protocols, which the
// API server uses for `kubectl exec`, `attach` and `port-forward`: SPDY (and the
// older websocket variants) with several multiplexed streams per connection.
// This component serves them with the kubelet's own library,
// k8s.io/cri-streaming, and is the HTTPS endpoint the Node publishes
// (status.daemonEndpoints.kubeletEndpoint at the Node's InternalIP), so the
// API server reaches it exactly as it reaches a real kubelet:
//
//	/exec/{namespace}/{pod}[/{uid}]/{container}?command=...  served here
//	/attach/{namespace}/{pod}[/{uid}]/{container}            served here
//	/portForward/{namespace}/{pod}[/{uid}]                   served here
//	everything else (/containerLogs/..., /healthz)           proxied to the agent
//
// The agent starts this process, passes the unix socket of its own HTTP
// server (--agent-socket), and reads the listening address from the first
// line of stdout. Which Pods and containers exist, their process ids and
// network namespaces, is asked from the agent for every request
// (GET /agent/v1/pods/{namespace}/{pod} on that socket).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/cri-streaming/pkg/streaming/portforward"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
)

const (
	// How long a stream may stay silent, and how long the client has to open
	// its streams after the upgrade; the kubelet's defaults.
	streamIdleTimeout     = 4 * time.Hour
	streamCreationTimeout = remotecommand.DefaultStreamCreationTimeout
)

// kubeletStreaming holds the server's configuration and its running children.
type kubeletStreaming struct {
	agent *agentClient
	execs *processGroups
}

func runKubeletStreaming(args []string) int {
	fs := flag.NewFlagSet("kubelet-streaming", flag.ContinueOnError)
	listen := fs.String("listen", "", "host:port to serve HTTPS on (port 0 picks a free one); required")
	certFile := fs.String("tls-cert-file", "", "serving certificate (PEM, may include the chain); required")
	keyFile := fs.String("tls-private-key-file", "", "serving key (PEM); required")
	clientCA := fs.String("client-ca-file", "", "when set, only clients with a certificate signed by this CA are served")
	agentSocket := fs.String("agent-socket", "", "unix socket of the node agent's HTTP server; required")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	for name, value := range map[string]string{
		"--listen": *listen, "--tls-cert-file": *certFile, "--tls-private-key-file": *keyFile,
		"--agent-socket": *agentSocket,
	} {
		if value == "" {
			fmt.Fprintf(os.Stderr, "kubelet-streaming: %s is required\n", name)
			return 2
		}
	}
	log.SetPrefix("kubelet-streaming: ")
	tlsConfig, err := serverTLS(*certFile, *keyFile, *clientCA)
	if err != nil {
		log.Print(err)
		return 1
	}
	ks := &kubeletStreaming{agent: newAgentClient(*agentSocket), execs: newProcessGroups()}
	server := &http.Server{
		Handler:           ks.routes(),
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 30 * time.Second,
		// HTTP/1.1 only: the streaming protocols are HTTP/1.1 upgrades.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:     log.Default(),
	}
	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Print(err)
		return 1
	}
	// The agent waits for this line to learn the port it publishes on the Node.
	fmt.Println(listener.Addr().String())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	served := make(chan error, 1)
	go func() { served <- server.ServeTLS(listener, "", "") }()
	select {
	case sig := <-stop:
		log.Printf("%s: stopping", sig)
	case err := <-served:
		log.Print(err)
		ks.execs.killAll()
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = server.Shutdown(ctx) // hijacked streams are not waited for; Close ends the listener
	_ = server.Close()
	ks.execs.killAll()
	return 0
}

// serverTLS loads the serving certificate and, when a client CA is given,
// requires clients (the API server) to present a certificate it signed.
func serverTLS(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading serving certificate: %w", err)
	}
	config := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCAFile != "" {
		pem, err := os.ReadFile(clientCAFile)
		if err != nil {
			return nil, fmt.Errorf("reading client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificate found in client CA file %s", clientCAFile)
		}
		config.ClientCAs = pool
		config.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return config, nil
}

func (ks *kubeletStreaming) routes() http.Handler {
	mux := http.NewServeMux()
	for _, prefix := range []string{"/exec/{namespace}/{pod}", "/exec/{namespace}/{pod}/{uid}"} {
		mux.HandleFunc(prefix+"/{container}", ks.serveExec)
	}
	for _, prefix := range []string{"/attach/{namespace}/{pod}", "/attach/{namespace}/{pod}/{uid}"} {
		mux.HandleFunc(prefix+"/{container}", ks.serveAttach)
	}
	mux.HandleFunc("/portForward/{namespace}/{pod}", ks.servePortForward)
	mux.HandleFunc("/portForward/{namespace}/{pod}/{uid}", ks.servePortForward)
	mux.HandleFunc("/agent/", http.NotFound) // the agent's own API stays private
	mux.Handle("/", ks.agent.proxy())
	return mux
}

// lookup asks the agent for the Pod of a request and answers the request
// itself (as the kubelet would) when the Pod is not there.
func (ks *kubeletStreaming) lookup(w http.ResponseWriter, r *http.Request) (*podInfo, bool) {
	pod, err := ks.agent.pod(r.Context(), r.PathValue("namespace"), r.PathValue("pod"))
	if err != nil {
		var missing *notFoundError
		if errors.As(err, &missing) {
			http.Error(w, missing.Error(), http.StatusNotFound)
		} else {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
		return nil, false
	}
	if uid := r.PathValue("uid"); uid != "" && uid != pod.UID {
		http.Error(w, "pod not found", http.StatusNotFound)
		return nil, false
	}
	return pod, true
}

func (ks *kubeletStreaming) container(w http.ResponseWriter, r *http.Request) (*podInfo, *containerInfo, bool) {
	pod, ok := ks.lookup(w, r)
	if !ok {
		return nil, nil, false
	}
	name := r.PathValue("container")
	c, found := pod.Containers[name]
	if !found {
		http.Error(w, fmt.Sprintf("container %s is not valid for pod %s", name, pod.Name), http.StatusNotFound)
		return nil, nil, false
	}
	if c.PID == 0 {
		http.Error(w, fmt.Sprintf("container %q in pod %q is not running", name, pod.Name), http.StatusBadRequest)
		return nil, nil, false
	}
	return pod, &c, true
}

func (ks *kubeletStreaming) serveExec(w http.ResponseWriter, r *http.Request) {
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	command := r.URL.Query()["command"]
	if len(command) == 0 {
		http.Error(w, "query parameter \"command\" is required", http.StatusBadRequest)
		return
	}
	pod, c, ok := ks.container(w, r)
	if !ok {
		return
	}
	executor := &containerExec{pod: pod, container: c, groups: ks.execs}
	remotecommand.ServeExec(w, r, executor, pod.Name, pod.UID, r.PathValue("container"), command, opts,
		streamIdleTimeout, streamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

func (ks *kubeletStreaming) serveAttach(w http.ResponseWriter, r *http.Request) {
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if opts.TTY {
		http.Error(w, "the local node agent cannot attach a TTY: containers run without one", http.StatusBadRequest)
		return
	}
	pod, c, ok := ks.container(w, r)
	if !ok {
		return
	}
	attacher := &containerAttach{agent: ks.agent, pod: pod, name: r.PathValue("container"), container: c}
	remotecommand.ServeAttach(w, r, attacher, pod.Name, pod.UID, r.PathValue("container"), opts,
		streamIdleTimeout, streamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

func (ks *kubeletStreaming) servePortForward(w http.ResponseWriter, r *http.Request) {
	opts, err := portforward.NewV4Options(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	pod, ok := ks.lookup(w, r)
	if !ok {
		return
	}
	portforward.ServePortForward(w, r, &podForward{pod: pod}, pod.Name, pod.UID, opts,
		streamIdleTimeout, streamCreationTimeout, portforward.SupportedProtocols)
}

// proxy forwards every other kubelet path (logs, health) to the agent.
func (a *agentClient) proxy() http.Handler {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = "node-agent"
			pr.Out.Host = "node-agent"
		},
		Transport:     a.transport,
		FlushInterval: -1, // `kubectl logs -f` streams
		ErrorLog:      log.Default(),
	}
}

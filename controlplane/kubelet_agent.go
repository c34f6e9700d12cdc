// The kubelet-streaming component's view of the node agent: which Pods run
// on the node, the process of each running container and the Pod's network
// namespace, asked over the agent's unix socket for every request.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// podInfo is the agent's answer to GET /agent/v1/pods/{namespace}/{pod}.
type podInfo struct {
	Name        string                   `json:"name"`
	Namespace   string                   `json:"namespace"`
	UID         string                   `json:"uid"`
	HostNetwork bool                     `json:"hostNetwork"`
	NetNS       string                   `json:"netns"` // path of the network namespace; "" for hostNetwork
	Containers  map[string]containerInfo `json:"containers"`
}

// containerInfo describes the current run of one container.
type containerInfo struct {
	PID     int    `json:"pid"`     // 0 when the container is not running
	LogPath string `json:"logPath"` // CRI log file of the current run
}

type notFoundError struct{ message string }

func (e *notFoundError) Error() string { return e.message }

type agentClient struct {
	transport *http.Transport
	client    *http.Client
}

func newAgentClient(socket string) *agentClient {
	transport := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dialer net.Dialer
			return dialer.DialContext(ctx, "unix", socket)
		},
		MaxIdleConnsPerHost: 8,
	}
	return &agentClient{transport: transport, client: &http.Client{Transport: transport, Timeout: 30 * time.Second}}
}

// pod asks the agent for one Pod; a *notFoundError when it is not on this node.
func (a *agentClient) pod(ctx context.Context, namespace, name string) (*podInfo, error) {
	target := "http://node-agent/agent/v1/pods/" + url.PathEscape(namespace) + "/" + url.PathEscape(name)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("asking the node agent about pod %s/%s: %w", namespace, name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, &notFoundError{message: string(body)}
	default:
		return nil, fmt.Errorf("node agent answered %s: %s", resp.Status, body)
	}
	var pod podInfo
	if err := json.Unmarshal(body, &pod); err != nil {
		return nil, fmt.Errorf("decoding the node agent's answer: %w", err)
	}
	return &pod, nil
}

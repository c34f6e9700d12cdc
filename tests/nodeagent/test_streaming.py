from __future__ import annotations

from dask_kubernetes_dev.nodeagent import streaming


def test_pod_info_points_at_the_pods_network_namespace():
    info = streaming.pod_info(
        name="web",
        namespace="ns",
        uid="u-1",
        host_network=False,
        netns="dk0-3",
        containers={"main": (1234, "/state/logs/main/0.log"), "side": (0, "")},
    )
    assert info == {
        "name": "web",
        "namespace": "ns",
        "uid": "u-1",
        "hostNetwork": False,
        "netns": "/var/run/netns/dk0-3",
        "containers": {
            "main": {"pid": 1234, "logPath": "/state/logs/main/0.log"},
            "side": {"pid": 0, "logPath": ""},
        },
    }


def test_host_network_pods_and_pods_without_a_sandbox_have_no_netns_path():
    common = {"name": "p", "namespace": "ns", "uid": "u", "containers": {}}
    assert streaming.pod_info(host_network=True, netns=None, **common)["netns"] == ""
    assert streaming.pod_info(host_network=False, netns=None, **common)["netns"] == ""


def test_the_go_endpoint_is_started_as_the_kubelet_would_be_configured(tmp_path):
    endpoint = streaming.StreamingEndpoint(
        tmp_path / "controlplane",
        "10.244.0.1",
        cert=tmp_path / "kubelet.crt",
        key=tmp_path / "kubelet.key",
        client_ca=tmp_path / "ca.crt",
        agent_socket=tmp_path / "agent.sock",
    )
    argv = endpoint.argv()
    assert argv[:4] == ["setpriv", "--pdeathsig", "TERM", str(tmp_path / "controlplane")]
    assert argv[4] == "kubelet-streaming"
    assert "--listen=10.244.0.1:0" in argv
    assert f"--client-ca-file={tmp_path / 'ca.crt'}" in argv
    assert f"--agent-socket={tmp_path / 'agent.sock'}" in argv

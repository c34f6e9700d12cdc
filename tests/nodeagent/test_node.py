import datetime
import ipaddress
from pathlib import Path

from dask_kubernetes_dev.nodeagent import node
from dask_kubernetes_dev.nodeagent.config import AgentConfig

CONFIG = AgentConfig(
    kubeconfig=Path("/k"),
    node_name="local-node",
    state_dir=Path("/s"),
    bridge="dk0",
    pod_cidr=ipaddress.IPv4Network("10.244.0.0/16"),
    gateway=ipaddress.IPv4Address("10.244.0.1"),
    ca_file=Path("/ca"),
    api_server_port=6443,
)


def test_node_object_and_status():
    obj = node.node_object(CONFIG)
    assert obj["metadata"]["name"] == "local-node"
    assert obj["metadata"]["labels"]["kubernetes.io/hostname"] == "local-node"
    status = node.node_status(
        CONFIG,
        kubelet_version="v1.36.3",
        log_port=10250,
        since=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    )
    assert status["allocatable"] == {
        "cpu": "1000",
        "memory": "4Ti",
        "pods": "1000",
        "ephemeral-storage": "10Ti",
    }
    assert status["addresses"] == [{"type": "InternalIP", "address": "10.244.0.1"}]
    assert status["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 10250}}
    assert status["nodeInfo"]["kubeletVersion"] == "v1.36.3"
    ready = [c for c in status["conditions"] if c["type"] == "Ready"]
    assert ready[0]["status"] == "True"


def test_micro_time():
    value = datetime.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC)
    assert node.micro_time(value) == "2026-01-02T03:04:05.000006Z"

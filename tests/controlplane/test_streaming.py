"""kubectl exec, cp, attach and port-forward against the local node agent, through the API server."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from dask_kubernetes_dev import kubectl
from dask_kubernetes_dev.pytest_plugin import KubeTarget
from dask_kubernetes_dev.polling import wait_for
from tests.controlplane.helpers import apply, get, pod, scheduler, wait_phase

pytestmark = pytest.mark.cluster

def kubectl_popen(cluster: KubeTarget, *args: str, **kwargs) -> subprocess.Popen[str]:
    """Start the pinned kubectl in the background against ``cluster``."""
    return kubectl.popen(cluster.kubeconfig, *args, **kwargs)


@contextmanager
def port_forward(
    cluster: KubeTarget, namespace: str, target: str, port: int, pod_port: int | None = None
) -> Iterator[int]:
    """Run ``kubectl port-forward target :port``; yield the local port kubectl picked.

    ``pod_port`` is the Pod port kubectl should resolve a Service's port to.
    """
    proc = kubectl_popen(
        cluster,
        "port-forward", "-n", namespace, target, f":{port}", "--address=127.0.0.1",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)", line)
        assert match, (
            f"unexpected kubectl output {line!r}; stderr: {proc.stderr.read() if proc.stderr else ''}"
        )
        assert int(match.group(2)) == (pod_port or port)
        yield int(match.group(1))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # what Ctrl-C does
        _, errors = proc.communicate(timeout=60)
    assert proc.returncode == 0, errors
    assert "error" not in errors.lower(), errors


def http_get(port: int, path: str = "/") -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
        return resp.read().decode()


def try_http_get(port: int, path: str = "/") -> str | None:
    """The body, or ``None`` while the server in the Pod is not listening yet."""
    try:
        return http_get(port, path)
    except OSError:
        return None


def web_pod(name: str, token: str) -> dict:
    """A Pod serving ``token`` at / over HTTP on port 8000, bound to the Pod's loopback only.

    A server reachable only on 127.0.0.1 shows that the forward ends inside the Pod's
    network namespace, as the kubelet's does.
    """
    script = f"echo {token} > index.html && exec python -m http.server 8000 --bind 127.0.0.1"
    return pod(
        name,
        ["sh", "-c", script],
        labels={"app": name},
        container={"ports": [{"name": "http", "containerPort": 8000}]},
    )


def test_exec_runs_in_the_pod_with_its_env_hostname_and_volumes(k8s_cluster, namespace):
    manifest = pod(
        "shell",
        ["sh", "-c", "echo from-container > /data/file && exec sleep 3600"],
        hostname="custom-host",
        container={
            "env": [{"name": "GREETING", "value": "hello from the pod"}],
            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
        },
        volumes=[{"name": "data", "emptyDir": {}}],
    )
    apply(k8s_cluster, namespace, manifest)
    wait_phase(k8s_cluster, namespace, "shell", {"Running"})
    script = 'echo "$GREETING"; hostname; cat /data/file; echo oops >&2; exit 3'
    proc = k8s_cluster.kubectl("exec", "shell", "-n", namespace, "--", "sh", "-c", script, check=False)
    assert proc.stdout.splitlines() == ["hello from the pod", "custom-host", "from-container"]
    assert proc.returncode == 3
    assert "oops" in proc.stderr
    assert "command terminated with exit code 3" in proc.stderr

    ok = k8s_cluster.kubectl(
        "exec", "-i", "shell", "-n", namespace, "--", "sh", "-c", "tr a-z A-Z", input="abc\n"
    )
    assert ok.stdout == "ABC\n" and ok.returncode == 0

    missing = k8s_cluster.kubectl("exec", "shell", "-n", namespace, "--", "no-such-command", check=False)
    assert missing.returncode != 0
    assert "no-such-command" in missing.stderr


def test_exec_with_a_terminal(k8s_cluster, namespace):
    apply(k8s_cluster, namespace, pod("shell", ["sleep", "3600"]))
    wait_phase(k8s_cluster, namespace, "shell", {"Running"})
    primary, secondary = os.openpty()
    proc = kubectl_popen(
        k8s_cluster, "exec", "-it", "shell", "-n", namespace, "--", "sh", "-c", "tty; exit 4",
        stdin=secondary, stdout=secondary, stderr=secondary,
    )  # fmt: skip
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # EIO: kubectl closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(primary)
    assert proc.wait(timeout=60) == 4
    assert b"/dev/pts/" in output


def test_cp_into_and_out_of_a_pod(k8s_cluster, namespace, tmp_path):
    manifest = pod(
        "files",
        ["sleep", "3600"],
        container={"volumeMounts": [{"name": "data", "mountPath": "/data"}]},
        volumes=[{"name": "data", "emptyDir": {}}],
    )
    apply(k8s_cluster, namespace, manifest)
    wait_phase(k8s_cluster, namespace, "files", {"Running"})
    source = tmp_path / "in.txt"
    source.write_text("copied through tar over exec\n")
    k8s_cluster.kubectl("cp", str(source), f"{namespace}/files:/data/in.txt")
    inside = k8s_cluster.kubectl("exec", "files", "-n", namespace, "--", "cat", "/data/in.txt").stdout
    assert inside == "copied through tar over exec\n"
    k8s_cluster.kubectl("cp", f"{namespace}/files:/data/in.txt", str(tmp_path / "out.txt"))
    assert (tmp_path / "out.txt").read_text() == "copied through tar over exec\n"


def test_attach_follows_output_until_the_container_ends(k8s_cluster, namespace):
    script = "i=0; while [ ! -e stop ]; do echo tick $i; echo tock $i >&2; i=$((i+1)); sleep 0.2; done"
    apply(k8s_cluster, namespace, pod("ticker", ["sh", "-c", script], restartPolicy="Never"))
    wait_phase(k8s_cluster, namespace, "ticker", {"Running"})
    proc = kubectl_popen(
        k8s_cluster, "attach", "ticker", "-n", namespace, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("tick "), first
    k8s_cluster.kubectl("exec", "ticker", "-n", namespace, "--", "touch", "stop")
    rest, errors = proc.communicate(timeout=120)
    assert proc.returncode == 0, errors
    assert all(line.startswith("tick ") for line in rest.splitlines())
    assert "tock " in errors


def test_port_forward_to_a_pod_and_a_service(k8s_cluster, namespace):
    token = uuid.uuid4().hex
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]},
    }
    apply(k8s_cluster, namespace, web_pod("web", token), service)
    wait_phase(k8s_cluster, namespace, "web", {"Running"})
    with port_forward(k8s_cluster, namespace, "pod/web", 8000) as local:
        body = wait_for(lambda: try_http_get(local), timeout=120, what="the server in the Pod to answer")
        assert body.strip() == token
        assert http_get(local).strip() == token  # a second connection over the same forward
    with pytest.raises(OSError):
        http_get(local)  # kubectl stopped: nothing listens any more

    with port_forward(k8s_cluster, namespace, "svc/web", 80, pod_port=8000) as local:
        assert http_get(local).strip() == token
    # The Pod's server is unharmed by the forwards ending.
    fetch = "import urllib.request as u; print(u.urlopen('http://127.0.0.1:8000').read().decode())"
    again = k8s_cluster.kubectl("exec", "web", "-n", namespace, "--", "python", "-c", fetch)
    assert again.stdout.strip() == token


def test_port_forward_a_dask_client_to_a_scheduler_service(k8s_cluster, namespace):
    distributed = pytest.importorskip("distributed")
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "sched"},
        "spec": {
            "selector": {"app": "sched"},
            "ports": [{"name": "comm", "port": 8786, "targetPort": "tcp-comm"}],
        },
    }
    apply(k8s_cluster, namespace, scheduler("sched"), service)
    k8s_cluster.kubectl("wait", "--for=condition=Ready", "pod/sched", "-n", namespace, "--timeout=180s")
    with port_forward(k8s_cluster, namespace, "svc/sched", 8786) as local:
        with distributed.Client(f"tcp://127.0.0.1:{local}", timeout=60) as client:
            pod_ip = k8s_cluster.kubectl(
                "get", "pod", "sched", "-n", namespace, "-o", "jsonpath={.status.podIP}"
            ).stdout
            assert client.scheduler_info()["address"] == f"tcp://{pod_ip}:8786"
            address = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.address)
            assert address == f"tcp://{pod_ip}:8786"


def test_exec_into_a_container_that_is_not_running(k8s_cluster, namespace):
    manifest = pod("mixed", ["sleep", "3600"], restartPolicy="Never")
    manifest["spec"]["containers"].append({"name": "quick", "image": "x", "command": ["true"]})
    apply(k8s_cluster, namespace, manifest)

    def quick_done() -> bool:
        found = get(k8s_cluster, namespace, "pod", "mixed") or {}
        states = {c["name"]: c["state"] for c in found.get("status", {}).get("containerStatuses") or []}
        return "terminated" in states.get("quick", {}) and "running" in states.get("main", {})

    wait_for(quick_done, timeout=120, what="container quick to finish while main runs")
    proc = k8s_cluster.kubectl("exec", "mixed", "-c", "quick", "-n", namespace, "--", "true", check=False)
    assert proc.returncode != 0
    assert 'container "quick" in pod "mixed" is not running' in proc.stderr
    assert k8s_cluster.kubectl("exec", "mixed", "-c", "main", "-n", namespace, "--", "true").returncode == 0

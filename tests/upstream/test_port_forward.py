"""Port-forwarding to a cluster's scheduler: KubeCluster's forward path and `dask kubernetes port-forward`."""

from __future__ import annotations

import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from distributed import Client

from dask_kubernetes.operator import KubeCluster
from tests.operator.e2e.conftest import example, wait_ready

pytestmark = pytest.mark.cluster
BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def kubeconfig(dask_operator, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(dask_operator.kubeconfig))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_kubecluster_forwards_scheduler_and_dashboard(k):
    port = free_port()
    with KubeCluster(
        name="forwarded",
        namespace=k.namespace,
        n_workers=1,
        port_forward_cluster_ip=True,
        scheduler_forward_port=port,
        quiet=True,
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        assert cluster.forwarded_dashboard_port == str(port)
        assert f":{port}/" in cluster.dashboard_link
        with socket.create_connection(("127.0.0.1", port), timeout=10):
            pass  # the dashboard answers on the chosen local port
        with Client(cluster) as client:
            client.wait_for_workers(1, timeout=180)
            assert client.submit(lambda x: x + 1, 10).result(timeout=60) == 11


class Output:
    """Lines a subprocess prints, read by a thread.

    ``select`` on the pipe plus a buffered ``readline`` loses lines: one read can pull two
    lines into Python's buffer while ``select`` then waits on an empty pipe.
    """

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.thread = threading.Thread(target=self._pump, args=(proc,), daemon=True)
        self.thread.start()

    def _pump(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def read_until(self, pattern: str, timeout: float) -> re.Match[str]:
        """Consume lines until one matches ``pattern``; fail with everything seen if none does."""
        seen = ""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            seen += line
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"no {pattern!r} in the output of port-forward:\n{seen}")


def test_dask_kubernetes_port_forward_command(k):
    k.apply(example("cluster.yaml"))
    wait_ready(k, "daskcluster", "simple")
    proc = subprocess.Popen(
        [str(BIN / "dask"), "kubernetes", "port-forward", "simple"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**k.target.env(), "DASK_KUBERNETES__NAMESPACE": k.namespace},
    )
    out = Output(proc)
    try:
        address = out.read_until(r"Scheduler at: (tcp://127\.0\.0\.1:\d+)", 180).group(1)
        out.read_until(r"Dashboard at: http://127\.0\.0\.1:\d+", 30)
        with Client(address, timeout=60) as client:
            assert client.scheduler_info()["type"] == "Scheduler"
        proc.send_signal(signal.SIGINT)
        out.read_until("Shutting down port-forward", 30)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert k.get("daskcluster", "simple") is not None  # port-forward never deletes the cluster


def test_port_forward_to_a_missing_cluster_is_one_line(k):
    proc = subprocess.run(
        [str(BIN / "dask"), "kubernetes", "port-forward", "absent"],
        capture_output=True,
        text=True,
        env={**k.target.env(), "DASK_KUBERNETES__NAMESPACE": k.namespace},
        timeout=120,
    )
    assert proc.returncode == 1
    assert "No such cluster absent" in proc.stderr
    assert "Traceback" not in proc.stderr

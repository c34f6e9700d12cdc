"""Stopping a control plane leaves no Pod process, network namespace, veth or bridge behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from dask_kubernetes_dev import kubectl
from dask_kubernetes_dev.pytest_plugin import KubeTarget
from dask_kubernetes_dev.polling import wait_for
from tests.controlplane.helpers import apply, pod, processes_with, wait_phase

pytestmark = pytest.mark.cluster


def netns_names() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def links() -> str:
    return subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout


def test_stop_removes_every_process_netns_and_device(k8s_cluster):
    if k8s_cluster.backend != "local":
        pytest.skip("only the local control plane has a node agent to check")
    from dask_kubernetes_dev.binary import control_plane_binary
    from dask_kubernetes_dev.controlplane import ControlPlane
    from dask_kubernetes_dev.pytest_plugin import free_network

    # A bridge and subnet of its own: the session's control plane keeps running.
    network = free_network()
    bridge = network.bridge
    workdir = Path(tempfile.mkdtemp(prefix="dask-k8s-cleanup-"))
    plane = ControlPlane(workdir, control_plane_binary(), network=network)
    marker = f"cleanup-{uuid.uuid4().hex}"
    try:
        plane.start()
        cluster = KubeTarget(kubeconfig=plane.kubeconfig, backend="local", control_plane=plane)
        apply(
            cluster,
            "default",
            *[pod(f"p{i}", ["python", "-c", "import time; time.sleep(3600)", marker]) for i in (1, 2)],
        )
        for name in ("p1", "p2"):
            wait_phase(cluster, "default", name, {"Running"})
        wait_for(lambda: len(processes_with(marker)) == 2, timeout=120, what="both Pod processes to run")
        # A command started by `kubectl exec` that is still running when the plane stops.
        command = ["python", "-c", "import time; time.sleep(3600)", f"{marker}-exec"]
        exec_proc = kubectl.popen(
            cluster.kubeconfig,
            "exec",
            "p1",
            "--",
            *command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        exec_pattern = f"^python .*{marker}-exec$"  # not kubectl's own command line
        wait_for(
            lambda: len(processes_with(exec_pattern)) == 1, timeout=120, what="the exec'd command to run"
        )
        streaming = processes_with(f"kubelet-streaming --listen={network.gateway}:")
        assert len(streaming) == 1, streaming
        assert len([n for n in netns_names() if n.startswith(f"{bridge}-")]) == 2
        assert f" {bridge}:" in links()
    finally:
        plane.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    exec_proc.wait(timeout=60)
    assert processes_with(marker) == []
    assert processes_with(f"kubelet-streaming --listen={network.gateway}:") == []
    assert [n for n in netns_names() if n.startswith(f"{bridge}-")] == []
    assert f" {bridge}:" not in links()
    assert f" {bridge[:8]}v" not in links()
    leftovers = os.listdir("/etc/netns") if os.path.isdir("/etc/netns") else []
    assert [name for name in leftovers if name.startswith(f"{bridge}-")] == []

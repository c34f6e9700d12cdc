"""Stopping a control plane leaves no Pod process, network namespace, veth or bridge behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from dask_kubernetes.testing.plugin import KubeTarget
from tests.controlplane.helpers import apply, pod, processes_with, wait_for, wait_phase

pytestmark = pytest.mark.cluster



def netns_names() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def links() -> str:
    return subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout


def test_stop_removes_every_process_netns_and_device(k8s_cluster):
    if k8s_cluster.backend != "local":
        pytest.skip("only the local control plane has a node agent to check")
    from dask_kubernetes.testing.binary import control_plane_binary
    from dask_kubernetes.testing.controlplane import ControlPlane
    from dask_kubernetes.testing.plugin import free_network

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
        wait_for(lambda: len(processes_with(marker)) == 2, "both Pod processes to run")
        assert len([n for n in netns_names() if n.startswith(f"{bridge}-")]) == 2
        assert f" {bridge}:" in links()
    finally:
        plane.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    assert processes_with(marker) == []
    assert [n for n in netns_names() if n.startswith(f"{bridge}-")] == []
    assert f" {bridge}:" not in links()
    assert f" {bridge[:8]}v" not in links()
    leftovers = os.listdir("/etc/netns") if os.path.isdir("/etc/netns") else []
    assert [name for name in leftovers if name.startswith(f"{bridge}-")] == []

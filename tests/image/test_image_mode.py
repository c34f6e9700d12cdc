"""End to end in image mode: the chart's operator and webhook run inside the built image.

A control plane of its own whose node agent has the image store: the operator and
webhook Pods (image ghcr.io/dask-kubernetes/dask-kubernetes, in the store) run in the
image's root filesystem as the chart's user, with the image's Python; the Dask Pods
(ghcr.io/dask/dask, not in the store) run from this environment as usual.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from dask_kubernetes_dev import install
from dask_kubernetes_dev.image.build import BuiltImage
from dask_kubernetes_dev.pytest_plugin import KubeTarget, free_network
from dask_kubernetes_dev.tools import PROJECT_ROOT
from tests.operator.e2e.conftest import Kubectl, example, wait_ready

# A cold image build (minutes) may happen in this setup; the timeout only bounds a hang.
pytestmark = [pytest.mark.cluster, pytest.mark.image, pytest.mark.timeout(1800)]

OPERATOR_NAMESPACE = "dask-operator"


@pytest.fixture(scope="module")
def image_cluster(built_image: BuiltImage) -> Iterator[KubeTarget]:
    from dask_kubernetes_dev.binary import control_plane_binary
    from dask_kubernetes_dev.controlplane import ControlPlane

    sessions = PROJECT_ROOT / ".cache" / "sessions"
    sessions.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="cp-image-", dir=sessions))
    plane = ControlPlane(
        workdir,
        control_plane_binary(),
        network=free_network(),
        die_with_parent=True,
        image_store=built_image.store,
    )
    plane.start()
    try:
        install.install(plane.kubeconfig, OPERATOR_NAMESPACE, timeout=600)
        yield KubeTarget(kubeconfig=plane.kubeconfig, backend="local", control_plane=plane)
    finally:
        plane.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def processes_in_image(state_dir: Path, container: str) -> list[tuple[int, int, str]]:
    """(pid, uid, executable) of every process whose root is a container's image mount point."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            root = os.readlink(f"/proc/{pid}/root")
            exe = os.readlink(f"/proc/{pid}/exe")
            uid = next(
                int(line.split()[1])
                for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                if line.startswith("Uid:")
            )
        except (OSError, StopIteration):
            continue
        if root.startswith(str(state_dir)) and root.endswith(f"/roots/{container}"):
            found.append((int(pid), uid, exe))
    return found


def test_operator_in_its_image_reconciles_a_daskcluster_to_ready(image_cluster: KubeTarget):
    plane = image_cluster.control_plane
    image_cluster.kubectl("create", "namespace", "image-mode")
    k = Kubectl(image_cluster, "image-mode")
    k.apply(example("cluster.yaml"))
    cluster = wait_ready(k, "daskcluster", "simple", timeout=300)
    assert cluster["status"]["phase"] == "Running"

    state_dir = plane.node_state_dir  # type: ignore[union-attr]
    operator = processes_in_image(state_dir, "operator")
    webhook = processes_in_image(state_dir, "webhook")
    # The chart's securityContext says runAsUser 1000; the image's own python runs, not this venv's.
    assert operator and {uid for _, uid, _ in operator} == {1000}
    assert webhook and {uid for _, uid, _ in webhook} == {1000}
    assert all("/usr/bin/python3" in exe and ".pyenv" not in exe for _, _, exe in operator + webhook)
    # The Dask Pods' image is not in the store: they ran from this environment, outside any image root.
    assert processes_in_image(state_dir, "scheduler") == []

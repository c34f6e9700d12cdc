"""pytest plugin: one local control plane per session, a fresh namespace per test.

Opt-in: a plain install of dask-kubernetes adds nothing to pytest.  Install the
``testing`` extra and enable it with ``pytest -p dask_kubernetes_dev.pytest_plugin`` (this
repository does so in its ``addopts``); then any test can ask for the ``k8s_cluster``
fixture (a :class:`KubeTarget`) and ``namespace``; ``workload_cluster`` is a second control
plane with workload-aware scheduling on, and ``kueue_cluster`` the same with Kueue.  The backend is
chosen with ``--backend``: ``local`` (default) builds and starts the control plane
from ``controlplane/``; ``kind`` uses pytest-kind where Docker exists and is skipped
with a reason where it does not.  ``--keep-control-plane`` leaves the session's
control plane running for debugging.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dask_kubernetes_dev import kubectl
from dask_kubernetes_dev.controlplane import Network
from dask_kubernetes_dev.polling import wait_for
from dask_kubernetes_dev.tools import PROJECT_ROOT


@dataclass
class KubeTarget:
    """What a test needs to reach a cluster: a kubeconfig, and the control plane when local."""

    kubeconfig: Path
    backend: str
    control_plane: object | None = None

    def env(self) -> dict[str, str]:
        """The process environment with KUBECONFIG pointing at this cluster."""
        return kubectl.env(self.kubeconfig)

    def kubectl(
        self, *args: str, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run the pinned kubectl against this cluster (see :func:`dask_kubernetes_dev.kubectl.run`)."""
        return kubectl.run(self.kubeconfig, *args, check=check, input=input)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--backend``, ``--keep-control-plane``, ``--image-store`` and ``--kubeconfig``."""
    group = parser.getgroup("dask-kubernetes")
    group.addoption("--backend", choices=["local", "kind"], default="local", help="cluster backend for tests")
    group.addoption("--keep-control-plane", action="store_true", help="leave the local control plane running")
    group.addoption(
        "--image-store",
        default=os.environ.get("DASK_K8S_IMAGE_STORE") or None,
        help="image mode of the node agent: Pods whose image is in this OCI layout run inside it",
    )
    group.addoption(
        "--kubeconfig",
        default=None,
        help="use the cluster of this kubeconfig (e.g. `dask-kubernetes local up`) instead of starting one",
    )


def free_network() -> Network:
    """Pick a bridge and pod subnet that no other control plane on this machine uses.

    Random rather than first-free: two test runs starting at the same moment must
    not pick the same bridge, because an agent clears its bridge's namespaces.
    """
    used_links = set(os.listdir("/sys/class/net")) if os.path.isdir("/sys/class/net") else set()
    routes = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True).stdout
    reserved = {96, 243, 244}  # the service range, `local up` and the harness default
    candidates = [n for n in range(20, 240) if n not in reserved]
    for second in random.sample(candidates, len(candidates)):
        bridge = f"dkt{second}"
        if bridge not in used_links and f"10.{second}.0.0/16" not in routes:
            return Network(bridge=bridge, pod_cidr=f"10.{second}.0.0/16", gateway=f"10.{second}.0.1")
    raise RuntimeError("no free pod subnet 10.20-239.0.0/16: stop old control planes first")


def _start_local(
    request: pytest.FixtureRequest, *, workload_scheduling: bool = False
) -> Iterator[KubeTarget]:
    from dask_kubernetes_dev.binary import BuildError, control_plane_binary
    from dask_kubernetes_dev.controlplane import ControlPlane

    if os.geteuid() != 0:
        pytest.skip("the local node agent needs root to create network namespaces")
    try:
        binary = control_plane_binary()
    except BuildError as exc:
        pytest.fail(str(exc), pytrace=False)
    # Not under /tmp: a Pod's emptyDir at /tmp must not hide the node agent's state dir.
    sessions = PROJECT_ROOT / ".cache" / "sessions"
    sessions.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="cp-", dir=sessions))
    store = request.config.getoption("--image-store")
    plane = ControlPlane(
        workdir,
        binary,
        network=free_network(),
        die_with_parent=True,
        image_store=Path(store) if store else None,
        workload_scheduling=workload_scheduling,
    )
    plane.start()
    try:
        yield KubeTarget(kubeconfig=plane.kubeconfig, backend="local", control_plane=plane)
    finally:
        if request.config.getoption("--keep-control-plane"):
            print(f"\ncontrol plane left running: export KUBECONFIG={plane.kubeconfig}")
        else:
            plane.stop()
            shutil.rmtree(workdir, ignore_errors=True)


def _start_kind(request: pytest.FixtureRequest) -> Iterator[KubeTarget]:
    if (
        shutil.which("docker") is None
        or subprocess.run(["docker", "info"], capture_output=True).returncode != 0
    ):
        pytest.skip("--backend=kind needs a running Docker engine, and there is none here")
    kind_cluster = request.getfixturevalue("kind_cluster")  # from pytest-kind
    yield KubeTarget(kubeconfig=Path(kind_cluster.kubeconfig_path), backend="kind")


@pytest.fixture(scope="session")
def k8s_cluster(request: pytest.FixtureRequest) -> Iterator[KubeTarget]:
    """A real Kubernetes API for the whole session."""
    existing = request.config.getoption("--kubeconfig")
    if existing:
        yield KubeTarget(kubeconfig=Path(existing).resolve(), backend="existing")
    elif request.config.getoption("--backend") == "kind":
        yield from _start_kind(request)
    else:
        yield from _start_local(request)


@pytest.fixture(scope="session")
def workload_cluster(request: pytest.FixtureRequest) -> Iterator[KubeTarget]:
    """A second local control plane with workload-aware scheduling on (alpha in Kubernetes 1.36).

    Its API server serves ``scheduling.k8s.io/v1alpha2`` (PodGroup, Workload) and its
    kube-scheduler places gangs; the session's ``k8s_cluster`` keeps the defaults of a
    real cluster.  Only the local backend can turn the gates on.
    """
    if request.config.getoption("--kubeconfig") or request.config.getoption("--backend") != "local":
        pytest.skip("workload-aware scheduling needs the local control plane's feature gates")
    yield from _start_local(request, workload_scheduling=True)


@pytest.fixture(scope="session")
def kueue_cluster(workload_cluster: KubeTarget) -> KubeTarget:
    """``workload_cluster`` with a real Kueue v0.17.0 installed (:mod:`dask_kubernetes_dev.kueue`).

    Its manager runs as a Pod under the node agent with Kueue's own RBAC and webhooks;
    Jobs labelled ``kueue.x-k8s.io/queue-name`` and our DaskJobs and DaskClusters (as
    external frameworks) are queued.  Building Kueue the first time takes minutes.
    """
    from dask_kubernetes_dev import kueue

    try:
        kueue.install(workload_cluster.kubeconfig)
    except (kueue.KueueError, kubectl.KubectlError) as exc:
        pytest.fail(str(exc), pytrace=False)
    return workload_cluster


@pytest.fixture
def namespace(k8s_cluster: KubeTarget) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards; its default ServiceAccount exists."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    k8s_cluster.kubectl("create", "namespace", name)
    wait_for(
        lambda: (
            k8s_cluster.kubectl("get", "serviceaccount", "default", "-n", name, check=False).returncode == 0
        ),
        timeout=60,
        interval=0.2,
        what=f"the default ServiceAccount of {name}",
    )
    yield name
    k8s_cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)

"""Shared fixtures: project paths, the generated CRDs and the pinned helm/kubectl."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from dask_kubernetes import yamlio
from dask_kubernetes_dev import tools as _tools
from dask_kubernetes_dev.crdschema import CRDValidator

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "charts" / "dask-kubernetes-operator"
CRD_DIR = ROOT / "overlays" / "base" / "crds"


def load_docs(path: Path) -> list[dict[str, Any]]:
    """Load every document of a YAML file."""
    return yamlio.load_all(path.read_text())


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def crds() -> dict[str, dict[str, Any]]:
    """The generated CRDs, keyed by kind."""
    found = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        (crd,) = load_docs(path)
        found[crd["spec"]["names"]["kind"]] = crd
    return found


@pytest.fixture(scope="session")
def validators(crds: dict[str, dict[str, Any]]) -> dict[str, CRDValidator]:
    return {kind: CRDValidator(crd) for kind, crd in crds.items()}


@pytest.fixture(scope="session")
def helm() -> str:
    return _tools.find("helm")


@pytest.fixture(scope="session")
def kubectl() -> str:
    return _tools.find("kubectl")


def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command and capture its text output."""
    return subprocess.run(cmd, capture_output=True, text=True, **kwargs)


# The plugin's fixtures that start (or reach) a control plane.
CLUSTER_FIXTURES = frozenset({"k8s_cluster", "workload_cluster", "kueue_cluster"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that reaches a cluster (``k8s_cluster``, ``workload_cluster``) with ``cluster``.

    So ``pytest -m "not cluster"`` runs the fast tier with no control plane.  Such
    tests also get one rerun (pytest-rerunfailures), reported in the summary.
    """
    for item in items:
        if CLUSTER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.cluster)
        if item.get_closest_marker("cluster") is not None:
            # One more try for an end-to-end test that fails on a loaded 2-core machine
            # (a timeout waiting for Pods); the summary lists every rerun (R), and a test
            # that fails twice fails the run.
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=5))

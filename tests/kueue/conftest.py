"""Fixtures of the Kueue and gang-scheduling tests: the Kueue build and fresh namespaces."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dask_kubernetes_dev import kueue
from dask_kubernetes_dev.polling import wait_for
from dask_kubernetes_dev.pytest_plugin import KubeTarget


@pytest.fixture(scope="session")
def kueue_folder() -> Path:
    """The cached Kueue build (binary and shipped manifests), built on first use."""
    try:
        return kueue.kueue_build()
    except kueue.KueueError as exc:
        pytest.fail(str(exc), pytrace=False)


def _fresh_namespace(cluster: KubeTarget) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    cluster.kubectl("create", "namespace", name)
    wait_for(
        lambda: cluster.kubectl("get", "serviceaccount", "default", "-n", name, check=False).returncode == 0,
        timeout=60,
        what=f"the default ServiceAccount of {name}",
    )
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def kueue_namespace(kueue_cluster: KubeTarget) -> Iterator[str]:
    """A fresh namespace in the cluster with Kueue, deleted afterwards."""
    yield from _fresh_namespace(kueue_cluster)


@pytest.fixture
def gang_namespace(workload_cluster: KubeTarget) -> Iterator[str]:
    """A fresh namespace in the cluster with workload-aware scheduling, deleted afterwards."""
    yield from _fresh_namespace(workload_cluster)

"""The kstatus helper runs the real library: its answers for hand-made statuses are kstatus's rules."""

from __future__ import annotations

import pytest

from dask_kubernetes_dev.gohelpers import GoHelperError
from dask_kubernetes_dev.kstatus import kstatus


def _cluster(generation: int, observed: int | None, *conditions: dict, **metadata) -> dict:
    status: dict = {"conditions": list(conditions)}
    if observed is not None:
        status["observedGeneration"] = observed
    return {
        "apiVersion": "kubernetes.dask.org/v1",
        "kind": "DaskCluster",
        "metadata": {"name": "c", "namespace": "ns", "generation": generation, **metadata},
        "status": status,
    }


def _cond(type_: str, status: str, message: str = "", reason: str = "Test") -> dict:
    return {"type": type_, "status": status, "reason": reason, "message": message}


def test_missing_object_is_not_found() -> None:
    assert kstatus(None)[0] == "NotFound"


def test_ready_and_observed_is_current() -> None:
    obj = _cluster(3, 3, _cond("Ready", "True", "cluster is ready"))
    assert kstatus(obj)[0] == "Current"


def test_unobserved_generation_is_in_progress() -> None:
    status, message = kstatus(_cluster(4, 3, _cond("Ready", "True")))
    assert status == "InProgress"
    assert "generation is 4" in message


def test_reconciling_is_in_progress_with_its_message() -> None:
    obj = _cluster(1, 1, _cond("Reconciling", "True", "waiting for the scheduler"))
    assert kstatus(obj) == ("InProgress", "waiting for the scheduler")


def test_stalled_is_failed_with_its_message() -> None:
    obj = _cluster(1, 1, _cond("Stalled", "True", "spec.worker.replicas must be >= 0"))
    assert kstatus(obj) == ("Failed", "spec.worker.replicas must be >= 0")


def test_deleting_is_terminating() -> None:
    obj = _cluster(1, 1, _cond("Ready", "True"), deletionTimestamp="2026-01-01T00:00:00Z")
    assert kstatus(obj)[0] == "Terminating"


def test_not_an_object_is_a_clear_error() -> None:
    with pytest.raises(GoHelperError, match="not a JSON or YAML object"):
        kstatus([1, 2])  # type: ignore[arg-type]

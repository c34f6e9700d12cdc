"""Every health_test.yaml case of our Argo CD health check passes under gopher-lua.

This is how Argo CD tests its own resource_customizations: each case names a testdata
object (captured from the real operator) and the health status and message expected.
One script in the wildcard folder ``kubernetes.dask.org/_`` serves every kind, so its
one ``health_test.yaml`` holds the cases of all four, named ``<kind-lowercase>-<case>``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dask_kubernetes import yamlio
from dask_kubernetes.api import constants
from dask_kubernetes_dev.generator import argocd
from dask_kubernetes_dev.luahealth import HEALTH_DIR, SCRIPT, TESTS, luahealth
from tests.conftest import ROOT

KINDS = (constants.KIND_CLUSTER, constants.KIND_WORKER_GROUP, constants.KIND_JOB, constants.KIND_AUTOSCALER)


def _cases() -> list[tuple[str, Path, dict]]:
    """``(kind, testdata path, expected)`` of each case; the kind is the file name's prefix."""
    by_prefix = {kind.lower(): kind for kind in KINDS}
    found = []
    for case in yamlio.load_all(TESTS.read_text())[0]["tests"]:
        kind = by_prefix[Path(case["inputPath"]).stem.split("-", 1)[0]]
        found.append((kind, HEALTH_DIR / case["inputPath"], case["healthStatus"]))
    return found


def _statuses(kind: str) -> set[str]:
    return {expected["status"] for k, _, expected in _cases() if k == kind}


@pytest.mark.parametrize(("kind", "path", "expected"), _cases(), ids=lambda v: getattr(v, "stem", None))
def test_case(kind: str, path: Path, expected: dict) -> None:
    (obj,) = yamlio.load_all(path.read_text())
    assert obj["kind"] == kind
    status, message = luahealth(obj)
    assert {"status": status, "message": message} == expected


def test_every_kind_has_a_case_and_every_case_a_kind() -> None:
    assert {kind for kind, _, _ in _cases()} == set(KINDS)
    assert len({path for _, path, _ in _cases()}) == len(_cases())


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_healthy_progressing_and_degraded_cases(kind: str) -> None:
    assert _statuses(kind) >= {"Healthy", "Progressing", "Degraded"}


def test_script_uses_no_standard_library_module() -> None:
    # luahealth opens only the base library; this also keeps the modules out of the text.
    script = SCRIPT.read_text()
    for module in ("string.", "table.", "os.", "io.", "math.", "require"):
        assert module not in script


def test_argocd_cm_holds_the_one_script_for_each_kind() -> None:
    (cm,) = yamlio.load_all((ROOT / "overlays" / "argocd" / "argocd-cm.yaml").read_text())
    script = SCRIPT.read_text()
    assert SCRIPT == ROOT / argocd.HEALTH_PATH
    for kind in KINDS:
        assert cm["data"][f"resource.customizations.health.kubernetes.dask.org_{kind}"] == script


def _object(kind: str, **status: object) -> dict:
    return {
        "apiVersion": "kubernetes.dask.org/v1",
        "kind": kind,
        "metadata": {"name": "o", "generation": 1},
        "status": {"observedGeneration": 1, **status},
    }


def test_deleting_object_is_progressing() -> None:
    obj = {
        "apiVersion": "kubernetes.dask.org/v1",
        "kind": "DaskCluster",
        "metadata": {"name": "c", "generation": 1, "deletionTimestamp": "2026-01-01T00:00:00Z"},
        "status": {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True"}]},
    }
    assert luahealth(obj) == ("Progressing", "DaskCluster is being deleted")


@pytest.mark.parametrize("kind", KINDS)
def test_messages_name_the_objects_own_kind(kind: str) -> None:
    deleting = _object(kind)
    deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert luahealth(deleting) == ("Progressing", f"{kind} is being deleted")
    new = {**_object(kind), "status": None}
    assert luahealth(new) == ("Progressing", f"Waiting for the operator to reconcile the {kind}")
    not_ready = _object(kind, conditions=[{"type": "Ready", "status": "False"}])
    assert luahealth(not_ready) == ("Progressing", f"Waiting for the {kind} to be Ready")


@pytest.mark.parametrize("kind", [k for k in KINDS if k != constants.KIND_JOB])
def test_only_a_daskjob_is_judged_by_its_job_status(kind: str) -> None:
    stalled = {"type": "Stalled", "status": "True", "message": "m"}
    assert luahealth(_object(kind, jobStatus="Successful", conditions=[stalled])) == ("Degraded", "m")
    obj = _object(kind, jobStatus="Failed", conditions=[{"type": "Ready", "status": "True", "message": "m"}])
    assert luahealth(obj) == ("Healthy", "m")
    job = {**obj, "kind": constants.KIND_JOB}
    assert luahealth(job) == ("Degraded", "The job's runner Pod failed")


def test_conditions_without_a_type_are_ignored_and_the_last_of_a_type_counts() -> None:
    untyped = {"status": "True", "message": "no type"}
    ready = [{"type": "Ready", "status": "False"}, {"type": "Ready", "status": "True", "message": "last"}]
    assert luahealth(_object("DaskCluster", conditions=[untyped, *ready])) == ("Healthy", "last")
    # Reconciling outranks Stalled, which outranks Ready, whatever their order in the list.
    stalled = {"type": "Stalled", "status": "True", "message": "stalled"}
    reconciling = {"type": "Reconciling", "status": "True", "message": "reconciling"}
    assert luahealth(_object("DaskCluster", conditions=[*ready, stalled])) == ("Degraded", "stalled")
    obj = _object("DaskCluster", conditions=[*ready, stalled, reconciling])
    assert luahealth(obj) == ("Progressing", "reconciling")


SUSPENDED = {"type": "Suspended", "status": "True", "reason": "Suspended", "message": "no Pod runs"}
NOT_READY = {"type": "Ready", "status": "False", "reason": "Suspended", "message": "no Pod runs"}
NOT_RECONCILING = {"type": "Reconciling", "status": "False", "reason": "Reconciled", "message": ""}


@pytest.mark.parametrize("kind", KINDS)
def test_a_suspended_resource_that_is_not_reconciling_is_argos_suspended(kind: str) -> None:
    assert luahealth(_object(kind, conditions=[NOT_READY, NOT_RECONCILING, SUSPENDED])) == (
        "Suspended",
        "no Pod runs",
    )
    # No Reconciling condition at all counts as not reconciling; an empty message is replaced.
    quiet = {**SUSPENDED, "message": ""}
    assert luahealth(_object(kind, conditions=[quiet])) == (
        "Suspended",
        f"{kind} is suspended (spec.suspend)",
    )


def test_suspended_but_still_reconciling_is_progressing() -> None:
    reconciling = {"type": "Reconciling", "status": "True", "message": "deleting the runner"}
    obj = _object("DaskJob", jobStatus="Suspended", conditions=[NOT_READY, reconciling, SUSPENDED])
    assert luahealth(obj) == ("Progressing", "deleting the runner")


def test_suspending_is_progressing_with_the_suspended_conditions_message() -> None:
    suspending = {"type": "Suspended", "status": "False", "reason": "Suspending", "message": "2 Pod(s) left"}
    # Even were Stalled True, a resource whose Pods are being deleted is on its way.
    stalled = {"type": "Stalled", "status": "True", "message": "stalled"}
    for conds in ([suspending, NOT_READY], [suspending, stalled]):
        assert luahealth(_object("DaskCluster", conditions=conds)) == ("Progressing", "2 Pod(s) left")


def test_resumed_is_judged_by_the_kstatus_conditions() -> None:
    resumed = {
        "type": "Suspended",
        "status": "False",
        "reason": "Resumed",
        "message": "spec.suspend is false",
    }
    ready = {"type": "Ready", "status": "True", "message": "scheduler ready"}
    assert luahealth(_object("DaskCluster", conditions=[resumed, ready])) == ("Healthy", "scheduler ready")
    waiting = {"type": "Ready", "status": "False", "message": "waiting for the scheduler Pod"}
    reconciling = {"type": "Reconciling", "status": "True", "message": "waiting for the scheduler Pod"}
    obj = _object("DaskCluster", conditions=[resumed, waiting, reconciling])
    assert luahealth(obj) == ("Progressing", "waiting for the scheduler Pod")


def test_deletion_and_an_unobserved_generation_come_before_suspension() -> None:
    deleting = _object("DaskCluster", conditions=[SUSPENDED])
    deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert luahealth(deleting) == ("Progressing", "DaskCluster is being deleted")
    unobserved = _object("DaskCluster", conditions=[SUSPENDED])
    unobserved["metadata"]["generation"] = 2
    assert luahealth(unobserved) == ("Progressing", "Waiting for the operator to observe generation 2")
    # A DaskJob that ended is judged by its end, whatever its conditions say.
    ended = _object("DaskJob", jobStatus="Successful", conditions=[SUSPENDED])
    assert luahealth(ended) == ("Healthy", "The job's runner Pod succeeded")

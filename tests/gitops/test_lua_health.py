"""Every health_test.yaml case of our Argo CD health checks passes under gopher-lua.

This is how Argo CD tests its own resource_customizations: each case names a testdata
object (captured from the real operator) and the health status and message expected.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dask_kubernetes import yamlio
from dask_kubernetes.api import constants
from dask_kubernetes_dev.luahealth import kind_dir, luahealth

KINDS = (constants.KIND_CLUSTER, constants.KIND_WORKER_GROUP, constants.KIND_JOB, constants.KIND_AUTOSCALER)


def _cases() -> list[tuple[str, Path, dict]]:
    found = []
    for kind in KINDS:
        tests = yamlio.load_all((kind_dir(kind) / "health_test.yaml").read_text())[0]["tests"]
        found += [(kind, kind_dir(kind) / case["inputPath"], case["healthStatus"]) for case in tests]
    return found


@pytest.mark.parametrize(("kind", "path", "expected"), _cases(), ids=lambda v: getattr(v, "stem", None))
def test_case(kind: str, path: Path, expected: dict) -> None:
    (obj,) = yamlio.load_all(path.read_text())
    assert obj["kind"] == kind
    status, message = luahealth(obj)
    assert {"status": status, "message": message} == expected


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_healthy_progressing_and_degraded_cases(kind: str) -> None:
    tests = yamlio.load_all((kind_dir(kind) / "health_test.yaml").read_text())[0]["tests"]
    assert {case["healthStatus"]["status"] for case in tests} >= {"Healthy", "Progressing", "Degraded"}


@pytest.mark.parametrize("kind", KINDS)
def test_scripts_use_no_standard_library_module(kind: str) -> None:
    # luahealth opens only the base library; this also keeps the modules out of the text.
    script = (kind_dir(kind) / "health.lua").read_text()
    for module in ("string.", "table.", "os.", "io.", "math.", "require"):
        assert module not in script


def test_deleting_object_is_progressing() -> None:
    obj = {
        "apiVersion": "kubernetes.dask.org/v1",
        "kind": "DaskCluster",
        "metadata": {"name": "c", "generation": 1, "deletionTimestamp": "2026-01-01T00:00:00Z"},
        "status": {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True"}]},
    }
    assert luahealth(obj) == ("Progressing", "DaskCluster is being deleted")

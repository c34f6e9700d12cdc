"""Record live objects as the testdata of our Argo CD health check (``health_test.yaml``).

The health check's test cases are objects the real operator wrote on the real control
plane, captured by ``tests/gitops/test_health_live.py``.  Run it with
``DASK_K8S_REFRESH_HEALTH_TESTDATA=1`` to rewrite them after the operator's statuses change.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from dask_kubernetes import yamlio
from dask_kubernetes_dev.luahealth import HEALTH_DIR, TESTS

REFRESH_ENV = "DASK_K8S_REFRESH_HEALTH_TESTDATA"
HEADER = (
    "# Captured from the real control plane by tests/gitops/test_health_live.py;\n"
    f"# refresh with {REFRESH_ENV}=1 (see docs/gitops.md).\n"
)


def refreshing() -> bool:
    """Tell whether this run should rewrite the testdata."""
    return os.environ.get(REFRESH_ENV, "") not in ("", "0")


def clean(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as a user would read it: without managedFields, which only add noise."""
    out = copy.deepcopy(obj)
    out.get("metadata", {}).pop("managedFields", None)
    return out


def input_path(kind: str, case: str) -> str:
    """The ``inputPath`` of one kind's case: ``testdata/<kind-lowercase>-<case>.yaml``.

    All kinds share the one ``_`` folder, so the kind is part of the name.
    """
    return f"testdata/{kind.lower()}-{case}.yaml"


def record(case: str, obj: dict[str, Any], status: str, message: str) -> None:
    """Write ``obj`` as the testdata of its kind's ``case`` and set that case in health_test.yaml."""
    path = input_path(obj["kind"], case)
    (HEALTH_DIR / "testdata").mkdir(parents=True, exist_ok=True)
    (HEALTH_DIR / path).write_text(HEADER + yamlio.dump(clean(obj)))
    tests = yamlio.load_all(TESTS.read_text())[0]["tests"] if TESTS.exists() else []
    tests = [t for t in tests if t["inputPath"] != path]
    tests.append({"healthStatus": {"status": status, "message": message}, "inputPath": path})
    tests.sort(key=lambda t: t["inputPath"])
    TESTS.write_text(yamlio.dump({"tests": tests}))

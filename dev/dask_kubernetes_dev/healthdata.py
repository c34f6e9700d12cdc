"""Record live objects as the testdata of our Argo CD health checks (``health_test.yaml``).

The health checks' test cases are objects the real operator wrote on the real control
plane, captured by ``tests/gitops/test_health_live.py``.  Run it with
``DASK_K8S_REFRESH_HEALTH_TESTDATA=1`` to rewrite them after the operator's statuses change.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from dask_kubernetes import yamlio
from dask_kubernetes_dev.luahealth import kind_dir

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


def record(case: str, obj: dict[str, Any], status: str, message: str) -> None:
    """Write ``obj`` as ``testdata/<case>.yaml`` of its kind and set its case in health_test.yaml."""
    folder = kind_dir(obj["kind"])
    (folder / "testdata").mkdir(parents=True, exist_ok=True)
    input_path = f"testdata/{case}.yaml"
    (folder / input_path).write_text(HEADER + yamlio.dump(clean(obj)))
    tests_file = folder / "health_test.yaml"
    tests = yamlio.load_all(tests_file.read_text())[0]["tests"] if tests_file.exists() else []
    tests = [t for t in tests if t["inputPath"] != input_path]
    tests.append({"healthStatus": {"status": status, "message": message}, "inputPath": input_path})
    tests.sort(key=lambda t: t["inputPath"])
    tests_file.write_text(yamlio.dump({"tests": tests}))

"""Run our Argo CD health checks (``resource_customizations/``) under gopher-lua, as Argo CD does.

The scripts live in Argo CD's own layout, ``<group>/<Kind>/health.lua`` beside a
``health_test.yaml`` and ``testdata/``, so they can be contributed to Argo CD as they
are.  The Go helper ``gohelpers/cmd/luahealth`` is the interpreter Argo CD embeds.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from dask_kubernetes.api import constants
from dask_kubernetes_dev.gohelpers import GoHelperError, helper
from dask_kubernetes_dev.tools import PROJECT_ROOT

CUSTOMIZATIONS = PROJECT_ROOT / "resource_customizations" / constants.GROUP


def kind_dir(kind: str) -> Path:
    """The folder of one kind's health check: ``resource_customizations/<group>/<Kind>``."""
    return CUSTOMIZATIONS / kind


def luahealth(obj: dict[str, Any], script: Path | None = None) -> tuple[str, str]:
    """Return Argo CD's ``(status, message)`` for ``obj``, by its kind's health.lua (or ``script``)."""
    path = script or kind_dir(obj["kind"]) / "health.lua"
    proc = subprocess.run(
        [str(helper("luahealth")), str(path)], input=json.dumps(obj), capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise GoHelperError(proc.stderr.strip() or f"luahealth exited with {proc.returncode}")
    result = json.loads(proc.stdout)
    return result["status"], result["message"]

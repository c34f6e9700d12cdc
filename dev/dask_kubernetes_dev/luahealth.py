"""Run our Argo CD health check (``resource_customizations/``) under gopher-lua, as Argo CD does.

The one script serves every kind and lives in Argo CD's own wildcard layout,
``<group>/_/health.lua`` (a ``_`` segment is Argo CD's ``*``) beside a ``health_test.yaml``
and ``testdata/``, so it can be contributed to Argo CD as it is.  The Go helper
``gohelpers/cmd/luahealth`` is the interpreter Argo CD embeds.
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
# The folder of the health check of every kind of the group: Argo CD spells `<group>/*` so.
HEALTH_DIR = CUSTOMIZATIONS / "_"
SCRIPT = HEALTH_DIR / "health.lua"
TESTS = HEALTH_DIR / "health_test.yaml"


def luahealth(obj: dict[str, Any], script: Path | None = None) -> tuple[str, str]:
    """Return Argo CD's ``(status, message)`` for ``obj``, by ``_/health.lua`` (or ``script``)."""
    command = [str(helper("luahealth")), str(script or SCRIPT)]
    proc = subprocess.run(command, input=json.dumps(obj), capture_output=True, text=True)
    if proc.returncode != 0:
        raise GoHelperError(proc.stderr.strip() or f"luahealth exited with {proc.returncode}")
    result = json.loads(proc.stdout)
    return result["status"], result["message"]

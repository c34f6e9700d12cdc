"""Find the external binaries the project drives: helm and kubectl."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = PROJECT_ROOT / ".cache" / "tools" / "bin"


class ToolNotFound(RuntimeError):
    """A binary the command needs is not installed."""


def find(name: str) -> str:
    """Locate ``name``: ``DASK_K8S_<NAME>``, then the pinned copy in .cache/tools, then PATH.

    The pinned copy comes first because ``scripts/install-tools.sh`` installs the
    version the tests were written against.
    """
    override = os.environ.get(f"DASK_K8S_{name.upper()}")
    if override:
        return override
    pinned = TOOLS_BIN / name
    if pinned.exists():
        return str(pinned)
    found = shutil.which(name)
    if found:
        return found
    raise ToolNotFound(f"{name} not found: run scripts/install-tools.sh or put {name} on PATH")

"""The checkout this distribution lives in, and the pinned helm and kubectl in it.

Everything here assumes a source checkout: ``PROJECT_ROOT`` is the repository,
and ``scripts/install-tools.sh`` puts the pinned helm and kubectl in
``.cache/tools/bin``.
"""

from __future__ import annotations

import os
from pathlib import Path

from dask_kubernetes import binaries
from dask_kubernetes.binaries import ToolNotFound

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CACHE = PROJECT_ROOT / ".cache"
TOOLS_BIN = CACHE / "tools" / "bin"

__all__ = ["CACHE", "PROJECT_ROOT", "TOOLS_BIN", "ToolNotFound", "find"]


def find(name: str) -> str:
    """Locate ``name``: ``DASK_K8S_<NAME>``, then the pinned copy in .cache/tools, then PATH.

    The pinned copy comes before PATH because ``scripts/install-tools.sh`` installs the
    version the tests were written against.
    """
    pinned = TOOLS_BIN / name
    if pinned.exists() and not os.environ.get(f"DASK_K8S_{name.upper()}"):
        return str(pinned)
    try:
        return binaries.find(name)
    except ToolNotFound as exc:
        raise ToolNotFound(f"{name} not found: run scripts/install-tools.sh or put {name} on PATH") from exc

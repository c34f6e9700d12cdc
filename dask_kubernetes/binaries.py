"""Find the external programs the cluster managers run: ``kubectl`` for port-forwarding.

A user's environment decides: ``DASK_K8S_<NAME>`` names the program outright, else it
is looked up on ``PATH``.  The development tools put their pinned copies first on
``PATH`` (or set the variable), so tests run the version they were written against.
"""

from __future__ import annotations

import os
import shutil


class ToolNotFound(RuntimeError):
    """A program the command needs is not installed."""


def find(name: str) -> str:
    """Locate ``name``: ``DASK_K8S_<NAME>`` first, then ``PATH``; raise :class:`ToolNotFound` naming it."""
    override = os.environ.get(f"DASK_K8S_{name.upper()}")
    if override:
        return override
    found = shutil.which(name)
    if found:
        return found
    raise ToolNotFound(f"{name} not found: install {name} or put it on PATH (or set DASK_K8S_{name.upper()})")

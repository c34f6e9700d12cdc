"""The stand-in for a container image's commands (node agent, test infrastructure only).

Images are not pulled: containers run the agent's own environment.  The Dask images
put ``dask-scheduler`` and ``dask-worker`` on PATH, and the operator's Pod specs call
them, but recent ``distributed`` releases only install the ``dask`` command with
``scheduler``/``worker`` subcommands.  Small shims fill that gap; they are placed after
the virtualenv's ``bin`` on PATH, so real scripts win wherever they exist.
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

SHIMS = {
    "dask-scheduler": "distributed.cli.dask_scheduler",
    "dask-worker": "distributed.cli.dask_worker",
}


def install_shims(bin_dir: Path, python: str, search_path: str) -> list[str]:
    """Write a shim for each image command missing from ``search_path``; return their names."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, module in SHIMS.items():
        if shutil.which(name, path=search_path):
            continue
        path = bin_dir / name
        path.write_text(f'#!/bin/sh\nexec {shlex.quote(python)} -m {module} "$@"\n')
        path.chmod(0o755)
        written.append(name)
    return written

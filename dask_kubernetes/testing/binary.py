"""Find or build the multi-call control-plane binary (``controlplane/build.sh``)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from dask_kubernetes._tools import PROJECT_ROOT

BUILD_SCRIPT = PROJECT_ROOT / "controlplane" / "build.sh"


class BuildError(RuntimeError):
    """The control-plane binary could not be built; the message carries the build's output tail."""


def control_plane_binary() -> Path:
    """Return the cached binary, building it first when its inputs changed.

    ``DASK_K8S_CONTROLPLANE`` points at a prebuilt binary and skips the build.
    """
    override = os.environ.get("DASK_K8S_CONTROLPLANE")
    if override:
        return Path(override)
    proc = subprocess.run(["bash", str(BUILD_SCRIPT)], capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.splitlines()[-30:])
        raise BuildError(f"controlplane/build.sh failed:\n{tail}")
    return Path(proc.stdout.strip().splitlines()[-1])

"""Find or build the multi-call control-plane binary (``controlplane/build.sh``)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from dask_kubernetes_dev.tools import PROJECT_ROOT

BUILD_SCRIPT = PROJECT_ROOT / "controlplane" / "build.sh"


class BuildError(RuntimeError):
    """The control-plane binary could not be built; the message carries the build's output tail."""


def cached_build(script: Path, override_env: str, error: type[RuntimeError] = BuildError) -> Path:
    """Run a build script that caches by its inputs; return the path it prints last.

    ``override_env`` names an environment variable pointing at a prebuilt result, which
    skips the build.  A failed build raises ``error`` with the tail of its output.
    """
    override = os.environ.get(override_env)
    if override:
        return Path(override)
    proc = subprocess.run(["bash", str(script)], capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.splitlines()[-30:])
        raise error(f"{script.parent.name}/{script.name} failed:\n{tail}")
    return Path(proc.stdout.strip().splitlines()[-1])


def control_plane_binary() -> Path:
    """Return the cached binary, building it first when its inputs changed.

    ``DASK_K8S_CONTROLPLANE`` points at a prebuilt binary and skips the build.
    """
    return cached_build(BUILD_SCRIPT, "DASK_K8S_CONTROLPLANE")

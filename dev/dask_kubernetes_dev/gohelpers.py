"""Find or build the Go test helpers (``gohelpers/build.sh``): kstatus and the Lua health runner.

They are Go because the libraries they wrap are: kstatus (``sigs.k8s.io/cli-utils``), the
readiness rules Flux and kpt apply, and gopher-lua, the interpreter Argo CD runs health
checks in.  Testing against those libraries, rather than a Python copy of their rules, is
what shows that the GitOps tools see our objects as we intend.
"""

from __future__ import annotations

import functools
from pathlib import Path

from dask_kubernetes_dev import binary
from dask_kubernetes_dev.tools import PROJECT_ROOT

BUILD_SCRIPT = PROJECT_ROOT / "gohelpers" / "build.sh"


class GoHelperError(RuntimeError):
    """A Go helper could not be built or failed; the message carries its output tail."""


@functools.cache
def helpers_dir() -> Path:
    """Return the folder holding the built helpers, building them first when their inputs changed.

    ``DASK_K8S_GOHELPERS`` points at a prebuilt folder and skips the build.
    """
    return binary.cached_build(BUILD_SCRIPT, "DASK_K8S_GOHELPERS", GoHelperError)


def helper(name: str) -> Path:
    """Return the path of one helper binary (``kstatus``, ``luahealth``)."""
    path = helpers_dir() / name
    if not path.is_file():
        raise GoHelperError(f"no Go helper named {name!r} in {path.parent}")
    return path

"""Register the operator's handlers when ``kopf run -m dask_kubernetes.operator`` imports the package.

Upstream's image runs ``kopf run -m dask_kubernetes.operator.controller`` and plugin
images built on its documentation do the same; ``-m dask_kubernetes.operator`` is the
shorter spelling.  Importing the package must not register handlers otherwise: a
notebook importing ``KubeCluster``, or another kopf operator importing
``make_cluster_spec``, would otherwise carry our handlers into its own registry.
So the package registers only when the running program is ``kopf run`` and one of
its ``-m`` modules is ours.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

MODULES = frozenset({"dask_kubernetes.operator", "dask_kubernetes.operator.controller"})
_registered = False


def preloaded_modules(argv: Sequence[str]) -> list[str]:
    """Return the ``-m``/``--module`` values of a ``kopf run`` command line, else nothing."""
    args = list(argv[1:])
    if "run" not in args or not os.path.basename(argv[0] if argv else "").startswith(("kopf", "__main__")):
        return []
    modules = []
    for i, arg in enumerate(args):
        if arg in ("-m", "--module") and i + 1 < len(args):
            modules.append(args[i + 1])
        elif arg.startswith("--module="):
            modules.append(arg.split("=", 1)[1])
        elif arg.startswith("-m") and len(arg) > 2 and not arg.startswith("--"):
            modules.append(arg[2:])
    return modules


def started_by_kopf_run(argv: Sequence[str] | None = None) -> bool:
    """Tell whether this process is ``kopf run`` preloading one of our modules."""
    if "kopf" not in sys.modules:
        return False
    return bool(MODULES & set(preloaded_modules(sys.argv if argv is None else argv)))


def register() -> None:
    """Import the controller (which registers its handlers) and the ``dask_operator_plugin`` plugins, once."""
    global _registered
    if _registered:
        return
    _registered = True
    from dask_kubernetes.operator import controller  # noqa: F401  (registers the handlers)
    from dask_kubernetes.operator.runtime.plugins import load_plugins

    load_plugins()

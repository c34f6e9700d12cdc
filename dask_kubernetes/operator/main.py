"""``dask-kubernetes operator``: run the kopf controller through kopf's own ``kopf run``.

Every flag goes to kopf unchanged, so anything ``kopf run`` accepts works here too
(``--log-format=json``, ``--debug``, ``--peering``, ``--liveness``, ``-n`` globs...),
as with upstream's image, which runs ``kopf run -m dask_kubernetes.operator.controller``.
Two defaults differ from bare ``kopf run``: without ``-n``/``-A`` the operator
watches every namespace, and without ``--peering`` it runs ``--standalone``.

Replicas coordinate through a Lease (see :mod:`.controller.leader`), not kopf
peering; an explicit ``--standalone`` also turns that leader election off.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

# The module kopf preloads: importing it registers every handler.
CONTROLLER_MODULE = "dask_kubernetes.operator.controller"

_SCOPE_FLAGS = ("-A", "--all-namespaces", "-n", "--namespace")
_PEERING_FLAGS = ("--standalone", "-P", "--peering", "--dev")
_FORMAT_FLAGS = ("--log-format",)


def _given(args: Sequence[str], flags: Sequence[str]) -> bool:
    """Tell whether any of ``flags`` appears, as ``--flag``, ``--flag=x`` or ``-fX``."""
    for arg in args:
        for flag in flags:
            if arg == flag or arg.startswith(flag + "=") or (len(flag) == 2 and arg.startswith(flag)):
                return True
    return False


def kopf_argv(argv: Sequence[str]) -> list[str]:
    """Translate our command line into ``kopf run``'s, adding only our two defaults.

    Pure, so the translation is tested without starting anything.
    """
    args = list(argv)
    defaults = []
    if not _given(args, _SCOPE_FLAGS):
        defaults.append("--all-namespaces")
    if not _given(args, _PEERING_FLAGS):
        defaults.append("--standalone")
    if not _given(args, _FORMAT_FLAGS):
        defaults.append("--log-format=plain")
    return ["run", "--module", CONTROLLER_MODULE, *defaults, *args]


def _quiet_kopf_object_logs(**_: Any) -> None:
    """kopf reports every handler call at INFO; our reconcilers log the decisions that matter."""
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)


def main(argv: Sequence[str]) -> int:
    """Run ``kopf run`` with our handlers; return its exit code (2 for a bad flag, with kopf's message)."""
    import click
    import kopf
    from kopf import cli as kopf_cli

    from dask_kubernetes.operator import kopf_run
    from dask_kubernetes.operator.controller import startup

    startup.STANDALONE["value"] = _given(argv, ("--standalone",))
    kopf_run.register()  # the controller's handlers and the plugins
    kopf.on.startup()(_quiet_kopf_object_logs)
    try:
        kopf_cli.main.main(args=kopf_argv(argv), prog_name="dask-kubernetes operator", standalone_mode=False)
    except click.exceptions.Exit as exc:  # --help
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return int(exc.exit_code)
    except click.exceptions.Abort:
        return 130
    return 0

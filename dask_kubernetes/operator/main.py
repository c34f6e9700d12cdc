"""``dask-kubernetes operator``: run the kopf controller with kopf-style flags.

Accepts the chart's ``kopfArgs``: ``--all-namespaces`` (``-A``), ``--namespace NAME``
(``-n``, repeatable, globs allowed), ``--liveness URL``, ``--verbose``, and ``--standalone``
(no leader election; otherwise replicas elect a leader through a Lease in ``POD_NAMESPACE``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dask-kubernetes operator")
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("-A", "--all-namespaces", action="store_true", help="watch every namespace")
    scope.add_argument(
        "-n", "--namespace", action="append", default=[], help="watch this namespace (repeatable)"
    )
    parser.add_argument(
        "--liveness", default=None, help="serve a liveness endpoint, e.g. http://0.0.0.0:8080/healthz"
    )
    parser.add_argument("--verbose", action="store_true", help="log debug messages")
    parser.add_argument(
        "--standalone",
        action="store_true",
        help="reconcile without leader election (one replica, or local use)",
    )
    return parser


def _identity() -> str:
    """kopf's peering identity, without kopf's ``getpass.getuser()``.

    That lookup fails for a uid the image's /etc/passwd does not list (the chart's
    runAsUser 1000, OpenShift's arbitrary uids) and would crash the operator at start.
    """
    return os.environ.get("POD_ID") or f"dask-kubernetes-operator@{socket.gethostname()}"


def main(argv: Sequence[str]) -> int:
    """Parse flags, load the handlers and plugins, and run until stopped."""
    import kopf

    from dask_kubernetes.operator import controller  # noqa: F401  (registers the handlers)
    from dask_kubernetes.operator.controller import startup
    from dask_kubernetes.operator.controller.plugins import load_plugins

    args = _parser().parse_args(list(argv))
    kopf.configure(verbose=args.verbose, log_format=kopf.LogFormat.PLAIN)
    logging.getLogger("dask_kubernetes").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    # kopf reports every handler call at INFO; our reconcilers log the decisions that matter.
    logging.getLogger("kopf.objects").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    startup.STANDALONE["value"] = args.standalone
    load_plugins()
    clusterwide = args.all_namespaces or not args.namespace
    asyncio.run(
        kopf.operator(
            clusterwide=clusterwide,
            namespaces=() if clusterwide else tuple(args.namespace),
            liveness_endpoint=args.liveness,
            standalone=True,  # no kopf peering: replicas coordinate through a Lease instead
            identity=_identity(),  # type: ignore[arg-type]  # kopf's Identity is a NewType of str
        )
    )
    return 0

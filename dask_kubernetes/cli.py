"""The ``dask-kubernetes`` command: one entry point, one subcommand per part.

The product has two subcommands, ``operator`` and ``webhook`` (what the chart's
Pods run).  Others come from installed distributions through the
``dask_kubernetes.commands`` entry-point group: the development tools in
``dev/`` add ``local``, ``image`` and ``generate``.  Without them, those three
names say in one line where they went instead of failing as unknown.

Each subcommand's module is imported only when it runs, so ``--help`` does not pay
for importing kopf or FastAPI.  Errors a user can fix print one line naming the
problem and exit 2; they never print a stack trace.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
from collections.abc import Callable, Sequence

Handler = Callable[[argparse.Namespace, list[str]], int]
Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

COMMANDS_GROUP = "dask_kubernetes.commands"
# Subcommands that moved to the development tools; named so that a user learns where they went.
DEV_COMMANDS = {
    "local": "start or stop the local control plane and node agent",
    "image": "build the operator image without Docker",
    "generate": "render CRDs, RBAC, the chart's generated parts and overlays",
}
DEV_INSTALL_HINT = (
    "is one of the development tools (the dask-kubernetes-dev distribution); "
    "from a checkout of dask-kubernetes, run `pip install -e dev/`"
)


class UserError(Exception):
    """A mistake the user can fix; printed as one line, never as a traceback."""


def _operator(args: argparse.Namespace, extra: list[str]) -> int:
    from dask_kubernetes.operator import main as operator_main

    return operator_main.main(extra)


def _webhook(args: argparse.Namespace, extra: list[str]) -> int:
    from dask_kubernetes.webhooks import main as webhook_main

    return webhook_main.main(extra)


def _not_installed(args: argparse.Namespace, extra: list[str]) -> int:
    raise UserError(DEV_INSTALL_HINT)


def _parser() -> argparse.ArgumentParser:
    from dask_kubernetes import __version__

    parser = argparse.ArgumentParser(prog="dask-kubernetes", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"dask-kubernetes {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    op = sub.add_parser("operator", help="run the operator (kopf); extra flags go to kopf", add_help=False)
    op.set_defaults(handler=_operator)
    hook = sub.add_parser("webhook", help="run the admission webhook", add_help=False)
    hook.set_defaults(handler=_webhook)

    registered = set()
    for entry_point in sorted(importlib.metadata.entry_points(group=COMMANDS_GROUP), key=lambda e: e.name):
        register: Register = entry_point.load()
        register(sub)
        registered.add(entry_point.name)
    for name, help_text in DEV_COMMANDS.items():
        if name not in registered:
            placeholder = sub.add_parser(name, help=f"{help_text} (development tools)", add_help=False)
            placeholder.set_defaults(handler=_not_installed)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one subcommand."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "takes_extra", True):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    handler: Handler = args.handler
    try:
        return handler(args, extra)
    except UserError as exc:
        print(f"dask-kubernetes {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def entrypoint() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    # Run the imported module's entry point, not this __main__ copy: subcommands from
    # other distributions raise the imported module's UserError.
    from dask_kubernetes import cli

    cli.entrypoint()

"""The ``dask-kubernetes`` command: one entry point, one subcommand per part.

Each subcommand's module is imported only when it runs, so ``generate`` does not
pay for importing kopf or FastAPI.  Errors a user can fix print one line naming
the problem and exit 2; they never print a stack trace.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

Handler = Callable[[argparse.Namespace, list[str]], int]


def _generate(args: argparse.Namespace, extra: list[str]) -> int:
    from dask_kubernetes.generator import render

    root = Path(args.root).resolve()
    files = render.render(root)
    if args.check:
        drift = render.check(root, files)
        if drift:
            print(drift.describe(), file=sys.stderr)
            print("run `dask-kubernetes generate` and commit the result", file=sys.stderr)
            return 1
        print(f"{len(files)} generated files are up to date")
        return 0
    written = render.write(root, files)
    for rel in written:
        print(f"wrote {rel}")
    print(f"{len(files)} generated files, {len(written)} changed")
    return 0


def _local(args: argparse.Namespace, extra: list[str]) -> int:
    from dask_kubernetes.testing import cli as local_cli

    return local_cli.main(args.action, extra)


def _operator(args: argparse.Namespace, extra: list[str]) -> int:
    from dask_kubernetes.operator import main as operator_main

    return operator_main.main(extra)


def _webhook(args: argparse.Namespace, extra: list[str]) -> int:
    from dask_kubernetes.webhooks import main as webhook_main

    return webhook_main.main(extra)


def _image(args: argparse.Namespace, extra: list[str]) -> int:
    from dask_kubernetes.image import build as image_build

    try:
        built = image_build.build(args.name, args.tag)
    except image_build.ImageBuildError as exc:
        raise UserError(str(exc)) from exc
    print(f"image:          {built.reference}")
    print(f"OCI layout:     {built.layout}")
    print(f"OCI archive:    {built.oci_archive}")
    print(f"docker archive: {built.docker_archive}  (docker load -i ...)")
    return 0


def _parser() -> argparse.ArgumentParser:
    from dask_kubernetes import __version__

    parser = argparse.ArgumentParser(prog="dask-kubernetes", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"dask-kubernetes {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="render CRDs, RBAC, the chart's generated parts and overlays")
    gen.add_argument(
        "--check", action="store_true", help="fail and name each file that differs from a fresh render"
    )
    gen.add_argument("--root", default=".", help="project root (default: current directory)")
    gen.set_defaults(handler=_generate)

    local = sub.add_parser("local", help="start or stop the local control plane and node agent")
    local.add_argument("action", choices=["up", "down", "status", "env"])
    local.set_defaults(handler=_local)

    op = sub.add_parser("operator", help="run the operator (kopf); extra flags go to kopf", add_help=False)
    op.set_defaults(handler=_operator)

    hook = sub.add_parser("webhook", help="run the admission webhook", add_help=False)
    hook.set_defaults(handler=_webhook)

    image = sub.add_parser("image", help="build the operator image without Docker (root, Debian tools)")
    image.add_argument("action", choices=["build"])
    image.add_argument("--name", default=None, help="image name (default: the chart's image.name)")
    image.add_argument("--tag", default=None, help="image tag (default: the chart's appVersion)")
    image.set_defaults(handler=_image)
    return parser


class UserError(Exception):
    """A mistake the user can fix; printed as one line, never as a traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one subcommand."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command in ("generate",):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    handler: Handler = args.handler
    try:
        return handler(args, extra)
    except UserError as exc:
        print(f"dask-kubernetes {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _user_errors() -> tuple[type[BaseException], ...]:
    from dask_kubernetes._tools import ToolNotFound
    from dask_kubernetes.generator.helm import HelmError
    from dask_kubernetes.generator.openapi import SchemaError

    return (ToolNotFound, HelmError, SchemaError)


def entrypoint() -> None:
    """Console-script entry: turn known failures into one-line messages."""
    try:
        sys.exit(main())
    except _user_errors() as exc:
        print(f"dask-kubernetes: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    entrypoint()

"""The development subcommands of ``dask-kubernetes``: ``local``, ``image`` and ``generate``.

Each function here is a ``dask_kubernetes.commands`` entry point: it adds its
subparser to the product's command line (:mod:`dask_kubernetes.cli`) and sets the
handler that runs it.  Failures a user can fix become the product's
:class:`~dask_kubernetes.cli.UserError`, printed as one line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dask_kubernetes.cli import UserError


def generate(sub: Any) -> None:
    """Add ``dask-kubernetes generate [--check] [--root DIR]``."""
    gen = sub.add_parser("generate", help="render CRDs, RBAC, the chart's generated parts and overlays")
    gen.add_argument(
        "--check", action="store_true", help="fail and name each file that differs from a fresh render"
    )
    gen.add_argument("--root", default=".", help="project root (default: current directory)")
    gen.set_defaults(handler=_generate, takes_extra=False)


def local(sub: Any) -> None:
    """Add ``dask-kubernetes local up|down|status|env``."""
    parser = sub.add_parser("local", help="start or stop the local control plane and node agent")
    parser.add_argument("action", choices=["up", "down", "status", "env"])
    parser.set_defaults(handler=_local, takes_extra=True)


def image(sub: Any) -> None:
    """Add ``dask-kubernetes image build [--tag TAG] [--name NAME]``."""
    parser = sub.add_parser("image", help="build the operator image without Docker (root, Debian tools)")
    parser.add_argument("action", choices=["build"])
    parser.add_argument("--name", default=None, help="image name (default: the chart's image.name)")
    parser.add_argument("--tag", default=None, help="image tag (default: the chart's appVersion)")
    parser.set_defaults(handler=_image, takes_extra=False)


def _generate(args: argparse.Namespace, extra: list[str]) -> int:
    from dask_kubernetes_dev.generator import render
    from dask_kubernetes_dev.generator.helm import HelmError
    from dask_kubernetes_dev.generator.openapi import SchemaError
    from dask_kubernetes_dev.tools import ToolNotFound

    root = Path(args.root).resolve()
    try:
        files = render.render(root)
    except (ToolNotFound, HelmError, SchemaError) as exc:
        raise UserError(str(exc)) from exc
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
    from dask_kubernetes_dev import local_cli

    return local_cli.main(args.action, extra)


def _image(args: argparse.Namespace, extra: list[str]) -> int:
    from dask_kubernetes_dev.image import build as image_build

    try:
        built = image_build.build(args.name, args.tag)
    except image_build.ImageBuildError as exc:
        raise UserError(str(exc)) from exc
    print(f"image:          {built.reference}")
    print(f"OCI layout:     {built.layout}")
    print(f"OCI archive:    {built.oci_archive}")
    print(f"docker archive: {built.docker_archive}  (docker load -i ...)")
    return 0

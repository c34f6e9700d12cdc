"""``dask kubernetes ...``: the ``dask_cli`` entry point, with upstream's commands and options.

``dask kubernetes gen cluster`` prints a DaskCluster manifest (for GitOps
repositories); ``dask kubernetes port-forward NAME`` forwards a cluster's scheduler
and dashboard to localhost until Ctrl+C.
"""

from __future__ import annotations

import json
import time
from typing import Any

import click

from dask_kubernetes import yamlio


@click.group(
    name="kubernetes",
    help="Utilities for working with Dask Kubernetes",
    context_settings=dict(ignore_unknown_options=True),
)
def main() -> None:
    """Group the ``dask kubernetes`` commands."""


@main.group(help="Generate Kubernetes specs for Dask resources")
def gen() -> None:
    """Group the manifest generators."""


def _env(items: tuple[str, ...]) -> dict[str, str]:
    env = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--env")
        env[key] = value
    return env


def _resources(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(
            f'not JSON ({exc.msg}), e.g. \'{{"limits": {{"memory": "2Gi"}}}}\'', param_hint="--resources"
        ) from None


@gen.command(help="Generate a DaskCluster spec, see ``dask_kubernetes.operator.make_cluster_spec``.")
@click.option("--name", type=str, required=True, help="Name of the DaskCluster")
@click.option(
    "--image", type=str, default=None, help="Container image to use (default 'ghcr.io/dask/dask:latest')"
)
@click.option("--n-workers", type=int, default=3, help="Number of workers")
@click.option("--resources", type=str, default=None, help="Resource constraints")
@click.option("--env", "-e", type=str, default=None, multiple=True, help="Environment variables")
@click.option("--worker-command", type=str, default=None, help="Worker command (default 'dask-worker')")
@click.option(
    "--scheduler-service-type",
    type=str,
    default=None,
    help="Service type for scheduler (default 'ClusterIP')",
)
@click.option(
    "--jupyter",
    type=bool,
    default=False,
    is_flag=True,
    help="Start Jupyter on the scheduler (default 'False')",
)
def cluster(**kwargs: Any) -> None:
    """Print a DaskCluster manifest built by ``make_cluster_spec`` from the options."""
    from dask_kubernetes.operator import make_cluster_spec

    if kwargs.get("resources") is not None:
        kwargs["resources"] = _resources(kwargs["resources"])
    kwargs["env"] = _env(kwargs.get("env") or ())
    filtered = {k: v for k, v in kwargs.items() if v is not None}
    try:
        spec = make_cluster_spec(**filtered)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(yamlio.dump(spec, for_kubectl=True))


@main.command(help="Port-forward the scheduler of a DaskCluster resource")
@click.argument("cluster")
def port_forward(cluster: str) -> None:
    """Forward the scheduler and dashboard of ``cluster`` to localhost until interrupted."""
    from dask_kubernetes.operator import KubeCluster

    click.echo(f"Connecting to cluster {cluster}")
    try:
        kcluster = KubeCluster.from_name(
            cluster, shutdown_on_close=False, quiet=True, port_forward_cluster_ip=True
        )
    except ValueError:
        raise click.ClickException(f"No such cluster {cluster}") from None
    try:
        click.echo(f"Scheduler at: {kcluster.scheduler_address}")
        click.echo(f"Dashboard at: {kcluster.dashboard_link}")
        if kcluster.jupyter:
            click.echo(f"Jupyter at: {kcluster.jupyter_link}")
        click.echo("Press ctrl+c to exit", err=True)
        while True:
            time.sleep(0.1)
    except KeyboardInterrupt:
        click.echo("Shutting down port-forward")
        kcluster.close()

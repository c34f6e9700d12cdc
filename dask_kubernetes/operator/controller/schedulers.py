"""Finding a cluster's scheduler in the read cache, and where to reach it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dask_kubernetes.api import constants, naming
from dask_kubernetes.operator.decisions import pods
from dask_kubernetes.operator.runtime.context import Context
from dask_kubernetes.operator.runtime.scheduler_client import SchedulerAddress


def _port(pod: Mapping[str, Any], name: str, default: int) -> int:
    for container in pod.get("spec", {}).get("containers", []):
        for port in container.get("ports") or []:
            if port.get("name") == name:
                return int(port["containerPort"])
    return default


def scheduler_address(scheduler_pod: Mapping[str, Any]) -> SchedulerAddress | None:
    """Where to reach the scheduler: its Pod IP and named ports; None until it has an IP.

    The Pod IP works from inside the cluster and from a host on the pod network,
    without depending on Service DNS.
    """
    ip = pods.pod_ip(scheduler_pod)
    if not ip:
        return None
    return SchedulerAddress(
        host=ip,
        comm_port=_port(scheduler_pod, constants.PORT_NAME_COMM, constants.SCHEDULER_PORT),
        dashboard_port=_port(scheduler_pod, constants.PORT_NAME_DASHBOARD, constants.DASHBOARD_PORT),
    )


def scheduler_pod(ctx: Context, namespace: str, cluster: str) -> dict[str, Any] | None:
    """Return the scheduler Pod of a cluster from the cache."""
    return ctx.store.get("pods", namespace, naming.scheduler_name(cluster))


def ready_scheduler(ctx: Context, namespace: str, cluster: str) -> SchedulerAddress | None:
    """Return the address of a cluster's scheduler if its Pod is Ready."""
    pod = scheduler_pod(ctx, namespace, cluster)
    if pod is None or not pods.is_ready(pod):
        return None
    return scheduler_address(pod)

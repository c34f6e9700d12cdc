"""Small steps several controllers share: validation verdicts and scheduler addresses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dask_kubernetes._structs import constants, naming
from dask_kubernetes.operator.controller import statuses
from dask_kubernetes.operator.controller.context import Context
from dask_kubernetes.operator.controller.scheduler_client import SchedulerAddress
from dask_kubernetes.operator.logic import conditions, pods
from dask_kubernetes.validation import registry


async def live(ctx: Context, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
    """Read an object to reconcile; None once it is gone or being deleted (children go by GC)."""
    obj = await ctx.kube.get(plural, namespace, name)
    if obj is None or obj["metadata"].get("deletionTimestamp"):
        return None
    return obj


async def reject_if_invalid(
    ctx: Context, plural: str, obj: Mapping[str, Any], extra: Mapping[str, Any]
) -> bool:
    """Re-check the spec (tier 3); on errors set Stalled with a readable message and return True."""
    errors = registry.validate(plural, obj)
    if not errors:
        return False
    message = "invalid spec: " + "; ".join(str(e) for e in errors)
    if statuses.stalled_message(obj) != message:
        await ctx.events.warning(obj, constants.REASON_INVALID_SPEC, message)
    verdict = conditions.Verdict(
        ready=False, reason=constants.REASON_INVALID_SPEC, message=message, stalled=True
    )
    await statuses.write(ctx, plural, obj, extra, verdict)
    return True


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


async def ready_scheduler(ctx: Context, namespace: str, cluster: str) -> SchedulerAddress | None:
    """Return the address of a cluster's scheduler if its Pod is Ready."""
    pod = await ctx.kube.get_pod(namespace, naming.scheduler_name(cluster))
    if pod is None or not pods.is_ready(pod):
        return None
    return scheduler_address(pod)


def owner_of_kind(obj: Mapping[str, Any], kind: str) -> str | None:
    """Return the name of the controller owner of ``kind``, if any."""
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("kind") == kind:
            return str(ref["name"])
    return None

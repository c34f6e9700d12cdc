"""Small steps several controllers share: reading, creating and deleting children, verdicts."""

from __future__ import annotations

import os
import signal
from collections.abc import Awaitable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from kubernetes_asyncio.client.rest import ApiException

from dask_kubernetes._structs import constants, naming
from dask_kubernetes.operator.controller import failures, statuses
from dask_kubernetes.operator.controller.context import Context
from dask_kubernetes.operator.controller.scheduler_client import SchedulerAddress
from dask_kubernetes.operator.logic import buildable, conditions, pods

T = TypeVar("T")


def live(ctx: Context, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
    """Read an object to reconcile from the cache; None once it is gone or being deleted."""
    obj = ctx.store.get(plural, namespace, name)
    if obj is None or obj["metadata"].get("deletionTimestamp"):
        return None
    return obj


async def reject_if_unbuildable(
    ctx: Context, plural: str, obj: Mapping[str, Any], extra: Mapping[str, Any]
) -> bool:
    """Check what the operator needs to build children; on errors set Stalled and return True.

    Only that: admission rules (the webhook's) are not run again here, so a
    stricter rule in a new release never stalls a running cluster.  What the API
    server would refuse in a Pod is found by the dry run (:func:`create_pod`).
    """
    errors = buildable.problems(plural, obj)
    if not errors:
        return False
    message = "invalid spec: " + "; ".join(errors)
    if statuses.stalled_message(obj) != message:
        await ctx.events.warning(obj, constants.REASON_INVALID_SPEC, message)
    verdict = conditions.Verdict(
        ready=False, reason=constants.REASON_INVALID_SPEC, message=message, stalled=True
    )
    await statuses.write(ctx, plural, obj, extra, verdict)
    return True


async def admit(ctx: Context, owner: Mapping[str, Any], pod: Mapping[str, Any], template: str) -> None:
    """Dry-run a Pod of a new template on the API server; raise :class:`failures.Refused` if refused.

    The API server's own validation, Pod Security admission, quotas and webhooks
    answer, and a refusal reaches the owner's status instead of the log.  A
    template admitted once is trusted for ``admission_recheck`` seconds.
    """
    meta = owner["metadata"]
    key = (meta["namespace"], f"{owner['kind']}/{meta['name']}", template)
    if ctx.admitted.get(key, 0) > ctx.clock():
        return
    # A generated name: the Pod being replaced (the scheduler's) may still exist under the real one.
    probe = {**pod, "metadata": {**pod["metadata"], "generateName": f"{pod['metadata']['name'][:50]}-"}}
    del probe["metadata"]["name"]
    what = f"Pod {pod['metadata']['name']}"
    await refused_as(what, ctx.kube.create_pod(meta["namespace"], probe, dry_run=True))
    ctx.admitted[key] = ctx.clock() + ctx.settings.admission_recheck


async def refused_as(what: str, call: Awaitable[T]) -> T:
    """Await an API write; an answer only a user can change raises :class:`failures.Refused`."""
    try:
        return await call
    except ApiException as exc:
        refused = failures.refusal(exc, what)
        if refused is None:
            raise
        raise refused from exc


async def create_pod(ctx: Context, pod: Mapping[str, Any]) -> dict[str, Any] | None:
    """Create a Pod and remember it in the cache; a refusal raises :class:`failures.Refused`."""
    namespace = pod["metadata"]["namespace"]
    created = await refused_as(f"Pod {pod['metadata']['name']}", ctx.kube.create_pod(namespace, pod))
    if created is not None:
        ctx.store.remember("pods", created, created=True)
    return created


async def delete_pod(ctx: Context, namespace: str, name: str) -> None:
    """Delete a Pod and remember that it is going."""
    answer = await ctx.kube.delete_pod(namespace, name)
    if answer is None:
        return
    if answer.get("kind") == "Pod":
        ctx.store.remember("pods", answer)
    else:
        current = ctx.store.get("pods", namespace, name)
        cluster = ((current or {}).get("metadata", {}).get("labels") or {}).get(constants.LABEL_CLUSTER_NAME)
        ctx.store.remember_gone("pods", namespace, name, cluster)


def fault_point(ctx: Context, name: str) -> None:
    """Test hook: kill this process (SIGKILL, like ``kill -9``) at a named point, once.

    Only when ``DASK_OPERATOR_FAULT_POINTS`` names the point; a marker file in
    ``fault_state_dir`` keeps a restarted process from dying at the same point.
    """
    points = {p.strip() for p in ctx.settings.fault_points.split(",") if p.strip()}
    if name not in points:
        return
    marker = Path(ctx.settings.fault_state_dir) / f"dask-operator-fault-{name}"
    if marker.exists():
        return
    marker.write_text("fired\n")
    os.kill(os.getpid(), signal.SIGKILL)


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


def owner_of_kind(obj: Mapping[str, Any], kind: str) -> str | None:
    """Return the name of the controller owner of ``kind``, if any."""
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("kind") == kind:
            return str(ref["name"])
    return None

"""DaskCluster: a scheduler Pod, a scheduler Service and the default DaskWorkerGroup.

The reconcile is level-based: on every event and on a timer it compares the
children that should exist with those that do, recreates what is missing (a
deleted scheduler Pod comes back), and mirrors the default group's replica
counts into the cluster's status, which serves ``kubectl scale daskcluster``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import kopf

from dask_kubernetes._structs import constants, naming
from dask_kubernetes.operator.builders import scheduler as scheduler_builder
from dask_kubernetes.operator.builders import worker as worker_builder
from dask_kubernetes.operator.controller import common, statuses
from dask_kubernetes.operator.controller.context import Context
from dask_kubernetes.operator.controller.scheduler_client import SchedulerUnreachable
from dask_kubernetes.operator.logic import conditions, pods

log = logging.getLogger(__name__)
PLURAL = constants.PLURAL_CLUSTER
RESOURCE = (constants.GROUP, constants.VERSION, PLURAL)


def _without_replicas(worker: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in worker.items() if k != "replicas"}


async def _ensure_scheduler(ctx: Context, cluster: Mapping[str, Any]) -> dict[str, Any] | None:
    meta = cluster["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    pod = await ctx.kube.get_pod(namespace, naming.scheduler_name(name))
    if pod is not None and pods.is_finished(pod):
        await ctx.kube.delete_pod(namespace, pods.name(pod))
        await ctx.events.warning(
            cluster, constants.REASON_RECREATED, f"scheduler Pod ended ({pods.phase(pod)})"
        )
        return None
    if pod is None:
        seen_before = bool((cluster.get("status") or {}).get("phase") in ("Pending", "Running"))
        if await ctx.kube.create_pod(namespace, scheduler_builder.build_scheduler_pod(cluster)):
            reason = constants.REASON_RECREATED if seen_before else constants.REASON_CREATED
            await ctx.events.normal(cluster, reason, f"scheduler Pod {naming.scheduler_name(name)}")
    return pod


async def _ensure_service(ctx: Context, cluster: Mapping[str, Any]) -> None:
    meta = cluster["metadata"]
    if await ctx.kube.get_service(meta["namespace"], naming.scheduler_name(meta["name"])) is None:
        if await ctx.kube.create_service(
            meta["namespace"], scheduler_builder.build_scheduler_service(cluster)
        ):
            await ctx.events.normal(
                cluster, constants.REASON_CREATED, f"Service {naming.scheduler_name(meta['name'])}"
            )


async def _ensure_default_group(ctx: Context, cluster: Mapping[str, Any]) -> dict[str, Any] | None:
    """Create the default group, keep its worker spec in step, push replicas on spec changes.

    Replicas are pushed only when the cluster's generation moved, so a direct
    ``kubectl scale daskworkergroup`` or the autoscaler is not undone by a resync.
    """
    meta = cluster["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    group_name = naming.default_worker_group_name(name)
    group = await ctx.kube.get(constants.PLURAL_WORKER_GROUP, namespace, group_name)
    desired = worker_builder.build_default_worker_group(cluster)
    if group is None:
        if await ctx.kube.create(constants.PLURAL_WORKER_GROUP, namespace, desired):
            await ctx.events.normal(cluster, constants.REASON_CREATED, f"DaskWorkerGroup {group_name}")
        return desired
    want, have = desired["spec"]["worker"], group["spec"].get("worker", {})
    if _without_replicas(want) != _without_replicas(have):
        for key in ("spec", "metadata"):
            if key in want and want[key] != have.get(key):
                await ctx.kube.replace_field(
                    constants.PLURAL_WORKER_GROUP, namespace, group_name, f"/spec/worker/{key}", want[key]
                )
    spec_changed = (cluster.get("status") or {}).get("observedGeneration") != meta.get("generation")
    if spec_changed and want.get("replicas") != have.get("replicas"):
        await ctx.kube.patch(
            constants.PLURAL_WORKER_GROUP,
            namespace,
            group_name,
            {"spec": {"worker": {"replicas": want["replicas"]}}},
        )
    return group


async def _check_idle(ctx: Context, cluster: Mapping[str, Any], scheduler_pod: Mapping[str, Any]) -> bool:
    """Delete the cluster if its scheduler has been idle longer than ``idleTimeout``."""
    timeout = int(cluster["spec"].get("idleTimeout") or 0)
    address = common.scheduler_address(scheduler_pod)
    if timeout <= 0 or address is None:
        return False
    try:
        idle_since = await ctx.scheduler(address).idle_since()
    except SchedulerUnreachable as exc:
        log.info("idle check of %s skipped: %s", cluster["metadata"]["name"], exc)
        return False
    if idle_since is None or time.time() - idle_since < timeout:
        return False
    meta = cluster["metadata"]
    await ctx.events.normal(
        cluster,
        constants.REASON_IDLE_TIMEOUT,
        f"scheduler idle for more than {timeout}s; deleting the cluster",
    )
    await ctx.kube.delete(PLURAL, meta["namespace"], meta["name"])
    return True


async def reconcile(ctx: Context, namespace: str, name: str) -> None:
    """Bring one DaskCluster's children and status in line with its spec."""
    cluster = await common.live(ctx, PLURAL, namespace, name)
    if cluster is None:
        return
    if await common.reject_if_invalid(ctx, PLURAL, cluster, {"phase": "Error"}):
        return
    # Issue 12: a cluster upstream's operator made (scheduler Deployment) is left alone
    # and marked Stalled with the migration step; never add a second scheduler to it.
    from dask_kubernetes.operator.controller import upstream_guard

    if await upstream_guard.stalled_if_upstream(ctx, PLURAL, cluster):
        return
    first_sight = not (cluster.get("status") or {}).get("phase")
    scheduler_pod = await _ensure_scheduler(ctx, cluster)
    await _ensure_service(ctx, cluster)
    group = await _ensure_default_group(ctx, cluster) or {}
    scheduler_ready = scheduler_pod is not None and pods.is_ready(scheduler_pod)
    if scheduler_ready and scheduler_pod is not None and await _check_idle(ctx, cluster, scheduler_pod):
        return

    group_status = group.get("status") or {}
    desired = int(group.get("spec", {}).get("worker", {}).get("replicas", 0))
    ready_workers = int(group_status.get("readyReplicas") or 0)
    group_ready = ready_workers >= desired
    if first_sight:
        phase = "Created"
    else:
        phase = "Running" if scheduler_ready else "Pending"
    if not scheduler_ready:
        verdict = conditions.Verdict(
            False, "SchedulerNotReady", "waiting for the scheduler Pod", reconciling=True
        )
    elif not group_ready:
        verdict = conditions.Verdict(
            False, "WorkersNotReady", f"{ready_workers}/{desired} workers ready", reconciling=True
        )
    else:
        verdict = conditions.Verdict(
            True, "Running", f"scheduler ready, {ready_workers}/{desired} workers ready"
        )
    fields = {
        "phase": phase,
        "replicas": int(group_status.get("replicas") or 0),
        "readyReplicas": ready_workers,
        "selector": naming.selector_string(
            naming.worker_group_selector(name, naming.default_worker_group_name(name))
        ),
        "workers": f"{ready_workers}/{desired}",
    }
    await statuses.write(ctx, PLURAL, cluster, fields, verdict)
    if first_sight:
        ctx.poke(PLURAL, namespace, name, delay=0.5)


@kopf.on.event(*RESOURCE)
async def daskcluster_event(
    type: str | None, name: str, namespace: str, body: kopf.Body, memo: kopf.Memo, **_: Any
) -> None:
    """Reconcile on every change; a job's cluster also wakes its job."""
    ctx: Context = memo.ctx
    ctx.observe(PLURAL, type, namespace, name)
    job = common.owner_of_kind(body, constants.KIND_JOB)
    if job:
        ctx.poke(constants.PLURAL_JOB, namespace, job)


@kopf.timer(*RESOURCE, interval=15, sharp=False)
async def daskcluster_resync(name: str, namespace: str, memo: kopf.Memo, **_: Any) -> None:
    """Resync periodically, so a missed event or a failed call is repaired."""
    memo.ctx.poke(PLURAL, namespace, name)

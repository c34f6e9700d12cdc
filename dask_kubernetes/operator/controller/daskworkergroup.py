"""DaskWorkerGroup: its own replica controller over worker Pods.

It replaces finished Pods, creates missing ones in batches, and on scale-down
removes Pending Pods first, then asks the scheduler which workers to retire
(HTTP API, then RPC), marks those Pods and deletes them.  Only if the scheduler
cannot be asked does it fall back to LIFO, with a Warning event.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import kopf

from dask_kubernetes._structs import constants, naming
from dask_kubernetes.operator.builders import worker as worker_builder
from dask_kubernetes.operator.builders.metadata import owner_reference
from dask_kubernetes.operator.controller import common, statuses
from dask_kubernetes.operator.controller.context import Context
from dask_kubernetes.operator.controller.scheduler_client import SchedulerUnreachable
from dask_kubernetes.operator.logic import conditions, pods, scaling

log = logging.getLogger(__name__)
PLURAL = constants.PLURAL_WORKER_GROUP
RESOURCE = (constants.GROUP, constants.VERSION, PLURAL)


async def _create_workers(ctx: Context, group: Mapping[str, Any], count: int, replacing: int) -> None:
    namespace = group["metadata"]["namespace"]
    created = []
    for _ in range(count):
        pod_name = naming.worker_pod_name(group["metadata"]["name"])
        if await ctx.kube.create_pod(namespace, worker_builder.build_worker_pod(group, pod_name)):
            created.append(pod_name)
    fresh = len(created) - min(replacing, len(created))
    if replacing:
        await ctx.events.normal(
            group, constants.REASON_REPLACED, f"replaced {min(replacing, len(created))} ended worker(s)"
        )
    if fresh:
        await ctx.events.normal(group, constants.REASON_SCALED_UP, f"created {fresh} worker Pod(s)")


async def _retire(
    ctx: Context, group: Mapping[str, Any], group_pods: Sequence[Mapping[str, Any]], plan: scaling.Plan
) -> None:
    """Retire ``plan.retire`` workers through the scheduler, then delete their Pods."""
    meta = group["metadata"]
    namespace = meta["namespace"]
    cluster = group["spec"]["cluster"]
    scheduler_pod = await ctx.kube.get_pod(namespace, naming.scheduler_name(cluster))
    address = common.scheduler_address(scheduler_pod) if scheduler_pod else None
    chosen: list[str] = []
    how = ""
    if address is not None:
        client = ctx.scheduler(address)
        try:
            retired = await client.retire_workers(plan.retire)
            chosen = scaling.match_retired(retired, group_pods)
            how = client.last_path
        except SchedulerUnreachable as exc:
            log.warning("%s/%s: %s", namespace, meta["name"], exc)
    if not how:
        chosen = scaling.lifo(plan.running, plan.retire)
        await ctx.events.warning(
            group,
            constants.REASON_LIFO_FALLBACK,
            f"could not ask the scheduler which workers to retire; removing the newest {len(chosen)} "
            f"({', '.join(chosen)}): data held on them may be lost and recomputed",
        )
    else:
        # Workers the scheduler did not pick were not connected to it: they hold no data.
        unmatched = [n for n in reversed(plan.running) if n not in chosen][: plan.retire - len(chosen)]
        chosen += unmatched
        await ctx.events.normal(
            group, constants.REASON_RETIRED, f"retired {len(chosen)} worker(s) via {how}: {', '.join(chosen)}"
        )
    for pod_name in chosen:
        await ctx.kube.annotate_pod(namespace, pod_name, {constants.ANNOTATION_RETIRING: how or "lifo"})
    for pod_name in chosen:
        await ctx.kube.delete_pod(namespace, pod_name)


async def reconcile(ctx: Context, namespace: str, name: str) -> None:
    """Move one worker group's Pods towards its replicas, then report status."""
    group = await common.live(ctx, PLURAL, namespace, name)
    if group is None:
        return
    if await common.reject_if_invalid(ctx, PLURAL, group, {"phase": "Error"}):
        return
    # Issue 12: a group upstream's operator made (worker Deployments) is left alone and
    # marked Stalled with the migration step; never add a second set of workers to it.
    from dask_kubernetes.operator.controller import upstream_guard

    if await upstream_guard.stalled_if_upstream(ctx, PLURAL, group):
        return
    cluster_name = group["spec"]["cluster"]
    desired = int(group["spec"]["worker"].get("replicas", 1))
    selector = naming.worker_group_selector(cluster_name, name)
    base_status = {"selector": naming.selector_string(selector)}
    cluster = await ctx.kube.get(constants.PLURAL_CLUSTER, namespace, cluster_name)
    if cluster is None:
        message = f"waiting for DaskCluster {cluster_name!r}, which does not exist"
        verdict = conditions.Verdict(False, constants.REASON_WAITING_FOR_CLUSTER, message, reconciling=True)
        await statuses.write(
            ctx, PLURAL, group, {**base_status, "phase": "Pending", "workers": f"0/{desired}"}, verdict
        )
        return

    if not common.owner_of_kind(group, constants.KIND_CLUSTER):
        # A group created on its own joins its cluster for good: deleting the
        # cluster deletes it too, as the seed promises.
        await ctx.kube.patch(
            PLURAL, namespace, name, {"metadata": {"ownerReferences": [owner_reference(cluster)]}}
        )
        await ctx.events.normal(group, constants.REASON_ADOPTED, f"joined DaskCluster {cluster_name}")
    group_pods = await ctx.kube.list_pods(namespace, selector)
    plan = scaling.plan(group_pods, desired, batch_size=ctx.settings.worker_batch_size)
    for pod_name in plan.delete_now:
        await ctx.kube.delete_pod(namespace, pod_name)
    if plan.create:
        await _create_workers(ctx, group, plan.create, len(plan.replaced))
        missing = desired - (len(group_pods) - len(plan.delete_now)) - plan.create
        if missing > 0:
            ctx.poke(PLURAL, namespace, name, delay=ctx.settings.worker_batch_delay or 0)
    if plan.retire:
        await _retire(ctx, group, group_pods, plan)
    dropped = [n for n in plan.delete_now if n not in plan.replaced]
    if dropped and not plan.retire:
        await ctx.events.normal(group, constants.REASON_SCALED_DOWN, f"removed {len(dropped)} worker Pod(s)")

    live = [
        p
        for p in group_pods
        if not pods.is_terminating(p) and not pods.is_finished(p) and not pods.is_retiring(p)
    ]
    ready = sum(1 for p in live if pods.is_ready(p))
    settled = len(live) == desired and not plan.create and not plan.retire and not plan.delete_now
    if settled and ready >= desired:
        verdict = conditions.Verdict(True, "WorkersReady", f"{ready}/{desired} workers ready")
    else:
        verdict = conditions.Verdict(False, "Scaling", f"{ready}/{desired} workers ready", reconciling=True)
    fields = {
        **base_status,
        "phase": "Running",
        "replicas": len(live),
        "readyReplicas": ready,
        "workers": f"{ready}/{desired}",
    }
    await statuses.write(ctx, PLURAL, group, fields, verdict)


@kopf.on.event(*RESOURCE)
async def daskworkergroup_event(
    type: str | None, name: str, namespace: str, spec: kopf.Spec, memo: kopf.Memo, **_: Any
) -> None:
    """Reconcile the group, and its cluster, whose status mirrors the default group."""
    ctx: Context = memo.ctx
    ctx.observe(PLURAL, type, namespace, name)
    if spec.get("cluster"):
        ctx.poke(constants.PLURAL_CLUSTER, namespace, str(spec["cluster"]))


@kopf.timer(*RESOURCE, interval=15, sharp=False)
async def daskworkergroup_resync(name: str, namespace: str, memo: kopf.Memo, **_: Any) -> None:
    """Resync periodically, so a missed event or a failed call is repaired."""
    memo.ctx.poke(PLURAL, namespace, name)


@kopf.on.event("", "v1", "pods", labels={constants.LABEL_COMPONENT: kopf.PRESENT})
async def dask_pod_event(labels: kopf.Labels, namespace: str, memo: kopf.Memo, **_: Any) -> None:
    """Wake the owner of a Dask Pod when the Pod changes: status follows in moments."""
    ctx: Context = memo.ctx
    component = labels.get(constants.LABEL_COMPONENT)
    cluster = labels.get(constants.LABEL_CLUSTER_NAME)
    if component == constants.COMPONENT_WORKER and labels.get(constants.LABEL_WORKER_GROUP):
        ctx.poke(PLURAL, namespace, labels[constants.LABEL_WORKER_GROUP])
    elif component == constants.COMPONENT_SCHEDULER and cluster:
        ctx.poke(constants.PLURAL_CLUSTER, namespace, cluster)
    elif component == constants.COMPONENT_JOB_RUNNER and cluster:
        ctx.poke(constants.PLURAL_JOB, namespace, cluster)

"""DaskWorkerGroup: its own replica controller over worker Pods.

Each reconcile reads the group's Pods from the cache and follows
:func:`dask_kubernetes.operator.decisions.scaling.plan`: it replaces ended Pods,
creates missing ones in batches (dry-running each new template first), rolls
Pods of an older template over to the current one, and removes workers without
losing data — Pending Pods first, then workers it retires through the scheduler
(:mod:`.retirement`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, cast

import kopf

from dask_kubernetes.api import bodies, constants, naming, times
from dask_kubernetes.operator.builders import worker as worker_builder
from dask_kubernetes.operator.controller import admission, preflight, queueing, retirement
from dask_kubernetes.operator.decisions import conditions, progress, scaling, suspension
from dask_kubernetes.operator.runtime import children, statuses
from dask_kubernetes.operator.runtime.context import Context

log = logging.getLogger(__name__)
PLURAL = constants.PLURAL_WORKER_GROUP
RESOURCE = (constants.GROUP, constants.VERSION, PLURAL)


async def _create_workers(ctx: Context, group: bodies.DaskWorkerGroup, count: int, replacing: int) -> None:
    template = worker_builder.worker_template_hash(group)
    first = queueing.place(
        ctx, worker_builder.build_worker_pod(group, naming.worker_pod_name(group["metadata"]["name"]))
    )
    await admission.admit(ctx, group, first, template)
    created = 0
    for i in range(count):
        pod = (
            first
            if i == 0
            else queueing.place(
                ctx, worker_builder.build_worker_pod(group, naming.worker_pod_name(group["metadata"]["name"]))
            )
        )
        if await children.create_pod(ctx, pod):
            created += 1
    replaced = min(replacing, created)
    if replaced:
        await ctx.events.normal(group, constants.REASON_REPLACED, f"replaced {replaced} ended worker(s)")
    if created - replaced:
        await ctx.events.normal(
            group, constants.REASON_SCALED_UP, f"created {created - replaced} worker Pod(s)"
        )


def group_pods(ctx: Context, namespace: str, cluster: str, group: str) -> list[dict[str, Any]]:
    """Return the worker Pods of one group, from the cache."""
    return [
        p
        for p in ctx.store.of_cluster("pods", namespace, cluster)
        if (p["metadata"].get("labels") or {}).get(constants.LABEL_WORKER_GROUP) == group
        and (p["metadata"].get("labels") or {}).get(constants.LABEL_COMPONENT) == constants.COMPONENT_WORKER
    ]


def _verdict(census: scaling.Census, desired: int, plan: scaling.Plan) -> conditions.Verdict:
    """Ready only when every worker runs the current template, is Ready, and nothing is in motion."""
    ready, updated = census.ready, len(census.updated)
    busy = plan.create or plan.retire or plan.delete_now or plan.resume or census.leaving or plan.wait
    if census.outdated:
        message = f"{updated} of {desired} workers updated, {ready} ready"
        return conditions.Verdict(False, "RollingOut", message, reconciling=True)
    if not busy and len(census.active) == desired and ready >= desired:
        return conditions.Verdict(True, "WorkersReady", f"{ready}/{desired} workers ready")
    return conditions.Verdict(False, "Scaling", f"{ready}/{desired} workers ready", reconciling=True)


async def _cluster_or_wait(
    ctx: Context, group: Mapping[str, Any], base_status: Mapping[str, Any]
) -> dict[str, Any] | None:
    """Return the group's DaskCluster; while it does not exist, say so in status and return None."""
    namespace, cluster_name = group["metadata"]["namespace"], group["spec"]["cluster"]
    cluster = ctx.store.get(constants.PLURAL_CLUSTER, namespace, cluster_name)
    if cluster is None:
        desired = int(group["spec"]["worker"].get("replicas", 1))
        message = f"waiting for DaskCluster {cluster_name!r}, which does not exist"
        verdict = conditions.Verdict(False, constants.REASON_WAITING_FOR_CLUSTER, message, reconciling=True)
        await statuses.write(
            ctx, PLURAL, group, {**base_status, "phase": "Pending", "workers": f"0/{desired}"}, verdict
        )
    return cluster


async def _carry_out(
    ctx: Context, group: bodies.DaskWorkerGroup, members: list[dict[str, Any]], plan: scaling.Plan
) -> float | None:
    """Delete, create and retire workers as planned; return when to look again."""
    namespace = group["metadata"]["namespace"]
    for pod_name in plan.delete_now:
        await children.delete_pod(ctx, namespace, pod_name)
    if plan.dropped_pending:
        await ctx.events.normal(
            group, constants.REASON_SCALED_DOWN, f"removed {len(plan.dropped_pending)} Pending worker Pod(s)"
        )
    requeue = plan.wait
    if plan.create:
        await _create_workers(ctx, group, plan.create, len(plan.replaced))
        requeue = ctx.settings.worker_batch_delay or 0.0
    if plan.resume or plan.retire:
        again = await retirement.retire(ctx, group, members, plan)
        requeue = again if requeue is None else min(requeue, again if again is not None else requeue)
    return requeue


async def _report(
    ctx: Context,
    group: Mapping[str, Any],
    census: scaling.Census,
    plan: scaling.Plan,
    base_status: Mapping[str, Any],
    requeue: float | None,
) -> float | None:
    """Write the group's status, Stalled past the progress deadline; return when to look again."""
    desired = int(group["spec"]["worker"].get("replicas", 1))
    verdict = _verdict(census, desired, plan)
    counts = {
        "replicas": len(census.active),
        "readyReplicas": census.ready,
        "updatedReplicas": len(census.updated),
    }
    now = ctx.clock()
    since = progress.last_progress(
        group,
        counts,
        ready=verdict.ready,
        now=now,
    )
    limit = progress.deadline(group["spec"])
    if not verdict.ready and now - since >= limit:
        problems = progress.pod_problems(census.active) or ["workers do not become Ready"]
        message = f"no progress for {limit}s: {verdict.message}; " + "; ".join(problems)
        verdict = conditions.Verdict(False, constants.REASON_PROGRESS_DEADLINE, message, stalled=True)
    elif not verdict.ready:
        requeue = min(requeue, limit) if requeue is not None else limit
    fields = {
        **base_status,
        **counts,
        "phase": "Running",
        "workers": f"{census.ready}/{desired}",
        "lastProgressTime": times.format_time(since),
    }
    await statuses.write(ctx, PLURAL, group, fields, verdict)
    return requeue


async def _suspend(
    ctx: Context, group: bodies.DaskWorkerGroup, cluster: Mapping[str, Any], base_status: Mapping[str, Any]
) -> float | None:
    """Delete every worker Pod of a suspended cluster's group (Pending first); keep ``replicas``.

    Nothing is retired: a suspension drops what the workers hold, and the cluster
    has said so in a Warning first (the group waits for that).
    """
    meta = group["metadata"]
    namespace, name, cluster_name = meta["namespace"], meta["name"], group["spec"]["cluster"]
    desired = int(group["spec"]["worker"].get("replicas", 1))
    if suspension.announced(cluster):
        doomed = suspension.deletion_order(group_pods(ctx, namespace, cluster_name, name))
        for pod_name in doomed:
            await children.delete_pod(ctx, namespace, pod_name)
        if doomed:
            await ctx.events.normal(
                group,
                constants.REASON_SUSPENDED,
                f"deleted {len(doomed)} worker Pod(s): the cluster is suspended",
            )
    left = len(group_pods(ctx, namespace, cluster_name, name))
    verdict = suspension.verdict("worker group", left, desired)
    fields = {
        **base_status,
        "replicas": 0,
        "readyReplicas": 0,
        "updatedReplicas": 0,
        "phase": "Suspended" if not left else "Suspending",
        "workers": f"0/{desired}",
    }
    await statuses.write(ctx, PLURAL, group, fields, verdict)
    return suspension.POLL_SECONDS if left else None


async def _within_quota(ctx: Context, group: bodies.DaskWorkerGroup, replicas: int) -> int:
    """The replicas to run: never more than Kueue admitted for the group, when its cluster is queued."""
    cap = queueing.admitted_cap(ctx, group)
    if cap is None or replicas <= cap:
        return replicas
    await ctx.events.warning(
        group,
        queueing.REASON_OVER_QUOTA,
        f"replicas {replicas} exceed the {cap} worker Pod(s) Kueue admitted for this group; running {cap} "
        "(a larger group needs a new admission: set spec.active false, then true, on the cluster's Workload)",
    )
    return cap


async def reconcile(ctx: Context, namespace: str, name: str) -> float | None:
    """Move one worker group's Pods towards its replicas and template, then report status."""
    group = cast("bodies.DaskWorkerGroup | None", await preflight.reconcilable(ctx, PLURAL, namespace, name))
    if group is None:
        return None
    cluster_name = group["spec"]["cluster"]
    base_status = {"selector": naming.selector_string(naming.worker_group_selector(cluster_name, name))}
    cluster = await _cluster_or_wait(ctx, group, base_status)
    if cluster is None:
        return None
    await preflight.join_cluster(ctx, PLURAL, group, cluster)
    if suspension.is_suspended(cluster):
        return await _suspend(ctx, group, cluster, base_status)
    template = worker_builder.worker_template_hash(group)
    members = group_pods(ctx, namespace, cluster_name, name)
    plan = scaling.plan(
        members,
        await _within_quota(ctx, group, int(group["spec"]["worker"].get("replicas", 1))),
        template=template,
        rollout=group["spec"]["worker"].get("rollout"),
        batch_size=ctx.settings.worker_batch_size,
        batch_delay=ctx.settings.worker_batch_delay,
        now=ctx.clock(),
    )
    requeue = await _carry_out(ctx, group, members, plan)
    census = scaling.census(group_pods(ctx, namespace, cluster_name, name), template)
    return await _report(ctx, group, census, plan, base_status, requeue)


@kopf.on.event(*RESOURCE)
async def daskworkergroup_event(
    type: str | None, body: kopf.Body, spec: kopf.Spec, memo: kopf.Memo, **kwargs: Any
) -> None:
    """Reconcile the group on a change, and its cluster, whose status mirrors the default group."""
    ctx: Context = memo.ctx
    ctx.observe(PLURAL, type, body, kwargs)
    if spec.get("cluster"):
        ctx.poke(constants.PLURAL_CLUSTER, body["metadata"]["namespace"], str(spec["cluster"]))


@kopf.on.event("", "v1", "pods", labels={constants.LABEL_CLUSTER_NAME: kopf.PRESENT})
async def dask_pod_event(labels: kopf.Labels, namespace: str | None, memo: kopf.Memo, **kwargs: Any) -> None:
    """Wake the owner of a Dask Pod when the Pod changes: status follows in moments."""
    ctx: Context = memo.ctx
    ctx.store.attach(kwargs)
    if not namespace:  # Pods are namespaced; kopf types the argument for every resource
        return
    component = labels.get(constants.LABEL_COMPONENT)
    cluster = labels.get(constants.LABEL_CLUSTER_NAME)
    if component == constants.COMPONENT_WORKER and labels.get(constants.LABEL_WORKER_GROUP):
        ctx.poke(PLURAL, namespace, labels[constants.LABEL_WORKER_GROUP])
    elif component == constants.COMPONENT_SCHEDULER and cluster:
        ctx.poke(constants.PLURAL_CLUSTER, namespace, cluster)
    elif component == constants.COMPONENT_JOB_RUNNER and cluster:
        ctx.poke(constants.PLURAL_JOB, namespace, cluster)

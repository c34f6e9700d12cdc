"""DaskCluster: a scheduler Pod, a scheduler Service and the default DaskWorkerGroup.

The reconcile is level-based: it compares the children that should exist with
those in the cache and acts — a deleted scheduler Pod comes back, a changed
``spec.scheduler.spec`` recreates the scheduler (with a Warning first: tasks in
flight are lost), a changed Service spec is patched in place, and the default
group follows all of ``spec.worker``.  The cluster's status mirrors the default
group's replica counts (serving ``kubectl scale daskcluster``) and is Ready only
when the scheduler and every worker run the current spec.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, cast

import kopf

from dask_kubernetes.api import bodies, constants, naming, times
from dask_kubernetes.operator.builders import scheduler as scheduler_builder
from dask_kubernetes.operator.builders import worker as worker_builder
from dask_kubernetes.operator.controller import admission, preflight, queueing, schedulers, written
from dask_kubernetes.operator.decisions import conditions, pods, progress, suspension
from dask_kubernetes.operator.runtime import children, statuses
from dask_kubernetes.operator.runtime.context import Context
from dask_kubernetes.operator.runtime.scheduler_client import SchedulerUnreachable

log = logging.getLogger(__name__)
PLURAL = constants.PLURAL_CLUSTER
RESOURCE = (constants.GROUP, constants.VERSION, PLURAL)


def _outdated(pod: Mapping[str, Any], template: str) -> bool:
    """A scheduler Pod of another spec; one made before Pods carried the hash is adopted as is."""
    have = (pod["metadata"].get("labels") or {}).get(constants.LABEL_SCHEDULER_TEMPLATE_HASH)
    return have is not None and have != template


async def _ensure_scheduler(ctx: Context, cluster: bodies.DaskCluster) -> dict[str, Any] | None:
    """Create, replace or recreate the scheduler Pod; return the current one (None while it is replaced)."""
    meta = cluster["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    pod = schedulers.scheduler_pod(ctx, namespace, name)
    if pod is not None and pods.is_terminating(pod):
        return None
    template = scheduler_builder.scheduler_template_hash(cluster)
    if pod is not None and pods.is_finished(pod):
        await children.delete_pod(ctx, namespace, pods.name(pod))
        await ctx.events.warning(
            cluster, constants.REASON_RECREATED, f"scheduler Pod ended ({pods.phase(pod)})"
        )
        return None
    desired = queueing.place(ctx, scheduler_builder.build_scheduler_pod(cluster))
    if pod is not None and _outdated(pod, template):
        await admission.admit(ctx, cluster, desired, template)
        await ctx.events.warning(
            cluster,
            constants.REASON_SCHEDULER_REPLACED,
            "spec.scheduler.spec changed: recreating the scheduler Pod; tasks in flight are lost, "
            "workers reconnect through the Service",
        )
        await children.delete_pod(ctx, namespace, pods.name(pod))
        return None
    if pod is None:
        await admission.admit(ctx, cluster, desired, template)
        seen_before = bool(
            bodies.status_of(cluster).get("phase") in ("Pending", "Running", "Suspending", "Suspended")
        )
        if await children.create_pod(ctx, desired):
            reason = constants.REASON_RECREATED if seen_before else constants.REASON_CREATED
            await ctx.events.normal(cluster, reason, f"scheduler Pod {naming.scheduler_name(name)}")
    return pod


async def _ensure_service(ctx: Context, cluster: bodies.DaskCluster) -> None:
    """Create the scheduler Service, or patch it in place when ``spec.scheduler.service`` changed."""
    meta = cluster["metadata"]
    namespace, service_name = meta["namespace"], naming.scheduler_name(meta["name"])
    desired = scheduler_builder.build_scheduler_service(cluster)
    live = ctx.store.get("services", namespace, service_name)
    if live is None:
        what = f"Service {service_name} (from spec.scheduler.service)"
        created = await children.refused_as(what, ctx.kube.create_service(namespace, desired))
        if created:
            ctx.store.remember("services", created, created=True)
            await ctx.events.normal(cluster, constants.REASON_CREATED, f"Service {service_name}")
        return
    patch = scheduler_builder.service_patch(desired, live)
    if patch:
        what = f"Service {service_name} (from spec.scheduler.service)"
        patched = await children.refused_as(what, ctx.kube.patch_service(namespace, service_name, patch))
        ctx.store.remember("services", patched)
        changed = ", ".join(sorted(patch["spec"]))
        await ctx.events.normal(
            cluster, constants.REASON_SERVICE_UPDATED, f"Service {service_name}: {changed}"
        )


async def _ensure_default_group(ctx: Context, cluster: bodies.DaskCluster) -> dict[str, Any] | None:
    """Create the default group and keep all of its ``spec.worker`` in step with the cluster's.

    Replicas are pushed only when the cluster's generation moved, so a direct
    ``kubectl scale daskworkergroup`` or the autoscaler is not undone by a resync,
    and not when only ``spec.suspend`` changed (the group's annotation holds the hash
    of the rest of the spec), so a suspension keeps the group's replicas.
    """
    meta = cluster["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    group_name = naming.default_worker_group_name(name)
    group = ctx.store.get(constants.PLURAL_WORKER_GROUP, namespace, group_name)
    desired = worker_builder.build_default_worker_group(cluster)
    spec_hash = suspension.spec_hash(cluster)
    if group is None:
        desired["metadata"].setdefault("annotations", {})[constants.ANNOTATION_CLUSTER_SPEC_HASH] = spec_hash
        created = await ctx.kube.create(constants.PLURAL_WORKER_GROUP, namespace, desired)
        if created:
            ctx.store.remember(constants.PLURAL_WORKER_GROUP, created, created=True)
            await ctx.events.normal(cluster, constants.REASON_CREATED, f"DaskWorkerGroup {group_name}")
        return created
    want = dict(desired["spec"]["worker"])
    have = group["spec"].get("worker", {})
    followed = (group["metadata"].get("annotations") or {}).get(constants.ANNOTATION_CLUSTER_SPEC_HASH)
    spec_changed = bodies.status_of(cluster).get("observedGeneration") != meta.get("generation")
    if not (spec_changed and followed != spec_hash and "replicas" in want):
        want["replicas"] = have.get("replicas", want.get("replicas"))
    if want != have:
        group = await written.replace_once(ctx, constants.PLURAL_WORKER_GROUP, group, "/spec/worker", want)
    deadline = desired["spec"].get("progressDeadlineSeconds")
    patch: dict[str, Any] = {}
    if group["spec"].get("progressDeadlineSeconds") != deadline:
        patch["spec"] = {"progressDeadlineSeconds": deadline}
    if followed != spec_hash:
        patch["metadata"] = {"annotations": {constants.ANNOTATION_CLUSTER_SPEC_HASH: spec_hash}}
    if patch:
        group = await ctx.kube.patch(constants.PLURAL_WORKER_GROUP, namespace, group_name, patch)
        ctx.store.remember(constants.PLURAL_WORKER_GROUP, group)
    return group


async def _check_idle(ctx: Context, cluster: bodies.DaskCluster, scheduler_pod: Mapping[str, Any]) -> bool:
    """Delete the cluster if its scheduler has been idle longer than ``idleTimeout``."""
    timeout = int(cluster["spec"].get("idleTimeout") or 0)
    address = schedulers.scheduler_address(scheduler_pod)
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


def _is_true(obj: Mapping[str, Any], type_: str) -> bool:
    found = bodies.condition(obj, type_)
    return found is not None and found.get("status") == "True"


def _group_current(group: Mapping[str, Any]) -> bool:
    """Tell whether the group's status speaks of its current generation."""
    status = bodies.status_of(group)
    return bool(status.get("observedGeneration") == group.get("metadata", {}).get("generation"))


def _verdict(
    scheduler_ready: bool, replacing: bool, group: Mapping[str, Any], desired: int
) -> conditions.Verdict:
    """Ready only when the scheduler and every worker of the default group run the current spec."""
    ready = int(bodies.status_of(group).get("readyReplicas") or 0)
    if replacing:
        return conditions.Verdict(False, "RollingOut", "replacing the scheduler Pod", reconciling=True)
    if not scheduler_ready:
        return conditions.Verdict(
            False, "SchedulerNotReady", "waiting for the scheduler Pod", reconciling=True
        )
    # A group still reading Suspended (Ready=True) has not yet brought its workers back.
    group_ready = _is_true(group, conditions.READY) and not _is_true(group, conditions.SUSPENDED)
    if not (group_ready and _group_current(group)):
        reconciling = bodies.condition(group, conditions.RECONCILING)
        if reconciling and reconciling.get("status") == "True" and reconciling.get("reason") == "RollingOut":
            return conditions.Verdict(False, "RollingOut", str(reconciling.get("message")), reconciling=True)
        return conditions.Verdict(
            False, "WorkersNotReady", f"{ready}/{desired} workers ready", reconciling=True
        )
    return conditions.Verdict(True, "Running", f"scheduler ready, {ready}/{desired} workers ready")


def _status_fields(
    cluster: Mapping[str, Any], group: Mapping[str, Any], *, scheduler_ready: bool, first_sight: bool
) -> tuple[dict[str, Any], int]:
    """The cluster's status fields but ``lastProgressTime``, and the default group's desired replicas."""
    name = cluster["metadata"]["name"]
    group_status = bodies.status_of(group)
    # The default group's replicas: the cluster's, pushed on every change of its spec, or
    # what `kubectl scale daskworkergroup`, KubeCluster.scale() or the autoscaler set since.
    desired = int(
        group.get("spec", {}).get("worker", {}).get("replicas", cluster["spec"]["worker"].get("replicas", 0))
    )
    ready_workers = int(group_status.get("readyReplicas") or 0)
    if first_sight:
        phase = "Created"
    else:
        phase = "Running" if scheduler_ready else "Pending"
    fields = {
        "phase": phase,
        "replicas": int(group_status.get("replicas") or 0),
        "readyReplicas": ready_workers,
        "updatedReplicas": int(group_status.get("updatedReplicas") or 0),
        "selector": naming.selector_string(
            naming.worker_group_selector(name, naming.default_worker_group_name(name))
        ),
        "workers": f"{ready_workers}/{desired}",
    }
    return fields, desired


def _progress(
    ctx: Context,
    cluster: Mapping[str, Any],
    group: Mapping[str, Any],
    fields: Mapping[str, Any],
    verdict: conditions.Verdict,
    scheduler: Mapping[str, Any] | None,
) -> tuple[conditions.Verdict, float]:
    """Apply the progress deadline; return the verdict and when progress was last made.

    The cluster is Stalled when its default group is, or when its scheduler Pod
    (``scheduler``, None while not Ready) has not become Ready within the deadline.
    """
    counts = {key: fields[key] for key in ("phase", "readyReplicas", "updatedReplicas")}
    now = ctx.clock()
    since = progress.last_progress(
        cluster,
        counts,
        ready=verdict.ready,
        now=now,
    )
    limit = progress.deadline(cluster["spec"])
    group_stalled = bodies.condition(group, conditions.STALLED)
    if not verdict.ready and group_stalled and group_stalled.get("status") == "True":
        verdict = conditions.Verdict(
            False,
            str(group_stalled.get("reason")),
            f"worker group: {group_stalled.get('message')}",
            stalled=True,
        )
    elif not verdict.ready and scheduler is not None and now - since >= limit:
        problems = progress.pod_problems([scheduler]) or ["it does not become Ready"]
        message = f"no progress for {limit}s: the scheduler Pod is not Ready; " + "; ".join(problems)
        verdict = conditions.Verdict(False, constants.REASON_PROGRESS_DEADLINE, message, stalled=True)
    return verdict, since


async def _suspend(ctx: Context, cluster: bodies.DaskCluster, group: Mapping[str, Any]) -> float | None:
    """Park the cluster: its groups delete their workers, then the scheduler Pod goes.

    A Warning says first that what the workers hold is lost; the worker groups wait
    for the Suspending condition that follows it.  Service and groups stay.
    """
    meta = cluster["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    workers = [
        p
        for p in ctx.store.of_cluster("pods", namespace, name)
        if (p["metadata"].get("labels") or {}).get(constants.LABEL_COMPONENT) == constants.COMPONENT_WORKER
    ]
    scheduler = schedulers.scheduler_pod(ctx, namespace, name)
    if not suspension.announced(cluster) and (workers or scheduler is not None):
        await ctx.events.warning(
            cluster,
            constants.REASON_SUSPENDING,
            f"spec.suspend is true: deleting {len(workers)} worker Pod(s), then the scheduler Pod; "
            "what the workers hold in memory is lost",
        )
    elif not suspension.announced(cluster):
        await ctx.events.normal(cluster, constants.REASON_SUSPENDED, "spec.suspend is true: no Pod is made")
    if not workers and scheduler is not None and not pods.is_terminating(scheduler):
        await children.delete_pod(ctx, namespace, pods.name(scheduler))
        scheduler = schedulers.scheduler_pod(ctx, namespace, name)
    left = len(workers) + (scheduler is not None)
    fields, desired = _status_fields(cluster, group, scheduler_ready=False, first_sight=False)
    fields["phase"] = "Suspending" if left else "Suspended"
    verdict = suspension.verdict("cluster", left, desired)
    if not left:
        verdict = queueing.parked_verdict(ctx, PLURAL, cluster) or verdict
    await statuses.write(ctx, PLURAL, cluster, fields, verdict)
    return suspension.POLL_SECONDS if left else None


async def reconcile(ctx: Context, namespace: str, name: str) -> float | None:
    """Bring one DaskCluster's children and status in line with its spec."""
    cluster = cast("bodies.DaskCluster | None", await preflight.reconcilable(ctx, PLURAL, namespace, name))
    if cluster is None:
        return None
    held = await queueing.gate(ctx, PLURAL, cluster)
    if held is not None:
        return held.requeue
    cluster = cast("bodies.DaskCluster", children.live(ctx, PLURAL, namespace, name) or cluster)
    first_sight = not bodies.status_of(cluster).get("phase")
    await _ensure_service(ctx, cluster)
    if suspension.is_suspended(cluster):
        return await _suspend(ctx, cluster, await _ensure_default_group(ctx, cluster) or {})
    existing = schedulers.scheduler_pod(ctx, namespace, name)
    scheduler_pod = await _ensure_scheduler(ctx, cluster)
    replacing = existing is not None and scheduler_pod is None
    group = await _ensure_default_group(ctx, cluster) or {}
    scheduler_ready = scheduler_pod is not None and pods.is_ready(scheduler_pod)
    if scheduler_ready and scheduler_pod is not None and await _check_idle(ctx, cluster, scheduler_pod):
        return None
    fields, desired = _status_fields(cluster, group, scheduler_ready=scheduler_ready, first_sight=first_sight)
    not_ready = None if scheduler_ready else (scheduler_pod or existing or {})
    verdict, since = _progress(
        ctx, cluster, group, fields, _verdict(scheduler_ready, replacing, group, desired), not_ready
    )
    fields["lastProgressTime"] = times.format_time(since)
    await statuses.write(ctx, PLURAL, cluster, fields, verdict)
    if first_sight or replacing:
        return 0.5
    return None if verdict.ready or verdict.stalled else float(progress.deadline(cluster["spec"]))


@kopf.on.event(*RESOURCE)
async def daskcluster_event(type: str | None, body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
    """Reconcile on every change; a job's cluster also wakes its job.

    A cluster that is or was suspended also wakes its worker groups, which act on
    its suspension.
    """
    ctx: Context = memo.ctx
    ctx.observe(PLURAL, type, body, kwargs)
    namespace = body["metadata"]["namespace"]
    touched = suspension.is_suspended(body) or bodies.condition(body, conditions.SUSPENDED) is not None
    for group in ctx.store.of_cluster(constants.PLURAL_WORKER_GROUP, namespace, body["metadata"]["name"]):
        if touched:
            ctx.poke(constants.PLURAL_WORKER_GROUP, namespace, group["metadata"]["name"])
    job = naming.owner_of_kind(body, constants.KIND_JOB)
    if job:
        ctx.poke(constants.PLURAL_JOB, body["metadata"]["namespace"], job)


@kopf.on.event("", "v1", "services", labels={constants.LABEL_CLUSTER_NAME: kopf.PRESENT})
async def dask_service_event(
    labels: kopf.Labels, namespace: str | None, memo: kopf.Memo, **kwargs: Any
) -> None:
    """Reconcile the cluster when its Service changes (or is deleted by hand)."""
    ctx: Context = memo.ctx
    ctx.store.attach(kwargs)
    cluster = labels.get(constants.LABEL_CLUSTER_NAME)
    if cluster and namespace and labels.get(constants.LABEL_COMPONENT) == constants.COMPONENT_SCHEDULER:
        ctx.poke(PLURAL, namespace, cluster)

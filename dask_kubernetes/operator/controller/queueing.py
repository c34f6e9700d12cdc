"""Kueue: a queued DaskJob or DaskCluster runs only while Kueue admits its Workload.

An object labelled ``kueue.x-k8s.io/queue-name`` (with the operator's Kueue
integration on) is described to Kueue by one Workload it owns
(:mod:`..builders.workload`), and :func:`gate` runs before its reconcile:

- no Workload yet: create it; the object stays (or is made) suspended;
- pending: stay suspended (status reads Suspended, reason Queued);
- admitted: record where each PodSet's Pods go in ``status.queue`` and unsuspend;
- evicted: suspend again with a Warning naming Kueue's reason; once none of the
  object's Pods is left, hand the Workload back to Kueue's queue;
- a DaskJob that ended: mark its Workload Finished, releasing the quota.

``spec.suspend`` of a queued object is Kueue's to set, through the operator, as
``spec.suspend`` of a batch Job is under Kueue.  The Pods the operator creates for
an admitted object get its flavors' nodeSelector and tolerations (:func:`place`),
and a worker group never runs more Pods than Kueue admitted (:func:`admitted_cap`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dask_kubernetes.api import bodies, constants, kueue, naming
from dask_kubernetes.operator.builders import workload as workload_builder
from dask_kubernetes.operator.decisions import conditions, jobs, suspension
from dask_kubernetes.operator.decisions import queueing as decide
from dask_kubernetes.operator.runtime import statuses
from dask_kubernetes.operator.runtime.context import Context

log = logging.getLogger(__name__)

REASON_QUEUED = "Queued"
REASON_ADMITTED = "Admitted"
REASON_EVICTED = "Evicted"
REASON_TOO_MANY_PODSETS = "TooManyPodSets"
REASON_OVER_QUOTA = "OverQuota"


@dataclass(frozen=True)
class Hold:
    """The reconcile stops here, and runs again after ``requeue`` seconds (None: on the next event)."""

    requeue: float | None


def queued(ctx: Context, plural: str, obj: Mapping[str, Any]) -> bool:
    """Whether Kueue decides when this object runs: the integration is on and it names a queue.

    A DaskJob's own cluster is never queued itself: the job's Workload covers its Pods.
    """
    if not ctx.settings.kueue or kueue.queue_name(obj) is None:
        return False
    return not (plural == constants.PLURAL_CLUSTER and naming.owner_of_kind(obj, constants.KIND_JOB))


def _owned(workload: Mapping[str, Any], obj: Mapping[str, Any]) -> bool:
    uid = obj["metadata"].get("uid")
    return any(ref.get("uid") == uid for ref in workload["metadata"].get("ownerReferences") or [])


def _podsets(ctx: Context, plural: str, obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    if plural == constants.PLURAL_JOB:
        return workload_builder.job_podsets(obj)
    meta = obj["metadata"]
    groups = ctx.store.of_cluster(constants.PLURAL_WORKER_GROUP, meta["namespace"], meta["name"])
    autoscalers = ctx.store.of_cluster(constants.PLURAL_AUTOSCALER, meta["namespace"], meta["name"])
    shapes = workload_builder.cluster_groups(obj, groups, autoscalers)
    return workload_builder.cluster_podsets(obj, shapes)


async def _priority(ctx: Context, obj: Mapping[str, Any]) -> tuple[str, int] | None:
    name = kueue.priority_class(obj)
    if name is None:
        return None
    found = await ctx.kube.get_kueue(kueue.PLURAL_WORKLOAD_PRIORITY_CLASS, None, name)
    if found is None:
        await ctx.events.warning(
            obj,
            REASON_QUEUED,
            f"WorkloadPriorityClass {name} (label {kueue.PRIORITY_CLASS_LABEL}) not found: "
            "the Workload gets the default priority",
        )
        return None
    return name, int(found.get("value") or 0)


async def _placement(ctx: Context, workload: Mapping[str, Any]) -> list[dict[str, Any]]:
    names = {f for a in kueue.assignments(workload) for f in (a.get("flavors") or {}).values()}
    flavors: dict[str, Mapping[str, Any]] = {}
    for name in sorted(names):
        found = await ctx.kube.get_kueue(kueue.PLURAL_RESOURCE_FLAVOR, None, str(name))
        if found is not None:
            flavors[str(name)] = found
    return list(workload_builder.placement(workload, flavors).values())


async def _set_suspend(ctx: Context, plural: str, obj: Mapping[str, Any], value: bool) -> None:
    meta = obj["metadata"]
    patched = await ctx.kube.patch(plural, meta["namespace"], meta["name"], {"spec": {"suspend": value}})
    ctx.store.remember(plural, patched)


async def _write_queue(ctx: Context, plural: str, obj: Mapping[str, Any], queue: dict[str, Any]) -> None:
    meta = obj["metadata"]
    have = bodies.status_of(obj).get("queue") or {}
    want = {k: v for k, v in queue.items() if v is not None}
    if have == want:
        return
    written = await ctx.kube.patch_status(plural, meta["namespace"], meta["name"], {"queue": queue})
    if written is not None:
        ctx.store.remember(plural, written)


def _pods_left(ctx: Context, plural: str, obj: Mapping[str, Any]) -> int:
    meta = obj["metadata"]
    cluster = naming.job_cluster_name(meta["name"]) if plural == constants.PLURAL_JOB else meta["name"]
    return len(ctx.store.of_cluster("pods", meta["namespace"], cluster))


async def _finish(ctx: Context, obj: Mapping[str, Any], workload: Mapping[str, Any]) -> None:
    status = bodies.status_of(obj)
    succeeded = status.get("jobStatus") == "Successful"
    message = f"DaskJob {obj['metadata']['name']} ended {status.get('jobStatus')}"
    if status.get("reason"):
        message += f" ({status['reason']})"
    meta = workload["metadata"]
    await ctx.kube.patch_kueue_status(
        kueue.PLURAL_WORKLOAD,
        meta["namespace"],
        meta["name"],
        decide.finished_status(workload, succeeded, message, ctx.clock()),
        resource_version=str(meta["resourceVersion"]),
    )


async def _create(
    ctx: Context, plural: str, obj: Mapping[str, Any], name: str, queue: str, podsets: list[dict[str, Any]]
) -> Hold:
    if len(podsets) > kueue.MAX_PODSETS:
        message = (
            f"{len(podsets)} PodSets (the scheduler and {len(podsets) - 1} other Pod kinds) exceed Kueue's "
            f"limit of {kueue.MAX_PODSETS}: no Workload is made; remove a worker group"
        )
        verdict = conditions.Verdict(False, REASON_TOO_MANY_PODSETS, message, stalled=True)
        await statuses.write(ctx, plural, obj, {}, verdict)
        await ctx.events.warning(obj, REASON_TOO_MANY_PODSETS, message)
        return Hold(None)
    body = workload_builder.build_workload(obj, podsets, await _priority(ctx, obj))
    created = await ctx.kube.create_kueue(kueue.PLURAL_WORKLOAD, obj["metadata"]["namespace"], body)
    if created is not None:
        await ctx.events.normal(obj, REASON_QUEUED, f"Workload {name} created in LocalQueue {queue}")
    return Hold(0.5)


async def gate(ctx: Context, plural: str, obj: Mapping[str, Any]) -> Hold | None:
    """Hold a queued object back until Kueue admits it, and follow its Workload; None: reconcile on."""
    if not queued(ctx, plural, obj) or obj["metadata"].get("deletionTimestamp"):
        return None
    meta = obj["metadata"]
    queue = kueue.queue_name(obj) or ""
    name = kueue.workload_name(obj["kind"], meta["name"])
    workload = await ctx.kube.get_kueue(kueue.PLURAL_WORKLOAD, meta["namespace"], name)
    if workload is not None and not _owned(workload, obj):
        # Left by an earlier object of this name: the garbage collector deletes it.
        verdict = decide.queued_verdict(queue, name, "waiting for the Workload of an earlier object to go")
        await statuses.write(ctx, plural, obj, {}, verdict)
        return Hold(decide.POLL_SECONDS)
    finished = plural == constants.PLURAL_JOB and bodies.status_of(obj).get("jobStatus") in jobs.TERMINAL
    if finished:
        if workload is not None and decide.state(workload) is not decide.State.FINISHED:
            await _finish(ctx, obj, workload)
        return None
    if workload is None:
        if not suspension.is_suspended(obj):
            await _set_suspend(ctx, plural, obj, True)
        return await _create(ctx, plural, obj, name, queue, _podsets(ctx, plural, obj))
    state = decide.state(workload)
    if state is decide.State.ADMITTED:
        await _write_queue(
            ctx, plural, obj, decide.queue_status(queue, name, True, await _placement(ctx, workload))
        )
        if suspension.is_suspended(obj):
            await ctx.events.normal(obj, REASON_ADMITTED, f"Kueue admitted Workload {name}: starting")
            await _set_suspend(ctx, plural, obj, False)
            return Hold(0.0)
        return None
    await _write_queue(ctx, plural, obj, decide.queue_status(queue, name, False))
    reserved = kueue.is_true(workload, kueue.CONDITION_QUOTA_RESERVED)
    if not reserved and not workload_builder.podsets_match(workload, _podsets(ctx, plural, obj)):
        # Not holding quota, and no longer what the object would run (a group added,
        # replicas changed): made anew, as Kueue's job integrations do.
        await ctx.kube.delete_kueue(kueue.PLURAL_WORKLOAD, meta["namespace"], name)
        await ctx.events.normal(obj, REASON_QUEUED, f"Workload {name} made anew: the object's Pods changed")
        return Hold(0.5)
    if state is decide.State.EVICTED:
        reason, message = decide.eviction(workload)
        if not suspension.is_suspended(obj):
            await ctx.events.warning(
                obj,
                REASON_EVICTED,
                f"Kueue evicted Workload {name} ({reason}): {message}; its Pods are deleted",
            )
            await _set_suspend(ctx, plural, obj, True)
            return Hold(0.0)
        if _pods_left(ctx, plural, obj) == 0 and reserved:
            wl_meta = workload["metadata"]
            await ctx.kube.patch_kueue_status(
                kueue.PLURAL_WORKLOAD,
                wl_meta["namespace"],
                wl_meta["name"],
                decide.requeue_status(workload, ctx.clock()),
                resource_version=str(wl_meta["resourceVersion"]),
            )
        return None
    if state is decide.State.PENDING and not suspension.is_suspended(obj):
        await _set_suspend(ctx, plural, obj, True)
        return Hold(0.0)
    return None


def parked_verdict(ctx: Context, plural: str, obj: Mapping[str, Any]) -> conditions.Verdict | None:
    """The Queued verdict for a queued object that Kueue has not admitted (None: not queued)."""
    if not queued(ctx, plural, obj):
        return None
    queue = bodies.status_of(obj).get("queue") or {}
    if queue.get("admitted"):
        return None
    name = kueue.workload_name(obj["kind"], obj["metadata"]["name"])
    return decide.queued_verdict(kueue.queue_name(obj) or "", name)


def _owner(ctx: Context, namespace: str, cluster_name: str) -> Mapping[str, Any] | None:
    """The queued object whose Workload covers a cluster's Pods: the cluster, or the DaskJob that made it."""
    cluster = ctx.store.get(constants.PLURAL_CLUSTER, namespace, cluster_name)
    if cluster is None:
        return None
    job = naming.owner_of_kind(cluster, constants.KIND_JOB)
    if job:
        return ctx.store.get(constants.PLURAL_JOB, namespace, job)
    return cluster


def place(ctx: Context, pod: dict[str, Any]) -> dict[str, Any]:
    """A Pod about to be created, with its PodSet's admitted nodeSelector and tolerations (if queued)."""
    if not ctx.settings.kueue:
        return pod
    labels = pod["metadata"].get("labels") or {}
    cluster = labels.get(constants.LABEL_CLUSTER_NAME)
    podset = workload_builder.podset_of_pod(pod)
    owner = _owner(ctx, pod["metadata"]["namespace"], str(cluster)) if cluster else None
    if owner is None or podset is None:
        return pod
    where = decide.podset_placement(owner, podset)
    if where is None:
        return pod
    return {**pod, "spec": workload_builder.place_pod_spec(pod["spec"], where)}


def admitted_cap(ctx: Context, group: Mapping[str, Any]) -> int | None:
    """The most worker Pods Kueue admitted for a group (None: not queued), so it never outgrows its quota."""
    if not ctx.settings.kueue:
        return None
    owner = _owner(ctx, group["metadata"]["namespace"], str(group["spec"]["cluster"]))
    if owner is None:
        return None
    return decide.admitted_count(owner, kueue.podset_name(group["metadata"]["name"]))

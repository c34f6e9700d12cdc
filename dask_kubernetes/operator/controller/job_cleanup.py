"""A DaskJob's end: Successful or Failed for good, then its clean-up policy.

The end is written first (``jobStatus``, ``endTime``, the reason and the counts);
what follows is level-based and safe to repeat: runners that still run (a deadline
ended the job) are deleted, and ``ttlSecondsAfterFinished`` after the end the
``deletionPolicy`` is carried out — DeleteCluster (upstream's behaviour, the
default), DeleteWorkers (the scheduler and its dashboard stay for debugging),
DeleteNone, or DeleteSelf.  The runner Pod that ended the job stays, so its logs
can be read, until the DaskJob itself is deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dask_kubernetes.api import bodies, constants, naming, times
from dask_kubernetes.operator.decisions import conditions, jobs, pods
from dask_kubernetes.operator.runtime import children, statuses
from dask_kubernetes.operator.runtime.context import Context

PLURAL = constants.PLURAL_JOB


async def commit(
    ctx: Context, job: bodies.DaskJob, fields: Mapping[str, Any], verdict: conditions.Verdict
) -> bodies.DaskJob:
    """Write one transition, only over the version of the job it was decided on; return the new job."""
    await statuses.write(ctx, PLURAL, job, fields, verdict, guarded=True)
    meta = job["metadata"]
    found = ctx.store.get(PLURAL, meta["namespace"], meta["name"])
    return job if found is None else found  # type: ignore[return-value]


def failed_verdict(reason: str, message: str) -> conditions.Verdict:
    """A job that failed for good: Stalled, so kstatus reads Failed and Flux stops waiting."""
    return conditions.Verdict(False, reason, message, stalled=True)


def _terminal_verdict(job: Mapping[str, Any]) -> conditions.Verdict:
    """The verdict an ended job keeps, with the message its end was written with."""
    status = bodies.status_of(job)
    ready = bodies.condition(job, conditions.READY) or {}
    if status.get("jobStatus") == "Successful":
        return conditions.Verdict(True, "Succeeded", str(ready.get("message") or "the runner Pod succeeded"))
    reason = str(status.get("reason") or "Failed")
    return failed_verdict(reason, str(ready.get("message") or "the job failed"))


def runners(ctx: Context, job: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every runner Pod under the job's cluster name, of this job or an earlier one of its name."""
    meta = job["metadata"]
    return [
        p
        for p in ctx.store.of_cluster("pods", meta["namespace"], naming.job_cluster_name(meta["name"]))
        if (p["metadata"].get("labels") or {}).get(constants.LABEL_COMPONENT)
        == constants.COMPONENT_JOB_RUNNER
    ]


async def delete_runners(ctx: Context, job: Mapping[str, Any], *, keep_finished: bool) -> int:
    """Delete this job's runner Pods (but finished ones, if asked); return how many are still there."""
    left = 0
    for pod in runners(ctx, job):
        if not jobs.owned_by(pod, job) or (keep_finished and pods.is_finished(pod)):
            continue
        if not pods.is_terminating(pod):
            await children.delete_pod(ctx, job["metadata"]["namespace"], pods.name(pod))
        left += ctx.store.get("pods", job["metadata"]["namespace"], pods.name(pod)) is not None
    return left


async def delete_cluster(ctx: Context, job: Mapping[str, Any]) -> bool:
    """Delete this job's DaskCluster if it has one; return whether one is still there."""
    meta = job["metadata"]
    cluster = ctx.store.get(
        constants.PLURAL_CLUSTER, meta["namespace"], naming.job_cluster_name(meta["name"])
    )
    if cluster is None or not jobs.owned_by(cluster, job):
        return cluster is not None
    if not cluster["metadata"].get("deletionTimestamp"):
        await ctx.kube.delete(constants.PLURAL_CLUSTER, meta["namespace"], cluster["metadata"]["name"])
        return (
            ctx.store.get(constants.PLURAL_CLUSTER, meta["namespace"], cluster["metadata"]["name"])
            is not None
        )
    return True


async def succeed(ctx: Context, job: bodies.DaskJob, now: float) -> float | None:
    """Record the runner's success, then clean up."""
    status = bodies.status_of(job)
    fields = {
        **jobs.ended_attempt(status, now),
        "jobStatus": "Successful",
        "reason": None,
        "succeeded": 1,
        "endTime": times.format_time(now),
    }
    attempt = jobs.attempt_of(status)
    verdict = conditions.Verdict(True, "Succeeded", f"the runner Pod of attempt {attempt} succeeded")
    job = await commit(ctx, job, fields, verdict)
    await ctx.events.normal(job, constants.REASON_JOB_SUCCEEDED, f"runner succeeded (attempt {attempt})")
    return await finish_up(ctx, job, now)


async def fail_for_deadline(
    ctx: Context, job: bodies.DaskJob, deadline: jobs.Deadline, now: float
) -> float | None:
    """End the job Failed past a deadline: no retry; its runner is stopped, then clean up."""
    status = bodies.status_of(job)
    fields = {
        **jobs.ended_attempt(status, now),
        "jobStatus": "Failed",
        "reason": deadline.reason,
        "failed": int(status.get("failed") or 0) + 1,
        "endTime": times.format_time(now),
    }
    job = await commit(ctx, job, fields, failed_verdict(deadline.reason, deadline.message))
    await ctx.events.warning(job, constants.REASON_DEADLINE_EXCEEDED, deadline.message)
    return await finish_up(ctx, job, now)


async def _delete_workers(ctx: Context, job: Mapping[str, Any]) -> bool:
    """Scale every worker group of the job's cluster to 0; the scheduler stays. Return whether it acted."""
    meta = job["metadata"]
    namespace, cluster_name = meta["namespace"], naming.job_cluster_name(meta["name"])
    cluster = ctx.store.get(constants.PLURAL_CLUSTER, namespace, cluster_name)
    if cluster is None or not jobs.owned_by(cluster, job):
        return False
    acted = False
    if cluster["spec"]["worker"].get("replicas") != 0:
        patched = await ctx.kube.patch(
            constants.PLURAL_CLUSTER, namespace, cluster_name, {"spec": {"worker": {"replicas": 0}}}
        )
        ctx.store.remember(constants.PLURAL_CLUSTER, patched)
        acted = True
    for group in ctx.store.of_cluster(constants.PLURAL_WORKER_GROUP, namespace, cluster_name):
        if group["spec"]["worker"].get("replicas") != 0:
            patch = {"spec": {"worker": {"replicas": 0}}}
            patched = await ctx.kube.patch(
                constants.PLURAL_WORKER_GROUP, namespace, group["metadata"]["name"], patch
            )
            ctx.store.remember(constants.PLURAL_WORKER_GROUP, patched)
            acted = True
    return acted


async def _carry_out(ctx: Context, job: Mapping[str, Any], policy: str) -> str | None:
    """Carry out the clean-up policy once; return what was done, None when nothing was left to do."""
    meta = job["metadata"]
    if policy == jobs.DELETE_SELF:
        await ctx.kube.delete(PLURAL, meta["namespace"], meta["name"])
        return "deleted the DaskJob (deletionPolicy DeleteSelf)"
    if policy == jobs.DELETE_WORKERS:
        if await _delete_workers(ctx, job):
            return "scaled the cluster's workers to 0; the scheduler and its dashboard stay (DeleteWorkers)"
        return None
    if policy == jobs.DELETE_CLUSTER:
        cluster = ctx.store.get(
            constants.PLURAL_CLUSTER, meta["namespace"], naming.job_cluster_name(meta["name"])
        )
        going = (
            cluster is not None
            and jobs.owned_by(cluster, job)
            and cluster["metadata"].get("deletionTimestamp")
        )
        if cluster is not None and jobs.owned_by(cluster, job) and not going:
            await delete_cluster(ctx, job)
            return "deleted the DaskCluster (DeleteCluster)"
    return None


async def finish_up(ctx: Context, job: bodies.DaskJob, now: float) -> float | None:
    """Keep an ended job ended: stop runners still running, then the policy once its TTL is over."""
    await statuses.write(ctx, PLURAL, job, {}, _terminal_verdict(job))
    await delete_runners(ctx, job, keep_finished=True)
    status = bodies.status_of(job)
    wait = jobs.cleanup_wait(job["spec"], status, now)
    if wait > 0:
        return wait
    done = await _carry_out(ctx, job, jobs.policy(job["spec"], status))
    if done:
        await ctx.events.normal(job, constants.REASON_CLEANED_UP, done)
    return None

"""DaskJob: attempts of a DaskCluster and a runner Pod, retried, bounded, suspended and cleaned up.

``jobStatus`` goes JobCreated -> ClusterCreated -> Running -> Successful|Failed,
and Suspended while ``spec.suspend`` is true.  Each attempt has its own runner Pod
(``{job}-runner``, then ``{job}-runner-2``...) and a DaskCluster of the job's name
annotated with the attempt.  Every transition (an attempt starts, fails, is
suspended; the job ends) is one status write, conditional on the job's
resourceVersion, made before anything is deleted or created for it: a reconcile
that fails halfway and runs again finds the transition done and repeats only the
level-based deletes and creates, so no attempt gets two runners and no failure is
counted twice.  What happens once the job has ended is in :mod:`.job_cleanup`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import kopf

from dask_kubernetes.api import bodies, constants, naming, times
from dask_kubernetes.operator.builders import job as job_builder
from dask_kubernetes.operator.controller import admission, job_cleanup, queueing, written
from dask_kubernetes.operator.decisions import conditions, jobs, pods, progress, suspension
from dask_kubernetes.operator.runtime import children, statuses
from dask_kubernetes.operator.runtime.context import Context

PLURAL = constants.PLURAL_JOB
RESOURCE = (constants.GROUP, constants.VERSION, PLURAL)
TERMINAL = jobs.TERMINAL
# While an earlier attempt's runner or cluster is still going, look again this soon.
WAIT_SECONDS = 1.0


def _parked_reason(ctx: Context, job: bodies.DaskJob) -> str:
    """Why a suspended job waits: Queued while Kueue has not admitted it, else Suspended."""
    return conditions.QUEUED if queueing.parked_verdict(ctx, PLURAL, job) else jobs.REASON_SUSPENDED


async def _suspend(ctx: Context, job: bodies.DaskJob, status: Mapping[str, Any], now: float) -> float | None:
    """Hold the job back (nothing is created) or park it: its runner and cluster are deleted."""
    if status.get("jobStatus") != "Suspended":
        running = jobs.attempt_started(status, now) is not None
        fields = {**(jobs.ended_attempt(status, now) if running else {})}
        fields.update(jobStatus="Suspended", reason=_parked_reason(ctx, job))
        message = (
            f"spec.suspend is true: attempt {jobs.attempt_of(status)} stops; "
            "its runner and cluster are deleted"
            if running
            else "spec.suspend is true: nothing is created until it is false"
        )
        verdict = conditions.Verdict(False, conditions.SUSPENDING, message, reconciling=True, suspending=True)
        job = await job_cleanup.commit(ctx, job, fields, verdict)
        await ctx.events.normal(job, constants.REASON_SUSPENDED, message)
    left = await job_cleanup.delete_runners(ctx, job, keep_finished=False) + await job_cleanup.delete_cluster(
        ctx, job
    )
    verdict = suspension.verdict("job", left, 0)
    if not left:
        # Parked is the state asked for: Ready=True (reason Suspended), so kstatus reads
        # Current; with Ready=False it reads InProgress for as long as the job stays parked.
        verdict = queueing.parked_verdict(ctx, PLURAL, job) or conditions.Verdict(
            True, conditions.SUSPENDED, "spec.suspend is true: no runner or cluster runs", suspended=True
        )
    await statuses.write(
        ctx, PLURAL, job, {"jobStatus": "Suspended", "reason": _parked_reason(ctx, job)}, verdict
    )
    return suspension.POLL_SECONDS if left else None


async def _start_attempt(
    ctx: Context, job: bodies.DaskJob, status: Mapping[str, Any], now: float
) -> bodies.DaskJob:
    """Record a new attempt (the first, or one after a resume) before anything is made for it."""
    attempt = jobs.attempt_of(status) + 1
    fields = {
        "jobStatus": "JobCreated",
        "reason": None,
        "attempt": attempt,
        "attemptStartTime": times.format_time(now),
        "attemptRunningTime": None,
    }
    verdict = conditions.Verdict(False, "JobCreated", f"attempt {attempt} starting", reconciling=True)
    resumed = status.get("jobStatus") == "Suspended"
    job = await job_cleanup.commit(ctx, job, fields, verdict)
    if resumed:
        await ctx.events.normal(
            job, constants.REASON_RESUMED, f"spec.suspend is false: attempt {attempt} starts"
        )
    return job


async def _attempt_failed(ctx: Context, job: bodies.DaskJob, reason: str, message: str, now: float) -> float:
    """Count a failed attempt: start the next one, or end the job Failed once the limit is spent."""
    status = bodies.status_of(job)
    attempt = jobs.attempt_of(status)
    fields = jobs.failure(job["spec"], status, reason, now)
    limit = int(job["spec"].get("backoffLimit") or 0)
    if fields["jobStatus"] == "Failed":
        verdict = job_cleanup.failed_verdict(fields["reason"], f"attempt {attempt}: {message}")
        await job_cleanup.commit(ctx, job, fields, verdict)
        text = f"attempt {attempt} failed ({reason}): {message}"
        if limit:
            text += f"; backoffLimit {limit} reached"
        await ctx.events.warning(job, constants.REASON_JOB_FAILED, text)
        return 0.0
    verdict = conditions.Verdict(False, "Retrying", f"attempt {attempt} failed: {message}", reconciling=True)
    await job_cleanup.commit(ctx, job, fields, verdict)
    await ctx.events.warning(
        job,
        constants.REASON_ATTEMPT_FAILED,
        f"attempt {attempt} failed ({reason}): {message}; starting attempt {attempt + 1} "
        f"(backoffLimit {limit})",
    )
    return 0.0


async def _clear_stale(ctx: Context, job: bodies.DaskJob, attempt: int) -> str | None:
    """Delete what earlier attempts left; say what is still in the way of this one, if anything.

    A runner or cluster of an earlier DaskJob of the same name (deleted and made
    again) is never adopted: it is waited for until its garbage collection ends.
    """
    meta = job["metadata"]
    namespace = meta["namespace"]
    for pod in job_cleanup.runners(ctx, job):
        stale = jobs.owned_by(pod, job) and jobs.attempt_label(pod) != attempt
        if stale and not pods.is_terminating(pod):
            await children.delete_pod(ctx, namespace, pods.name(pod))
    runner = ctx.store.get("pods", namespace, naming.job_runner_name(meta["name"], attempt))
    if runner is not None and not jobs.owned_by(runner, job):
        return f"waiting for Pod {pods.name(runner)} of an earlier DaskJob of this name to go"
    cluster = ctx.store.get(constants.PLURAL_CLUSTER, namespace, naming.job_cluster_name(meta["name"]))
    if cluster is None:
        return None
    if not jobs.owned_by(cluster, job):
        return (
            f"waiting for DaskCluster {cluster['metadata']['name']} of an earlier DaskJob of this name to go"
        )
    if jobs.attempt_label(cluster) != attempt or cluster["metadata"].get("deletionTimestamp"):
        await job_cleanup.delete_cluster(ctx, job)
        return f"waiting for the DaskCluster of attempt {jobs.attempt_label(cluster)} to go"
    return None


async def _sync_cluster(ctx: Context, job: bodies.DaskJob, cluster: dict[str, Any]) -> dict[str, Any]:
    """Carry a change of ``spec.cluster`` to the job's DaskCluster, which then rolls it out.

    Written once per change: if the API server stores the value differently, it is
    not written again until the job's spec changes or someone edits the cluster.
    """
    want = job_builder.build_job_cluster_spec(job)
    if cluster.get("spec") == want:
        return cluster
    return await written.replace_once(ctx, constants.PLURAL_CLUSTER, cluster, "/spec", want)


def _running(runner: Mapping[str, Any] | None, cluster: Mapping[str, Any]) -> bool:
    """Whether the attempt has reached its runner running on a Ready cluster (ends the pre-running clock)."""
    ready = bodies.condition(cluster, conditions.READY)
    return (
        runner is not None
        and pods.phase(runner) == "Running"
        and ready is not None
        and ready.get("status") == "True"
    )


async def _run_attempt(ctx: Context, job: bodies.DaskJob, now: float) -> float | None:
    """Drive the current attempt: its cluster, then its runner; notice its end or its cluster's stall."""
    meta, status = job["metadata"], bodies.status_of(job)
    namespace, name, attempt = meta["namespace"], meta["name"], jobs.attempt_of(status)
    cluster_name, runner_name = naming.job_cluster_name(name), naming.job_runner_name(name, attempt)
    blocked = await _clear_stale(ctx, job, attempt)
    fields: dict[str, Any] = {"clusterName": cluster_name}
    if blocked:
        verdict = conditions.Verdict(False, "ClusterCreated", blocked, reconciling=True)
        await statuses.write(ctx, PLURAL, job, fields, verdict)
        return WAIT_SECONDS
    runner = ctx.store.get("pods", namespace, runner_name)
    if runner is not None and pods.phase(runner) == "Succeeded":
        return await job_cleanup.succeed(ctx, job, now)
    if runner is not None and pods.phase(runner) == "Failed":
        problems = "; ".join(progress.pod_problems([runner])) or "its Pod failed"
        return await _attempt_failed(
            ctx, job, jobs.REASON_RUNNER_FAILED, f"runner {runner_name}: {problems}", now
        )
    cluster = ctx.store.get(constants.PLURAL_CLUSTER, namespace, cluster_name)
    if cluster is None:
        created = await ctx.kube.create(
            constants.PLURAL_CLUSTER, namespace, job_builder.build_job_cluster(job, attempt)
        )
        if created:
            ctx.store.remember(constants.PLURAL_CLUSTER, created, created=True)
            await ctx.events.normal(
                job, constants.REASON_CREATED, f"DaskCluster {cluster_name} (attempt {attempt})"
            )
        fields["jobStatus"] = "ClusterCreated"
        verdict = conditions.Verdict(False, "ClusterCreated", "waiting for the cluster", reconciling=True)
        await statuses.write(ctx, PLURAL, job, fields, verdict)
        return jobs.next_deadline(job["spec"], status, now)
    stalled = jobs.cluster_stalled(cluster)
    if stalled is not None:
        return await _attempt_failed(
            ctx, job, jobs.REASON_CLUSTER_STALLED, f"DaskCluster {cluster_name}: {stalled}", now
        )
    cluster = await _sync_cluster(ctx, job, cluster)
    if runner is None and bodies.status_of(cluster).get("phase") == "Running":
        runner_pod = queueing.place(ctx, job_builder.build_job_runner_pod(job, attempt))
        await admission.admit(ctx, job, runner_pod, naming.template_hash(runner_pod["spec"]))
        runner = await children.create_pod(ctx, runner_pod)
        await ctx.events.normal(
            job, constants.REASON_JOB_STARTED, f"runner Pod {runner_name} (attempt {attempt})"
        )
    if runner is None:
        fields["jobStatus"] = "ClusterCreated"
        verdict = conditions.Verdict(False, "ClusterCreated", "waiting for the cluster", reconciling=True)
    else:
        fields.update(jobStatus="Running", jobRunnerPodName=runner_name)
        if not status.get("startTime"):
            fields["startTime"] = times.format_time(now)
        if status.get("attemptRunningTime") is None and _running(runner, cluster):
            fields["attemptRunningTime"] = times.format_time(now)
        verdict = conditions.Verdict(False, "Running", "the runner Pod is running", reconciling=True)
    await statuses.write(ctx, PLURAL, job, fields, verdict)
    return jobs.next_deadline(job["spec"], status, now)


async def reconcile(ctx: Context, namespace: str, name: str) -> float | None:
    """Drive one DaskJob one step further."""
    job = cast("bodies.DaskJob | None", children.live(ctx, PLURAL, namespace, name))
    if job is None:
        return None
    status = bodies.status_of(job)
    if await admission.reject_if_unbuildable(
        ctx, PLURAL, job, {"jobStatus": status.get("jobStatus", "JobCreated")}
    ):
        return None
    now = ctx.clock()
    held = await queueing.gate(ctx, PLURAL, job)
    if held is not None:
        return held.requeue
    job = cast("bodies.DaskJob", children.live(ctx, PLURAL, namespace, name) or job)
    status = bodies.status_of(job)
    if status.get("jobStatus") in TERMINAL:
        return await job_cleanup.finish_up(ctx, job, now)
    if suspension.is_suspended(job):
        return await _suspend(ctx, job, status, now)
    if jobs.attempt_started(status, now) is None:
        job = await _start_attempt(ctx, job, status, now)
    deadline = jobs.passed_deadline(job["spec"], bodies.status_of(job), now)
    if deadline is not None:
        return await job_cleanup.fail_for_deadline(ctx, job, deadline, now)
    return await _run_attempt(ctx, job, now)


@kopf.on.event(*RESOURCE)
async def daskjob_event(type: str | None, body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
    """Reconcile on every change of the job."""
    ctx: Context = memo.ctx
    ctx.observe(PLURAL, type, body, kwargs)

"""DaskJob: a DaskCluster of the job's name, then a runner Pod, then clean-up.

``jobStatus`` goes JobCreated -> ClusterCreated -> Running -> Successful|Failed.
When the runner ends, the end is recorded and the cluster deleted; the runner Pod
stays so its logs can be read, until the DaskJob itself is deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import kopf

from dask_kubernetes.api import bodies, constants, naming, times
from dask_kubernetes.operator.builders import job as job_builder
from dask_kubernetes.operator.controller import admission, written
from dask_kubernetes.operator.decisions import conditions, pods
from dask_kubernetes.operator.runtime import children, statuses
from dask_kubernetes.operator.runtime.context import Context

PLURAL = constants.PLURAL_JOB
RESOURCE = (constants.GROUP, constants.VERSION, PLURAL)
TERMINAL = ("Successful", "Failed")


async def _finish(
    ctx: Context, job: Mapping[str, Any], runner: Mapping[str, Any], status: dict[str, Any]
) -> None:
    meta = job["metadata"]
    succeeded = pods.phase(runner) == "Succeeded"
    status.update(jobStatus="Successful" if succeeded else "Failed", endTime=times.now())
    await _delete_cluster(ctx, meta["namespace"], naming.job_cluster_name(meta["name"]))
    if succeeded:
        await ctx.events.normal(job, constants.REASON_JOB_SUCCEEDED, "runner succeeded; cluster deleted")
        verdict = conditions.Verdict(True, "Succeeded", "the runner Pod succeeded")
    else:
        await ctx.events.warning(job, constants.REASON_JOB_FAILED, "runner failed; cluster deleted")
        verdict = conditions.Verdict(False, "Failed", "the runner Pod failed", stalled=True)
    await statuses.write(ctx, PLURAL, job, status, verdict)


async def _delete_cluster(ctx: Context, namespace: str, name: str) -> None:
    """Delete the job's cluster once (the cache tells whether it is still there)."""
    cluster = ctx.store.get(constants.PLURAL_CLUSTER, namespace, name)
    if cluster is not None and not cluster["metadata"].get("deletionTimestamp"):
        await ctx.kube.delete(constants.PLURAL_CLUSTER, namespace, name)


async def _sync_cluster(ctx: Context, job: bodies.DaskJob, cluster: dict[str, Any]) -> dict[str, Any]:
    """Carry a change of ``spec.cluster`` to the job's DaskCluster, which then rolls it out.

    Written once per change: if the API server stores the value differently, it is
    not written again until the job's spec changes or someone edits the cluster.
    """
    want = job_builder.build_job_cluster(job)["spec"]
    if cluster.get("spec") == want:
        return cluster
    return await written.replace_once(ctx, constants.PLURAL_CLUSTER, cluster, "/spec", want)


async def reconcile(ctx: Context, namespace: str, name: str) -> float | None:
    """Drive one DaskJob one step further."""
    job = cast("bodies.DaskJob | None", children.live(ctx, PLURAL, namespace, name))
    if job is None:
        return None
    status = dict(bodies.status_of(job))
    if await admission.reject_if_unbuildable(
        ctx, PLURAL, job, {"jobStatus": status.get("jobStatus", "JobCreated")}
    ):
        return None
    cluster_name = naming.job_cluster_name(name)
    runner_name = naming.job_runner_name(name)
    fields: dict[str, Any] = {
        key: status[key]
        for key in ("jobStatus", "clusterName", "jobRunnerPodName", "startTime", "endTime")
        if key in status
    }
    if fields.get("jobStatus") in TERMINAL:
        await _delete_cluster(ctx, namespace, cluster_name)
        return None

    runner = ctx.store.get("pods", namespace, runner_name)
    if runner is not None and pods.is_finished(runner):
        await _finish(ctx, job, runner, fields)
        return None

    cluster = ctx.store.get(constants.PLURAL_CLUSTER, namespace, cluster_name)
    if cluster is not None:
        cluster = await _sync_cluster(ctx, job, cluster)
    if cluster is None:
        created = await ctx.kube.create(
            constants.PLURAL_CLUSTER, namespace, job_builder.build_job_cluster(job)
        )
        if created:
            ctx.store.remember(constants.PLURAL_CLUSTER, created, created=True)
        await ctx.events.normal(job, constants.REASON_CREATED, f"DaskCluster {cluster_name}")
        fields.update(jobStatus="ClusterCreated", clusterName=cluster_name)
        verdict = conditions.Verdict(False, "ClusterCreated", "waiting for the cluster", reconciling=True)
    elif runner is None and bodies.status_of(cluster).get("phase") == "Running":
        runner_pod = job_builder.build_job_runner_pod(job)
        await admission.admit(ctx, job, runner_pod, naming.template_hash(runner_pod["spec"]))
        await children.create_pod(ctx, runner_pod)
        await ctx.events.normal(job, constants.REASON_JOB_STARTED, f"runner Pod {runner_name}")
        fields.update(jobStatus="Running", clusterName=cluster_name, jobRunnerPodName=runner_name)
        fields.setdefault("startTime", times.now())
        verdict = conditions.Verdict(False, "Running", "the runner Pod is running", reconciling=True)
    elif runner is not None:
        fields.update(jobStatus="Running", clusterName=cluster_name, jobRunnerPodName=runner_name)
        fields.setdefault("startTime", times.now())
        verdict = conditions.Verdict(False, "Running", "the runner Pod is running", reconciling=True)
    else:
        fields.update(jobStatus=fields.get("jobStatus", "ClusterCreated"), clusterName=cluster_name)
        verdict = conditions.Verdict(False, "ClusterCreated", "waiting for the cluster", reconciling=True)
    await statuses.write(ctx, PLURAL, job, fields, verdict)
    return None


@kopf.on.event(*RESOURCE)
async def daskjob_event(type: str | None, body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
    """Reconcile on every change of the job."""
    ctx: Context = memo.ctx
    ctx.observe(PLURAL, type, body, kwargs)

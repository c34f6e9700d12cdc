"""DaskJob: a DaskCluster of the job's name, then a runner Pod, then clean-up.

``jobStatus`` goes JobCreated -> ClusterCreated -> Running -> Successful|Failed.
When the runner ends, the end is recorded and the cluster deleted; the runner Pod
stays so its logs can be read, until the DaskJob itself is deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from dask_kubernetes._structs import constants, naming
from dask_kubernetes.operator.builders import job as job_builder
from dask_kubernetes.operator.controller import statuses
from dask_kubernetes.operator.controller.context import Context
from dask_kubernetes.operator.logic import conditions, pods

PLURAL = constants.PLURAL_JOB
RESOURCE = (constants.GROUP, constants.VERSION, PLURAL)
TERMINAL = ("Successful", "Failed")


async def _finish(
    ctx: Context, job: Mapping[str, Any], runner: Mapping[str, Any], status: dict[str, Any]
) -> None:
    meta = job["metadata"]
    succeeded = pods.phase(runner) == "Succeeded"
    status.update(jobStatus="Successful" if succeeded else "Failed", endTime=conditions.now())
    await ctx.kube.delete(constants.PLURAL_CLUSTER, meta["namespace"], naming.job_cluster_name(meta["name"]))
    if succeeded:
        await ctx.events.normal(job, constants.REASON_JOB_SUCCEEDED, "runner succeeded; cluster deleted")
        verdict = conditions.Verdict(True, "Succeeded", "the runner Pod succeeded")
    else:
        await ctx.events.warning(job, constants.REASON_JOB_FAILED, "runner failed; cluster deleted")
        verdict = conditions.Verdict(False, "Failed", "the runner Pod failed", stalled=True)
    await statuses.write(ctx, PLURAL, job, status, verdict)


async def reconcile(ctx: Context, namespace: str, name: str) -> None:
    """Drive one DaskJob one step further."""
    from dask_kubernetes.operator.controller import common

    job = await common.live(ctx, PLURAL, namespace, name)
    if job is None:
        return
    status = dict(job.get("status") or {})
    if await common.reject_if_invalid(ctx, PLURAL, job, {"jobStatus": status.get("jobStatus", "JobCreated")}):
        return
    cluster_name = naming.job_cluster_name(name)
    runner_name = naming.job_runner_name(name)
    fields: dict[str, Any] = {
        key: status[key]
        for key in ("jobStatus", "clusterName", "jobRunnerPodName", "startTime", "endTime")
        if key in status
    }
    if fields.get("jobStatus") in TERMINAL:
        await ctx.kube.delete(constants.PLURAL_CLUSTER, namespace, cluster_name)
        return

    runner = await ctx.kube.get_pod(namespace, runner_name)
    if runner is not None and pods.is_finished(runner):
        await _finish(ctx, job, runner, fields)
        return

    cluster = await ctx.kube.get(constants.PLURAL_CLUSTER, namespace, cluster_name)
    if cluster is None:
        await ctx.kube.create(constants.PLURAL_CLUSTER, namespace, job_builder.build_job_cluster(job))
        await ctx.events.normal(job, constants.REASON_CREATED, f"DaskCluster {cluster_name}")
        fields.update(jobStatus="ClusterCreated", clusterName=cluster_name)
        verdict = conditions.Verdict(False, "ClusterCreated", "waiting for the cluster", reconciling=True)
    elif runner is None and (cluster.get("status") or {}).get("phase") == "Running":
        await ctx.kube.create_pod(namespace, job_builder.build_job_runner_pod(job))
        await ctx.events.normal(job, constants.REASON_JOB_STARTED, f"runner Pod {runner_name}")
        fields.update(jobStatus="Running", clusterName=cluster_name, jobRunnerPodName=runner_name)
        fields.setdefault("startTime", conditions.now())
        verdict = conditions.Verdict(False, "Running", "the runner Pod is running", reconciling=True)
    elif runner is not None:
        fields.update(jobStatus="Running", clusterName=cluster_name, jobRunnerPodName=runner_name)
        fields.setdefault("startTime", conditions.now())
        verdict = conditions.Verdict(False, "Running", "the runner Pod is running", reconciling=True)
    else:
        fields.update(jobStatus=fields.get("jobStatus", "ClusterCreated"), clusterName=cluster_name)
        verdict = conditions.Verdict(False, "ClusterCreated", "waiting for the cluster", reconciling=True)
    await statuses.write(ctx, PLURAL, job, fields, verdict)


@kopf.on.event(*RESOURCE)
async def daskjob_event(type: str | None, name: str, namespace: str, memo: kopf.Memo, **_: Any) -> None:
    """Reconcile on every change of the job."""
    ctx: Context = memo.ctx
    ctx.observe(PLURAL, type, namespace, name)


@kopf.timer(*RESOURCE, interval=15, sharp=False)
async def daskjob_resync(name: str, namespace: str, memo: kopf.Memo, **_: Any) -> None:
    """Resync periodically, so a missed event or a failed call is repaired."""
    memo.ctx.poke(PLURAL, namespace, name)

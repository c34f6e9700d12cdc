"""Build a DaskJob's runner Pod and its DaskCluster."""

from __future__ import annotations

import copy
from typing import Any

from dask_kubernetes.api import bodies, constants, naming
from dask_kubernetes.operator.builders.metadata import merge_metadata, object_meta, with_env


def build_job_cluster(job: bodies.DaskJob) -> bodies.DaskCluster:
    """Build the DaskCluster of a job: it has the job's name and ``spec.cluster``."""
    meta = job["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    cluster = job["spec"]["cluster"]
    merged = merge_metadata(meta, cluster.get("metadata"), {})
    return {
        "apiVersion": constants.API_VERSION,
        "kind": constants.KIND_CLUSTER,
        "metadata": object_meta(naming.job_cluster_name(name), namespace, merged, job),
        "spec": copy.deepcopy(bodies.DaskClusterSpec(**cluster["spec"])),
    }


def build_job_runner_pod(job: bodies.DaskJob) -> dict[str, Any]:
    """Build the runner Pod: ``Client()`` inside it connects with no arguments."""
    meta = job["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    runner = job["spec"]["job"]
    base = {
        constants.LABEL_CLUSTER_NAME: naming.job_cluster_name(name),
        constants.LABEL_COMPONENT: constants.COMPONENT_JOB_RUNNER,
    }
    merged = merge_metadata(meta, runner.get("metadata"), base)
    spec = copy.deepcopy(runner["spec"])
    spec.setdefault("restartPolicy", constants.DEFAULT_RUNNER_RESTART_POLICY)
    address = naming.scheduler_address(naming.job_cluster_name(name), namespace)
    spec["containers"] = [
        with_env(container, {constants.ENV_SCHEDULER_ADDRESS: address}) for container in spec["containers"]
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": object_meta(naming.job_runner_name(name), namespace, merged, job),
        "spec": spec,
    }

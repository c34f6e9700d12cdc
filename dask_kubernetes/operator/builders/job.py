"""Build a DaskJob's runner Pod and its DaskCluster."""

from __future__ import annotations

import copy
from typing import Any

from dask_kubernetes.api import bodies, constants, naming
from dask_kubernetes.operator.builders.metadata import merge_metadata, object_meta, with_env


def build_job_cluster_spec(job: bodies.DaskJob) -> bodies.DaskClusterSpec:
    """Build the spec of a job's DaskCluster: ``spec.cluster.spec``, never suspended on its own.

    ``suspend`` is written out (false) so the spec compares equal with the stored,
    defaulted one and is not rewritten on every reconcile.
    """
    spec = copy.deepcopy(bodies.DaskClusterSpec(**job["spec"]["cluster"]["spec"]))
    spec["suspend"] = False
    return spec


def build_job_cluster(job: bodies.DaskJob, attempt: int = 1) -> bodies.DaskCluster:
    """Build the DaskCluster of one attempt of a job: the job's name and ``spec.cluster``.

    The attempt is recorded in an annotation, so a cluster left from an earlier
    attempt is told apart and replaced.
    """
    meta = job["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    cluster = job["spec"]["cluster"]
    merged = merge_metadata(meta, cluster.get("metadata"), {})
    metadata = object_meta(naming.job_cluster_name(name), namespace, merged, job)
    metadata.setdefault("annotations", {})[constants.LABEL_JOB_ATTEMPT] = str(attempt)
    return {
        "apiVersion": constants.API_VERSION,
        "kind": constants.KIND_CLUSTER,
        "metadata": metadata,
        "spec": build_job_cluster_spec(job),
    }


def build_job_runner_pod(job: bodies.DaskJob, attempt: int = 1) -> dict[str, Any]:
    """Build the runner Pod of one attempt: ``Client()`` inside it connects with no arguments.

    It carries its attempt in a label and in ``DASK_JOB_ATTEMPT``, so a script can
    tell a retry from its first run.
    """
    meta = job["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    runner = job["spec"]["job"]
    base = {
        constants.LABEL_CLUSTER_NAME: naming.job_cluster_name(name),
        constants.LABEL_COMPONENT: constants.COMPONENT_JOB_RUNNER,
        constants.LABEL_JOB_ATTEMPT: str(attempt),
    }
    merged = merge_metadata(meta, runner.get("metadata"), base)
    spec = copy.deepcopy(runner["spec"])
    spec.setdefault("restartPolicy", constants.DEFAULT_RUNNER_RESTART_POLICY)
    address = naming.scheduler_address(naming.job_cluster_name(name), namespace)
    spec["containers"] = [
        with_env(
            container, {constants.ENV_SCHEDULER_ADDRESS: address, constants.ENV_JOB_ATTEMPT: str(attempt)}
        )
        for container in spec["containers"]
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": object_meta(naming.job_runner_name(name, attempt), namespace, merged, job),
        "spec": spec,
    }

"""Build worker Pods and the default DaskWorkerGroup of a cluster."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from dask_kubernetes.api import bodies, constants, naming
from dask_kubernetes.operator.builders.metadata import merge_metadata, object_meta, with_env


def build_default_worker_group(cluster: bodies.DaskCluster) -> bodies.DaskWorkerGroup:
    """Build the cluster's default DaskWorkerGroup from ``spec.worker``."""
    meta = cluster["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    worker = cluster["spec"]["worker"]
    base = {
        constants.LABEL_CLUSTER_NAME: name,
        constants.LABEL_COMPONENT: constants.COMPONENT_WORKER_GROUP,
    }
    merged = merge_metadata(meta, worker.get("metadata"), base)
    return {
        "apiVersion": constants.API_VERSION,
        "kind": constants.KIND_WORKER_GROUP,
        "metadata": object_meta(naming.default_worker_group_name(name), namespace, merged, cluster),
        "spec": {
            "cluster": name,
            "worker": copy.deepcopy(bodies.WorkerSpec(**worker)),
            **(
                {"progressDeadlineSeconds": cluster["spec"]["progressDeadlineSeconds"]}
                if cluster["spec"].get("progressDeadlineSeconds")
                else {}
            ),
        },
    }


# Keys of ``spec.worker`` that are not part of the Pod template: changing them rolls out nothing.
NON_TEMPLATE_KEYS = frozenset({"replicas", "rollout"})


def worker_template(worker: Mapping[str, Any]) -> dict[str, Any]:
    """Return the part of ``spec.worker`` that makes the Pods: all of it but replicas and rollout."""
    return {key: value for key, value in worker.items() if key not in NON_TEMPLATE_KEYS}


def worker_template_hash(group: Mapping[str, Any]) -> str:
    """Hash a group's worker template, as the worker Pods' template-hash label carries it."""
    return naming.template_hash(worker_template(group["spec"]["worker"]))


def build_worker_pod(group: bodies.DaskWorkerGroup, pod_name: str) -> dict[str, Any]:
    """Build one worker Pod of a DaskWorkerGroup, owned by the group.

    Every container learns the scheduler's address and its worker name (the Pod
    name) through the environment, unless the user set those variables.  The Pod
    carries the hash of the template that made it.
    """
    meta = group["metadata"]
    group_name, namespace = meta["name"], meta["namespace"]
    cluster = group["spec"]["cluster"]
    worker = group["spec"]["worker"]
    base = {
        **naming.worker_group_selector(cluster, group_name),
        constants.LABEL_WORKER_TEMPLATE_HASH: worker_template_hash(group),
    }
    merged = merge_metadata(meta, worker.get("metadata"), base)
    spec = copy.deepcopy(worker["spec"])
    env = {
        constants.ENV_WORKER_NAME: pod_name,
        constants.ENV_SCHEDULER_ADDRESS: naming.scheduler_address(cluster, namespace),
    }
    spec["containers"] = [with_env(container, env) for container in spec["containers"]]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": object_meta(pod_name, namespace, merged, group),
        "spec": spec,
    }

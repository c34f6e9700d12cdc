"""Names of the objects the operator creates, made in exactly one place.

The controller, the builders, the Python cluster manager and the tests all ask
these functions, so a name can never be spelt two ways.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

from dask_kubernetes.api import constants


def scheduler_name(cluster: str) -> str:
    """Name the scheduler Pod and Service of ``cluster``; both share it."""
    return constants.SCHEDULER_NAME_TEMPLATE.format(cluster_name=cluster)


def default_worker_group_name(cluster: str) -> str:
    """Name the DaskWorkerGroup that every DaskCluster owns."""
    return f"{cluster}-default"


def worker_pod_name(worker_group: str, suffix: str | None = None) -> str:
    """Name a new worker Pod; a random suffix keeps replacements distinct."""
    return f"{worker_group}-worker-{suffix or uuid.uuid4().hex[:10]}"


def job_runner_name(job: str, attempt: int = 1) -> str:
    """Name the runner Pod of one attempt of a DaskJob.

    The first keeps upstream's ``{job}-runner``; each retry or resume gets its own
    name, so a fresh runner never waits for the last one's name to be free.
    """
    return f"{job}-runner" if attempt <= 1 else f"{job}-runner-{attempt}"


def job_cluster_name(job: str) -> str:
    """Name the DaskCluster a DaskJob creates: it has the job's own name."""
    return job


def scheduler_address(cluster: str, namespace: str) -> str:
    """Give the in-cluster address workers and the job runner connect to."""
    return f"tcp://{scheduler_name(cluster)}.{namespace}.svc.cluster.local:{constants.SCHEDULER_PORT}"


def cluster_selector(cluster: str) -> dict[str, str]:
    """Select every Pod and Service that belongs to ``cluster``."""
    return {constants.LABEL_CLUSTER_NAME: cluster}


def scheduler_selector(cluster: str) -> dict[str, str]:
    """Select the scheduler Pod of ``cluster``; the scheduler Service uses it too."""
    return {
        constants.LABEL_CLUSTER_NAME: cluster,
        constants.LABEL_COMPONENT: constants.COMPONENT_SCHEDULER,
    }


def worker_group_selector(cluster: str, worker_group: str) -> dict[str, str]:
    """Select the worker Pods of one worker group."""
    return {
        constants.LABEL_CLUSTER_NAME: cluster,
        constants.LABEL_COMPONENT: constants.COMPONENT_WORKER,
        constants.LABEL_WORKER_GROUP: worker_group,
    }


def selector_string(labels: dict[str, str]) -> str:
    """Render a label selector as ``status.selector`` and ``kubectl -l`` expect it."""
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def template_hash(spec: Any) -> str:
    """Hash a spec deterministically (sorted JSON): the worker-template label, dry-run verdicts."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:10]


def owner_of_kind(obj: Mapping[str, Any], kind: str) -> str | None:
    """Return the name of the owner of ``kind`` among an object's ownerReferences, if any."""
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("kind") == kind:
            return str(ref["name"])
    return None

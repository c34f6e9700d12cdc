"""What the operator itself needs of a spec in order to build children: nothing more.

Admission rules (the webhook's) are deliberately not run again by the operator:
a stricter rule in a new release must not stall clusters that already run.  The
CRD schema guarantees most of this; these checks guard against objects stored
before it did, or with validation switched off; a reference to a name no cluster
or group can have would never resolve.  Whatever the API server would refuse in a
Pod is left to its own dry run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dask_kubernetes.api import constants
from dask_kubernetes.validation import shared as names


def _pod_spec(problems: list[str], spec: Any, path: str) -> None:
    if not isinstance(spec, Mapping):
        problems.append(f"{path}: required")
        return
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        problems.append(f"{path}.containers: at least one container is required")


def _cluster_spec(problems: list[str], spec: Any, path: str) -> None:
    if not isinstance(spec, Mapping):
        problems.append(f"{path}: required")
        return
    worker = spec.get("worker")
    _pod_spec(
        problems, (worker or {}).get("spec") if isinstance(worker, Mapping) else None, f"{path}.worker.spec"
    )
    scheduler = spec.get("scheduler")
    if not isinstance(scheduler, Mapping):
        problems.append(f"{path}.scheduler: required")
        return
    _pod_spec(problems, scheduler.get("spec"), f"{path}.scheduler.spec")
    service = scheduler.get("service")
    if not isinstance(service, Mapping):
        problems.append(f"{path}.scheduler.service: required")
    elif (
        not service.get("ports")
        and service.get("type") != "ExternalName"
        and service.get("clusterIP") != "None"
    ):
        # Workers and clients reach the scheduler through these ports; the API server
        # refuses such a Service too, but a merge patch of a live one cannot say so.
        problems.append(f"{path}.scheduler.service.ports: at least one port is required")


def _reference(spec: Any, field: str, check: Any) -> list[str]:
    """A name the object refers to must be one a cluster or group can have, or it never resolves."""
    if not isinstance(spec, Mapping) or not spec.get(field):
        return [f"spec.{field}: required"]
    return [str(error) for error in check(spec[field], f"spec.{field}")]


def problems(plural: str, obj: Mapping[str, Any]) -> list[str]:
    """Return what keeps the operator from building ``obj``'s children, each naming its field."""
    spec = obj.get("spec")
    found: list[str] = []
    if plural == constants.PLURAL_CLUSTER:
        _cluster_spec(found, spec, "spec")
    elif plural == constants.PLURAL_WORKER_GROUP:
        found += _reference(spec, "cluster", names.cluster_name)
        worker = (spec or {}).get("worker") if isinstance(spec, Mapping) else None
        _pod_spec(
            found, (worker or {}).get("spec") if isinstance(worker, Mapping) else None, "spec.worker.spec"
        )
    elif plural == constants.PLURAL_JOB:
        job = (spec or {}).get("job") if isinstance(spec, Mapping) else None
        _pod_spec(found, (job or {}).get("spec") if isinstance(job, Mapping) else None, "spec.job.spec")
        cluster = (spec or {}).get("cluster") if isinstance(spec, Mapping) else None
        _cluster_spec(
            found, (cluster or {}).get("spec") if isinstance(cluster, Mapping) else None, "spec.cluster.spec"
        )
    elif plural == constants.PLURAL_AUTOSCALER:
        found += _reference(spec, "cluster", names.cluster_name)
        if isinstance(spec, Mapping) and spec.get("workerGroup") is not None:
            found += _reference(spec, "workerGroup", names.dns_label)
        if isinstance(spec, Mapping) and int(spec.get("minimum", 0) or 0) > int(spec.get("maximum", 0) or 0):
            found.append("spec.minimum: must not exceed spec.maximum")
    return found

"""Validation of DaskJob objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dask_kubernetes.validation import common
from dask_kubernetes.validation.daskcluster import validate_cluster_spec
from dask_kubernetes.validation.errors import FieldError

RUNNER_RESTART_POLICIES = ("OnFailure", "Never")


def validate(obj: Mapping[str, Any]) -> list[FieldError]:
    """Check a DaskJob: its name (the cluster takes it), runner Pod and cluster spec."""
    errors = common.cluster_name(common.metadata_name(obj), "metadata.name")
    spec = common.spec_of(obj)
    job = spec.get("job")
    if not isinstance(job, Mapping):
        errors.append(FieldError("spec.job", "required field is missing"))
    else:
        pod = job.get("spec")
        errors += common.pod_spec(pod, "spec.job.spec", role="runner")
        policy = pod.get("restartPolicy") if isinstance(pod, Mapping) else None
        if policy is not None and policy not in RUNNER_RESTART_POLICIES:
            errors.append(
                FieldError(
                    "spec.job.spec.restartPolicy",
                    f"must be OnFailure or Never, got {policy!r}: an always-restarting runner never ends",
                )
            )
    cluster = spec.get("cluster")
    if not isinstance(cluster, Mapping) or not isinstance(cluster.get("spec"), Mapping):
        errors.append(FieldError("spec.cluster.spec", "required field is missing"))
    else:
        errors += validate_cluster_spec(cluster["spec"], "spec.cluster.spec")
    return errors

"""Validation of DaskJob objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dask_kubernetes.api import constants
from dask_kubernetes.validation import lifecycle, practices, queueing, ratchet, shared
from dask_kubernetes.validation.daskcluster import cluster_spec_warnings, validate_cluster_spec
from dask_kubernetes.validation.errors import FieldError

RUNNER_RESTART_POLICIES = ("OnFailure", "Never")


def validate(obj: Mapping[str, Any]) -> list[FieldError]:
    """Check a DaskJob: its name (the cluster takes it), runner Pod and cluster spec."""
    errors = shared.cluster_name(shared.metadata_name(obj), "metadata.name")
    errors += queueing.validate_labels(constants.PLURAL_JOB, obj)
    spec = shared.spec_of(obj)
    job = spec.get("job")
    if not isinstance(job, Mapping):
        errors.append(FieldError("spec.job", "required field is missing", "FieldValueRequired"))
    else:
        pod = job.get("spec")
        policy = pod.get("restartPolicy") if isinstance(pod, Mapping) else None
        runner: list[FieldError] = []
        if policy is not None and policy not in RUNNER_RESTART_POLICIES:
            runner.append(
                FieldError(
                    "spec.job.spec.restartPolicy",
                    f"must be OnFailure or Never, got {policy!r}: an always-restarting runner never ends",
                    "FieldValueNotSupported",
                )
            )
        named = {error.path for error in runner}
        errors += [e for e in shared.pod_spec(pod, "spec.job.spec", role="runner") if e.path not in named]
        errors += runner
    cluster = spec.get("cluster")
    if not isinstance(cluster, Mapping) or not isinstance(cluster.get("spec"), Mapping):
        errors.append(FieldError("spec.cluster.spec", "required field is missing", "FieldValueRequired"))
    else:
        errors += validate_cluster_spec(cluster["spec"], "spec.cluster.spec")
    return errors + lifecycle.job(spec)


def validate_update(obj: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    """Check an updated DaskJob: the create rules on changed fields, its runner, its Kueue queue.

    The runner Pod is created once, like a Job's Pod template (as soon as the cluster
    runs); an edit would be silently ignored, so it is refused instead.
    ``spec.cluster`` changes roll out to the job's cluster.  The queue may change only
    while the job is suspended (see :mod:`.queueing`).
    """
    errors = ratchet.validate_changed(validate, obj, old)
    errors += queueing.validate_queue_change(constants.PLURAL_JOB, obj, old)
    if _runner(obj) == _runner(old):
        return errors
    return [
        *errors,
        FieldError(
            "spec.job",
            "field is immutable: the runner Pod is created once (a job runs once, and Pods are "
            "immutable); delete and re-create the DaskJob to change it",
        ),
    ]


def _runner(obj: Mapping[str, Any]) -> Any:
    """Return ``spec.job`` with the runner's default filled in.

    A DaskJob stored while the (fail-open) defaulting webhook was away lacks the
    default; filling it on both sides keeps that from reading as a change.
    """
    job = shared.value_at(obj, "spec.job")
    pod = job.get("spec") if isinstance(job, Mapping) else None
    if isinstance(pod, Mapping) and pod.get("restartPolicy") is None:
        return {**job, "spec": {**pod, "restartPolicy": constants.DEFAULT_RUNNER_RESTART_POLICY}}
    return job


def warnings(obj: Mapping[str, Any]) -> list[str]:
    """Best-practice warnings for the runner Pod and the job's cluster."""
    spec = shared.spec_of(obj)
    found: list[str] = []
    job = spec.get("job")
    if isinstance(job, Mapping):
        found += practices.pod_warnings(job.get("spec"), "spec.job.spec")
    cluster = spec.get("cluster")
    if isinstance(cluster, Mapping) and isinstance(cluster.get("spec"), Mapping):
        found += cluster_spec_warnings(cluster["spec"], "spec.cluster.spec")
    found += lifecycle.job_warnings(obj)
    return practices.unique(found)

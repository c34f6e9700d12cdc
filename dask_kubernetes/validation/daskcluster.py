"""Validation of DaskCluster objects, and of the cluster spec a DaskJob embeds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dask_kubernetes.api import constants
from dask_kubernetes.validation import lifecycle, practices, queueing, ratchet, shared
from dask_kubernetes.validation.errors import FieldError


def validate_cluster_spec(spec: Mapping[str, Any], path: str = "spec") -> list[FieldError]:
    """Check a cluster spec: worker and scheduler PodSpecs, the scheduler Service and ``suspend``.

    ``suspend`` is checked here, so a DaskJob's cluster spec has it checked too (a
    ``true`` there is refused by the DaskJob's own rules).
    """
    errors = lifecycle.suspend(spec, path)
    errors += shared.worker(spec.get("worker"), f"{path}.worker")
    scheduler = spec.get("scheduler")
    if not isinstance(scheduler, Mapping):
        errors.append(FieldError(f"{path}.scheduler", "required field is missing", "FieldValueRequired"))
    else:
        errors += shared.pod_spec(scheduler.get("spec"), f"{path}.scheduler.spec", role="scheduler")
        service = scheduler.get("service")
        if not isinstance(service, Mapping):
            errors.append(
                FieldError(f"{path}.scheduler.service", "required field is missing", "FieldValueRequired")
            )
        elif not service.get("ports"):
            errors.append(
                FieldError(
                    f"{path}.scheduler.service.ports",
                    "the scheduler Service needs ports",
                    "FieldValueRequired",
                )
            )
    idle = spec.get("idleTimeout", 0)
    if not isinstance(idle, int) or isinstance(idle, bool) or idle < 0:
        errors.append(FieldError(f"{path}.idleTimeout", "must be a non-negative integer number of seconds"))
    return errors


def cluster_spec_warnings(spec: Mapping[str, Any], path: str = "spec") -> list[str]:
    """Best-practice warnings for the worker and scheduler PodSpecs of a cluster spec."""
    worker = spec.get("worker")
    scheduler = spec.get("scheduler")
    found: list[str] = []
    if isinstance(worker, Mapping):
        found += practices.pod_warnings(worker.get("spec"), f"{path}.worker.spec", worker=True)
    if isinstance(scheduler, Mapping):
        found += practices.pod_warnings(scheduler.get("spec"), f"{path}.scheduler.spec")
    return found


def validate(obj: Mapping[str, Any]) -> list[FieldError]:
    """Check a DaskCluster; every error names its field."""
    errors = shared.cluster_name(shared.metadata_name(obj), "metadata.name")
    errors += queueing.validate_labels(constants.PLURAL_CLUSTER, obj)
    return errors + validate_cluster_spec(shared.spec_of(obj))


def validate_update(obj: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    """Check an updated DaskCluster: the create rules on changed fields (ratcheting), and its Kueue queue.

    The queue may change only while the cluster is suspended (see :mod:`.queueing`).
    """
    return ratchet.validate_changed(validate, obj, old) + queueing.validate_queue_change(
        constants.PLURAL_CLUSTER, obj, old
    )


def warnings(obj: Mapping[str, Any]) -> list[str]:
    """Best-practice warnings for a DaskCluster."""
    return practices.unique(cluster_spec_warnings(shared.spec_of(obj)))

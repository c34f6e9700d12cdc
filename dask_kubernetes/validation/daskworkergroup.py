"""Validation of DaskWorkerGroup objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dask_kubernetes.validation import practices, ratchet, shared
from dask_kubernetes.validation.errors import FieldError


def validate(obj: Mapping[str, Any]) -> list[FieldError]:
    """Check a DaskWorkerGroup; every error names its field."""
    errors = shared.dns_label(shared.metadata_name(obj), "metadata.name")
    spec = shared.spec_of(obj)
    errors += shared.cluster_name(spec.get("cluster"), "spec.cluster")
    errors += shared.worker(spec.get("worker"), "spec.worker")
    return errors


def validate_update(obj: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    """Check an updated DaskWorkerGroup: the create rules on changed fields, and it stays with its cluster."""
    return ratchet.validate_changed(validate, obj, old) + shared.immutable(
        obj, old, "spec.cluster", "create a new worker group to join another cluster"
    )


def warnings(obj: Mapping[str, Any]) -> list[str]:
    """Best-practice warnings for a DaskWorkerGroup (the cluster lookup is the webhook's)."""
    worker = shared.spec_of(obj).get("worker")
    if not isinstance(worker, Mapping):
        return []
    return practices.unique(practices.pod_warnings(worker.get("spec"), "spec.worker.spec", worker=True))

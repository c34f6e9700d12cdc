"""Validation of DaskWorkerGroup objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dask_kubernetes.validation import common
from dask_kubernetes.validation.errors import FieldError


def validate(obj: Mapping[str, Any]) -> list[FieldError]:
    """Check a DaskWorkerGroup; every error names its field."""
    errors = common.dns_label(common.metadata_name(obj), "metadata.name")
    spec = common.spec_of(obj)
    errors += common.cluster_name(spec.get("cluster"), "spec.cluster")
    worker = spec.get("worker")
    if not isinstance(worker, Mapping):
        errors.append(FieldError("spec.worker", "required field is missing"))
    else:
        errors += common.pod_spec(worker.get("spec"), "spec.worker.spec", role="worker")
    return errors

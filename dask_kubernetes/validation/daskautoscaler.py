"""Validation of DaskAutoscaler objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dask_kubernetes.validation import ratchet, shared
from dask_kubernetes.validation.errors import FieldError


def validate(obj: Mapping[str, Any]) -> list[FieldError]:
    """Check a DaskAutoscaler: its cluster, bounds and optional worker group name."""
    spec = shared.spec_of(obj)
    errors = shared.cluster_name(spec.get("cluster"), "spec.cluster")
    minimum, maximum = spec.get("minimum", 0), spec.get("maximum")
    bounds_ok = True
    for name, value in (("minimum", minimum), ("maximum", maximum)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            cause = "FieldValueRequired" if value is None else "FieldValueInvalid"
            errors.append(FieldError(f"spec.{name}", "must be a non-negative integer", cause))
            bounds_ok = False
    if bounds_ok and minimum > maximum:
        errors.append(
            FieldError("spec.minimum", f"must be less than or equal to spec.maximum ({minimum} > {maximum})")
        )
    group = spec.get("workerGroup")
    if group is not None:
        errors += shared.dns_label(group, "spec.workerGroup")
    return errors


def validate_update(obj: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    """Check an updated DaskAutoscaler: the create rules on changed fields, and it stays with its cluster."""
    return ratchet.validate_changed(validate, obj, old) + shared.immutable(
        obj, old, "spec.cluster", "create a new DaskAutoscaler to scale another cluster"
    )


def warnings(obj: Mapping[str, Any]) -> list[str]:
    """No best practice of the seed concerns an autoscaler; kept for the uniform table."""
    return []

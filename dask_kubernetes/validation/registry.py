"""One dispatch table from plural to validator, used by the webhook and the operator."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dask_kubernetes._structs import constants
from dask_kubernetes.validation import daskautoscaler, daskcluster, daskjob, daskworkergroup
from dask_kubernetes.validation.errors import FieldError

Validator = Callable[[Mapping[str, Any]], list[FieldError]]

VALIDATORS: dict[str, Validator] = {
    constants.PLURAL_CLUSTER: daskcluster.validate,
    constants.PLURAL_WORKER_GROUP: daskworkergroup.validate,
    constants.PLURAL_JOB: daskjob.validate,
    constants.PLURAL_AUTOSCALER: daskautoscaler.validate,
}


def validate(plural: str, obj: Mapping[str, Any]) -> list[FieldError]:
    """Validate ``obj`` of the kind named by ``plural``; sorted, every error with its field."""
    return sorted(VALIDATORS[plural](obj))

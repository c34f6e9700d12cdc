"""One dispatch table from plural to rules, used by the webhook and the operator.

Each kind's module offers a create/update pair of validators returning
:class:`~dask_kubernetes.validation.errors.FieldError` lists, and a function
returning best-practice warnings (see :mod:`.practices`).  The webhook's routes only
decode the AdmissionReview and look the kind up here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dask_kubernetes.api import constants
from dask_kubernetes.validation import daskautoscaler, daskcluster, daskjob, daskworkergroup
from dask_kubernetes.validation.errors import FieldError

Validator = Callable[[Mapping[str, Any]], list[FieldError]]
UpdateValidator = Callable[[Mapping[str, Any], Mapping[str, Any]], list[FieldError]]
WarningCheck = Callable[[Mapping[str, Any]], list[str]]


@dataclass(frozen=True)
class Rules:
    """What the webhook checks for one kind."""

    kind: str
    validate: Validator
    validate_update: UpdateValidator
    warnings: WarningCheck


RULES: dict[str, Rules] = {
    constants.PLURAL_CLUSTER: Rules(
        constants.KIND_CLUSTER, daskcluster.validate, daskcluster.validate_update, daskcluster.warnings
    ),
    constants.PLURAL_WORKER_GROUP: Rules(
        constants.KIND_WORKER_GROUP,
        daskworkergroup.validate,
        daskworkergroup.validate_update,
        daskworkergroup.warnings,
    ),
    constants.PLURAL_JOB: Rules(
        constants.KIND_JOB, daskjob.validate, daskjob.validate_update, daskjob.warnings
    ),
    constants.PLURAL_AUTOSCALER: Rules(
        constants.KIND_AUTOSCALER,
        daskautoscaler.validate,
        daskautoscaler.validate_update,
        daskautoscaler.warnings,
    ),
}

VALIDATORS: dict[str, Validator] = {plural: rules.validate for plural, rules in RULES.items()}


def _unique_sorted(errors: list[FieldError]) -> list[FieldError]:
    return sorted(set(errors))


def validate(plural: str, obj: Mapping[str, Any]) -> list[FieldError]:
    """Validate ``obj`` of the kind named by ``plural``; sorted, every error with its field."""
    return _unique_sorted(VALIDATORS[plural](obj))


def validate_update(plural: str, obj: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    """Validate an update of ``old`` into ``obj``: create rules on changed fields, and immutable fields."""
    return _unique_sorted(RULES[plural].validate_update(obj, old))


def warnings(plural: str, obj: Mapping[str, Any]) -> list[str]:
    """Return the best-practice warnings for ``obj``; never raises for a well-formed kind."""
    return RULES[plural].warnings(obj)

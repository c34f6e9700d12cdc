"""Typed bodies of the four kinds, and the accessors the code reads them with.

PLACEHOLDER: to be rendered by the generator from ``schemas/``; until then only the
accessors are here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict


class Condition(TypedDict, total=False):
    """A kstatus condition, as ``status.conditions[]`` holds it."""

    type: str
    status: str
    reason: str
    message: str
    lastTransitionTime: str
    observedGeneration: int


def status_of(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """The object's status, or an empty mapping before anything wrote one."""
    status = obj.get("status")
    return status if isinstance(status, Mapping) else {}


def conditions_of(obj: Mapping[str, Any]) -> list[Condition]:
    """The object's ``status.conditions``, or an empty list."""
    found = status_of(obj).get("conditions")
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []  # type: ignore[misc]


def condition(obj: Mapping[str, Any], type_: str) -> Condition | None:
    """The condition of ``type_`` in the object's status, or None."""
    for found in conditions_of(obj):
        if found.get("type") == type_:
            return found
    return None

"""Ratcheting: on update, policy rules judge only what the update changed.

Kubernetes ratchets CRD validation the same way: a value that was stored before a
rule got stricter may stay, as long as the update leaves it alone.  Without this, a
stricter rule in a new release (say the static Pod rules of :mod:`.podspec`) would
refuse every later edit of an existing object, including a ``kubectl label`` or a
patch of ``replicas`` that has nothing to do with the offending field.

An error of the updated object is dropped when the old object had the very same
error (same field, same words) and the value at that field is unchanged.  Anything
else is reported: a new problem, a bad value changed to another bad value (its
words name the new value), or a field made bad by a change elsewhere that the old
object did not have.  Lists are compared by index, so a reordered list counts as
changed, which errs on the side of checking.  Rules that guard invariants (the
immutable fields) are not ratcheted; the kinds add them after this step.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from dask_kubernetes.validation.errors import FieldError

_TOKEN = re.compile(r"([^.\[\]]+)|\[([^\]]*)\]")
_MISSING = object()


def lookup(obj: Any, path: str) -> Any:
    """Return the value at a field path such as ``spec.worker.spec.containers[0].ports[1].name``.

    ``[i]`` indexes a list and ``[key]`` a map (``requests[cpu]``); a path that leads
    nowhere yields a sentinel that equals nothing but itself.
    """
    node = obj
    for match in _TOKEN.finditer(path):
        key, bracket = match.group(1), match.group(2)
        if key is not None:
            node = node.get(key, _MISSING) if isinstance(node, Mapping) else _MISSING
        elif isinstance(node, list) and bracket.isdigit():
            index = int(bracket)
            node = node[index] if index < len(node) else _MISSING
        elif isinstance(node, Mapping):
            node = node.get(bracket, _MISSING)
        else:
            node = _MISSING
        if node is _MISSING:
            return _MISSING
    return node


def ratchet(
    errors: list[FieldError], old_errors: list[FieldError], obj: Mapping[str, Any], old: Mapping[str, Any]
) -> list[FieldError]:
    """Drop the errors the old object already had on a field this update left unchanged."""
    before = set(old_errors)
    return [
        error
        for error in errors
        if not (error in before and lookup(obj, error.path) == lookup(old, error.path))
    ]


def validate_changed(
    validate: Callable[[Mapping[str, Any]], list[FieldError]], obj: Mapping[str, Any], old: Mapping[str, Any]
) -> list[FieldError]:
    """Run a kind's create rules on an update, ratcheted against the stored object."""
    errors = validate(obj)
    if not errors:
        return errors
    return ratchet(errors, validate(old), obj, old)

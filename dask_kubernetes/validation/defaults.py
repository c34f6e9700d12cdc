"""Defaulting: fill absent fields, never touch present ones, as a JSONPatch.

Only static, safe defaults are filled (the same the CRD schema declares, plus the
DaskJob runner's ``restartPolicy``), and only where their parent object exists, so
a manifest from Git never drifts: applying it again finds nothing to add, and the
patch is empty.  Applying the patch and defaulting again yields an empty patch
(idempotence), which the property tests check.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from dask_kubernetes.api import constants

# (path of the parent object, field, default value)
Rule = tuple[tuple[str, ...], str, Any]

RULES: dict[str, tuple[Rule, ...]] = {
    constants.PLURAL_CLUSTER: (
        (("spec",), "idleTimeout", 0),
        (("spec", "worker"), "replicas", 1),
    ),
    constants.PLURAL_WORKER_GROUP: ((("spec", "worker"), "replicas", 1),),
    constants.PLURAL_JOB: (
        (("spec", "job", "spec"), "restartPolicy", constants.DEFAULT_RUNNER_RESTART_POLICY),
        (("spec", "cluster", "spec"), "idleTimeout", 0),
        (("spec", "cluster", "spec", "worker"), "replicas", 1),
    ),
    constants.PLURAL_AUTOSCALER: ((("spec",), "minimum", 0),),
}


def _pointer(parts: tuple[str, ...]) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def _parent(obj: Any, parts: tuple[str, ...]) -> Mapping[str, Any] | None:
    node = obj
    for part in parts:
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node if isinstance(node, Mapping) else None


def patch(plural: str, obj: Any) -> list[dict[str, Any]]:
    """Return the JSONPatch operations that fill ``obj``'s absent defaults; [] when none are."""
    ops = []
    for parts, field, value in RULES.get(plural, ()):
        parent = _parent(obj, parts)
        if parent is not None and parent.get(field) is None:
            ops.append({"op": "add", "path": _pointer((*parts, field)), "value": value})
    return ops


def apply(plural: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    """Return a defaulted deep copy of ``obj``, as the API server stores it after mutation."""
    out = copy.deepcopy(dict(obj))
    for op in patch(plural, out):
        *parents, field = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        node: Any = out
        for part in parents:
            node = node[part]
        node[field] = op["value"]
    return out

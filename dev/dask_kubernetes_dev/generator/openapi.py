"""Turn OpenAPI definitions into the structural schema a CRD accepts.

A CRD's ``openAPIV3Schema`` may not use ``$ref``, must give every node a type, and
rejects the patch-strategy extensions the core types carry.  This module inlines the
vendored Kubernetes definitions (see :mod:`.vendor`) and our own ``definitions`` into
one self-contained tree.  It is pure: data in, data out.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

K8S_REF = "k8s:"
LOCAL_REF = "#/definitions/"
K8S_PREFIX = "#/components/schemas/"

INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
TIME = "io.k8s.apimachinery.pkg.apis.meta.v1.Time"

# Keys a CRD schema must not carry: patch strategies are for built-in types only,
# and defaults of the core types are Go zero values the API server applies on the
# real Pod anyway.  Copying them would make stored objects drift from Git.
_DROPPED_KEYS = frozenset(
    {
        "default",
        "x-kubernetes-patch-merge-key",
        "x-kubernetes-patch-strategy",
        "x-kubernetes-unions",
        "x-kubernetes-list-type",
        "x-kubernetes-list-map-keys",
        "x-kubernetes-map-type",
        "nullable",
    }
)


class SchemaError(ValueError):
    """A schema source refers to something that does not exist, or cycles."""


@dataclass
class Resolver:
    """Inline ``$ref`` nodes from the vendored core types and our own definitions.

    ``description_depth`` limits how deep into the Kubernetes core types
    descriptions are kept: the full PodSpec with every description would push a CRD
    with three PodSpecs past the 262144-byte limit of client-side ``kubectl apply``.
    Our own fields always keep theirs.
    """

    kubernetes: Mapping[str, Any]
    local: Mapping[str, Any] = field(default_factory=dict)
    description_depth: int = 1

    def resolve(self, node: Any) -> Any:
        """Return ``node`` with every reference inlined."""
        return self._walk(node, stack=(), k8s_depth=None)

    def _walk(self, node: Any, *, stack: tuple[str, ...], k8s_depth: int | None) -> Any:
        if isinstance(node, list):
            return [self._walk(item, stack=stack, k8s_depth=k8s_depth) for item in node]
        if not isinstance(node, Mapping):
            return node
        node = self._flatten_all_of(node)
        ref = node.get("$ref")
        if isinstance(ref, str):
            return self._inline(node, ref, stack=stack, k8s_depth=k8s_depth)
        out: dict[str, Any] = {}
        for key, value in node.items():
            if k8s_depth is not None and key in _DROPPED_KEYS:
                continue
            if key == "description" and k8s_depth is not None and k8s_depth > self.description_depth:
                continue
            if key == "properties":
                out[key] = {
                    name: self._walk(
                        prop, stack=stack, k8s_depth=None if k8s_depth is None else k8s_depth + 1
                    )
                    for name, prop in value.items()
                }
            else:
                out[key] = self._walk(value, stack=stack, k8s_depth=k8s_depth)
        return out

    @staticmethod
    def _flatten_all_of(node: Mapping[str, Any]) -> Mapping[str, Any]:
        all_of = node.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], Mapping):
            merged = {k: v for k, v in node.items() if k != "allOf"}
            for key, value in all_of[0].items():
                merged.setdefault(key, value)
            return merged
        return node

    def _inline(
        self, node: Mapping[str, Any], ref: str, *, stack: tuple[str, ...], k8s_depth: int | None
    ) -> dict[str, Any]:
        if ref in stack:
            raise SchemaError(f"schema reference cycle: {' -> '.join((*stack, ref))}")
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        if ref.startswith(K8S_REF) or ref.startswith(K8S_PREFIX):
            name = ref.split(":", 1)[1] if ref.startswith(K8S_REF) else ref[len(K8S_PREFIX) :]
            depth = 0 if k8s_depth is None else k8s_depth
            target = self._core_type(name, depth, stack=(*stack, ref))
        elif ref.startswith(LOCAL_REF):
            name = ref[len(LOCAL_REF) :]
            if name not in self.local:
                raise SchemaError(f"unknown definition {name!r} in $ref")
            target = self._walk(self.local[name], stack=(*stack, ref), k8s_depth=k8s_depth)
        else:
            raise SchemaError(f"unsupported $ref {ref!r}")
        resolved = dict(target)
        # Siblings of a reference inside a core type (an item's "default: {}") obey the
        # same dropping rules as the core type; ours (CEL rules, descriptions) are kept.
        resolved.update(self._walk(siblings, stack=stack, k8s_depth=k8s_depth))
        return resolved

    def _core_type(self, name: str, depth: int, *, stack: tuple[str, ...]) -> dict[str, Any]:
        if name not in self.kubernetes:
            raise SchemaError(f"Kubernetes definition {name!r} is not vendored")
        definition = self.kubernetes[name]
        description = definition.get("description") if depth <= self.description_depth else None
        if name in (INT_OR_STRING, QUANTITY):
            special: dict[str, Any] = {"x-kubernetes-int-or-string": True}
            if name == QUANTITY:
                special["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        elif name == TIME:
            special = {"type": "string", "format": "date-time"}
        else:
            special = self._walk(copy.deepcopy(dict(definition)), stack=stack, k8s_depth=depth)
            special.setdefault("type", "object")
            return special
        if description:
            special["description"] = description
        return special

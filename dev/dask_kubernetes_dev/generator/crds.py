"""Build the four CustomResourceDefinitions from their schema sources.

Pure: :func:`build_crd` takes one source file's data and a resolver and returns the
CRD as a dict.  Each CRD carries the status subresource, the scale subresource where
the resource has workers, printer columns, short names and CEL rules.
"""

from __future__ import annotations

import json
from typing import Any

from dask_kubernetes.api import constants
from dask_kubernetes_dev.generator.openapi import Resolver

# CRDs larger than this cannot be applied client-side: kubectl stores the whole
# object in the last-applied-configuration annotation, capped at 262144 bytes.
MAX_CRD_BYTES = 262144

APP_LABELS = {"app.kubernetes.io/part-of": "dask-kubernetes"}


def _status_schema(source: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    status: dict[str, Any] = {"type": "object", "properties": {}}
    for part in source.get("include", []):
        status["properties"].update(resolver.resolve(resolver.local[part])["properties"])
    status["properties"].update(resolver.resolve(source.get("properties", {})))
    return status


def build_crd(source: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    """Render one CRD as a dict, ready to dump as YAML."""
    plural = source["plural"]
    root_validations = list(source.get("rootValidations", []))
    if source.get("nameIsDnsLabel"):
        root_validations = list(resolver.local["NameRules"]) + root_validations
    schema: dict[str, Any] = {
        "type": "object",
        "description": source["description"],
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": resolver.resolve(source["spec"]),
            "status": _status_schema(source["status"], resolver),
        },
    }
    if root_validations:
        schema["x-kubernetes-validations"] = root_validations
    subresources: dict[str, Any] = {"status": {}}
    if "scale" in source:
        subresources["scale"] = dict(source["scale"])
    names: dict[str, Any] = {
        "kind": source["kind"],
        "listKind": f"{source['kind']}List",
        "plural": plural,
        "singular": source["singular"],
    }
    if source.get("shortNames"):
        names["shortNames"] = list(source["shortNames"])
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{constants.GROUP}", "labels": dict(APP_LABELS)},
        "spec": {
            "group": constants.GROUP,
            "names": names,
            "scope": "Namespaced",
            "versions": [
                {
                    "name": constants.VERSION,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                    "subresources": subresources,
                    "additionalPrinterColumns": list(source["printerColumns"]),
                }
            ],
        },
    }


def compact_size(crd: dict[str, Any]) -> int:
    """Measure the CRD as client-side apply stores it: compact JSON, in bytes."""
    return len(json.dumps(crd, separators=(",", ":")).encode())


def openapi_schema(crd: dict[str, Any]) -> dict[str, Any]:
    """Return the ``openAPIV3Schema`` of a CRD's single version."""
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema

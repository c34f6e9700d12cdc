"""Check an object against a CRD's ``openAPIV3Schema``, strictly.

The API server prunes or (with strict field validation, kubectl's default) rejects
fields a structural schema does not declare.  JSON Schema allows them unless told
otherwise, so :func:`strict_schema` closes every object that lists its properties
and is not marked ``x-kubernetes-preserve-unknown-fields``.  CEL rules are not
evaluated here; the API server runs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema

from dask_kubernetes.validation.errors import FieldError, field_path


def strict_schema(node: Any) -> Any:
    """Translate a structural schema into JSON Schema that rejects unknown fields."""
    if isinstance(node, list):
        return [strict_schema(item) for item in node]
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "definitions"):
            out[key] = {name: strict_schema(sub) for name, sub in value.items()}
        elif key == "x-kubernetes-int-or-string" and value:
            out["type"] = ["integer", "string"]
        elif key.startswith("x-kubernetes-"):
            continue
        else:
            out[key] = strict_schema(value)
    if out.get("type") == "integer" and node.get("format") in ("int32", "int64"):
        out.pop("format")
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


class CRDValidator:
    """Validate objects of one CRD kind against its schema, collecting every error."""

    def __init__(self, crd: Mapping[str, Any]) -> None:
        version = crd["spec"]["versions"][0]
        self.kind: str = crd["spec"]["names"]["kind"]
        schema = strict_schema(version["schema"]["openAPIV3Schema"])
        # metadata is ObjectMeta, validated by the API server itself.
        schema["properties"]["metadata"] = {"type": "object"}
        self._validator = jsonschema.Draft7Validator(schema)

    def errors(self, obj: Mapping[str, Any]) -> list[FieldError]:
        """Return every schema error of ``obj``, each naming its field."""
        found = []
        for error in self._validator.iter_errors(obj):
            parts: list[str | int] = list(error.absolute_path)
            message = error.message
            if error.validator == "additionalProperties":
                extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
                for name in extra:
                    found.append(FieldError(field_path([*parts, name]), "unknown field"))
                continue
            if error.validator == "required":
                missing = message.split("'")[1] if "'" in message else ""
                found.append(FieldError(field_path([*parts, missing]), "required field is missing"))
                continue
            found.append(FieldError(field_path(parts), message))
        return sorted(found)

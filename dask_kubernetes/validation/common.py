"""Checks shared by several kinds: names, PodSpecs, quantities.

Each helper takes the value and the field path it sits at, and returns a list of
:class:`~dask_kubernetes.validation.errors.FieldError` so callers collect every
problem at once instead of stopping at the first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dask_kubernetes._structs import constants
from dask_kubernetes.validation.errors import FieldError

_DNS_LABEL = re.compile(constants.DNS1123_LABEL_PATTERN)


def dns_label(value: Any, path: str, *, max_length: int = constants.DNS1123_LABEL_MAX) -> list[FieldError]:
    """Check a name that ends up in other objects' names or label values."""
    if not isinstance(value, str) or not value:
        return [FieldError(path, "must be a non-empty string")]
    errors = []
    if len(value) > max_length:
        errors.append(FieldError(path, f"must be at most {max_length} characters, got {len(value)}"))
    if not _DNS_LABEL.match(value):
        errors.append(
            FieldError(
                path,
                "must be a DNS-1123 label: lower-case letters, digits and '-', "
                "starting and ending with a letter or digit",
            )
        )
    return errors


def cluster_name(value: Any, path: str) -> list[FieldError]:
    """Check a DaskCluster name: "{name}-scheduler" must still be a DNS-1123 label."""
    return dns_label(value, path, max_length=constants.MAX_CLUSTER_NAME_LEN)


def pod_spec(spec: Any, path: str, *, role: str) -> list[FieldError]:
    """Check what a PodSpec of ours needs beyond its schema: at least one container."""
    if not isinstance(spec, Mapping):
        return [FieldError(path, f"the {role} PodSpec is missing")]
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        return [FieldError(f"{path}.containers", f"the {role} PodSpec needs at least one container")]
    errors = []
    for i, container in enumerate(containers):
        if not isinstance(container, Mapping) or not container.get("name"):
            errors.append(FieldError(f"{path}.containers[{i}].name", "every container needs a name"))
    return errors


def metadata_name(obj: Mapping[str, Any]) -> Any:
    """Return ``metadata.name`` of an object, or None."""
    meta = obj.get("metadata")
    return meta.get("name") if isinstance(meta, Mapping) else None


def spec_of(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return ``spec`` as a mapping (empty when missing or of the wrong type)."""
    spec = obj.get("spec")
    return spec if isinstance(spec, Mapping) else {}

"""Checks shared by several kinds: names, PodSpecs, quantities.

Each helper takes the value and the field path it sits at, and returns a list of
:class:`~dask_kubernetes.validation.errors.FieldError` so callers collect every
problem at once instead of stopping at the first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dask_kubernetes.api import constants
from dask_kubernetes.validation import podspec
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
    """Check what a PodSpec of ours needs beyond its schema.

    At least one container; every container named (uniquely, init containers
    included) and with an image, in words that say which Pod of the cluster needs it;
    then everything else the API server's Pod validation checks statically (see
    :mod:`.podspec`), on fields those first checks did not already name.
    """
    if not isinstance(spec, Mapping):
        return [FieldError(path, f"the {role} PodSpec is missing", "FieldValueRequired")]
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        return [
            FieldError(
                f"{path}.containers", f"the {role} PodSpec needs at least one container", "FieldValueRequired"
            )
        ]
    errors: list[FieldError] = []
    seen: set[str] = set()
    for field in ("initContainers", "containers"):
        items = spec.get(field)
        if not isinstance(items, list):
            continue
        for i, container in enumerate(items):
            where = f"{path}.{field}[{i}]"
            if not isinstance(container, Mapping):
                errors.append(FieldError(where, "must be an object"))
                continue
            name = container.get("name")
            if not isinstance(name, str) or not name:
                errors.append(
                    FieldError(f"{where}.name", "every container needs a name", "FieldValueRequired")
                )
            elif name in seen:
                errors.append(
                    FieldError(f"{where}.name", f"duplicate container name {name!r}", "FieldValueDuplicate")
                )
            else:
                seen.add(name)
            image = container.get("image")
            if not isinstance(image, str) or not image.strip():
                errors.append(
                    FieldError(
                        f"{where}.image",
                        f"every {role} container needs an image, or its Pod cannot be created",
                        "FieldValueRequired",
                    )
                )
    named = {error.path for error in errors}
    return errors + [error for error in podspec.validate_pod_spec(spec, path) if error.path not in named]


_PERCENT = re.compile(r"^[0-9]+%$")


def _rollout_bound(value: Any, path: str) -> tuple[list[FieldError], bool]:
    """Check one rollout bound; return its errors and whether it is zero."""
    if isinstance(value, bool) or not (
        (isinstance(value, int) and value >= 0) or (isinstance(value, str) and _PERCENT.match(value))
    ):
        return [FieldError(path, "must be a non-negative integer or a percentage such as '25%'")], False
    return [], value in (0, "0%")


def worker(worker: Any, path: str) -> list[FieldError]:
    """Check a ``worker`` block (of a cluster, a worker group, a job's cluster): Pods, replicas, rollout."""
    if not isinstance(worker, Mapping):
        return [FieldError(path, "required field is missing", "FieldValueRequired")]
    errors = pod_spec(worker.get("spec"), f"{path}.spec", role="worker")
    replicas = worker.get("replicas", 1)
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        errors.append(FieldError(f"{path}.replicas", "must be a non-negative integer"))
    rollout = worker.get("rollout")
    if rollout is None:
        return errors
    if not isinstance(rollout, Mapping):
        return [*errors, FieldError(f"{path}.rollout", "must be an object")]
    surge_errors, no_surge = _rollout_bound(rollout.get("maxSurge", "25%"), f"{path}.rollout.maxSurge")
    gap_errors, no_gap = _rollout_bound(rollout.get("maxUnavailable", 0), f"{path}.rollout.maxUnavailable")
    errors += surge_errors + gap_errors
    if no_surge and no_gap:
        errors.append(
            FieldError(
                f"{path}.rollout.maxUnavailable",
                "may not be 0 when maxSurge is 0: no worker could be replaced",
            )
        )
    return errors


def metadata_name(obj: Mapping[str, Any]) -> Any:
    """Return ``metadata.name`` of an object, or None."""
    meta = obj.get("metadata")
    return meta.get("name") if isinstance(meta, Mapping) else None


def spec_of(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return ``spec`` as a mapping (empty when missing or of the wrong type)."""
    spec = obj.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def value_at(obj: Mapping[str, Any], path: str) -> Any:
    """Return the value at a dotted path such as ``spec.cluster``, or None."""
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def immutable(obj: Mapping[str, Any], old: Mapping[str, Any], path: str, why: str) -> list[FieldError]:
    """Refuse an update that changes the field at ``path``; ``why`` tells the user what to do."""
    if value_at(obj, path) == value_at(old, path):
        return []
    return [FieldError(path, f"field is immutable: {why}")]

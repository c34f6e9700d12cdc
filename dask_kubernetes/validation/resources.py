"""Container resources: every quantity parses, and no request exceeds its limit.

The API server checks this for Pods, but only when the operator creates them, long
after the custom resource was accepted; the webhook checks it at admission so the
mistake is reported to whoever applied the manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from dask_kubernetes.validation import quantity
from dask_kubernetes.validation.errors import FieldError

QUANTITY_HINT = "must be a Kubernetes quantity such as 500m, 2 or 4Gi"


def _quantities(values: Any, path: str) -> tuple[dict[str, tuple[Decimal, Any]], list[FieldError]]:
    """Parse a requests or limits map into ``{name: (value, as written)}``."""
    if values is None:
        return {}, []
    if not isinstance(values, Mapping):
        return {}, [FieldError(path, "must be a map of resource name to quantity")]
    parsed, errors = {}, []
    for name, raw in values.items():
        value = quantity.parse(raw)
        if value is None:
            errors.append(FieldError(f"{path}[{name}]", f"{QUANTITY_HINT}, got {raw!r}"))
        else:
            parsed[str(name)] = (value, raw)
    return parsed, errors


def requests_within_limits(resources: Any, path: str) -> list[FieldError]:
    """Check ``resources`` of one container: valid quantities and requests ≤ limits."""
    if resources is None:
        return []
    if not isinstance(resources, Mapping):
        return [FieldError(path, "must be an object with requests and limits")]
    requests, errors = _quantities(resources.get("requests"), f"{path}.requests")
    limits, limit_errors = _quantities(resources.get("limits"), f"{path}.limits")
    errors += limit_errors
    for name, (request, written) in requests.items():
        if name in limits and request > limits[name][0]:
            errors.append(
                FieldError(
                    f"{path}.requests[{name}]",
                    f"must be less than or equal to the {name} limit ({written} > {limits[name][1]})",
                )
            )
    return errors

"""The cluster manager's reads and writes of custom resources, with errors users can act on.

Kubernetes answers a missing CRD, a rejected spec and a missing object all with
HTTP errors; these functions turn each into the exception the seed documents
(``RuntimeError`` naming the missing CRDs, ``ValidationError`` naming fields,
``ValueError`` for create modes), never a raw ``ApiException``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kubernetes_asyncio.client.rest import ApiException

from dask_kubernetes.api import constants
from dask_kubernetes.exceptions import ValidationError
from dask_kubernetes.kubeapi import Kube
from dask_kubernetes.validation import registry

INSTALL_HINT = (
    "install the operator first: `helm template dask-kubernetes-operator charts/dask-kubernetes-operator "
    "-n dask-operator | kubectl apply -f -`"
)


async def ensure_crds(kube: Kube) -> None:
    """Fail with a clear message when the Dask CRDs are not installed."""
    try:
        resources = await kube.custom.get_api_resources(constants.GROUP, constants.VERSION)
    except ApiException as exc:
        if exc.status == 404:
            raise RuntimeError(
                f"the Dask custom resource definitions ({constants.GROUP}) are not installed: {INSTALL_HINT}"
            ) from None
        raise
    names = {r.name for r in resources.resources or []}
    if constants.PLURAL_CLUSTER not in names:
        raise RuntimeError(f"the DaskCluster CRD is not installed: {INSTALL_HINT}")


def check(plural: str, obj: Mapping[str, Any]) -> None:
    """Validate a resource before sending it; raise ValidationError naming every bad field."""
    errors = registry.validate(plural, obj)
    if errors:
        raise ValidationError("; ".join(str(e) for e in errors))


def _api_message(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or b"")
    except (TypeError, ValueError):
        return str(exc.reason)
    causes = (body.get("details") or {}).get("causes") or []
    if causes:
        return "; ".join(f"{c.get('field', '')}: {c.get('message', '')}".strip(": ") for c in causes)
    return str(body.get("message") or exc.reason)


async def create(kube: Kube, plural: str, namespace: str, obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """Create a resource and return it; None if it already exists; raise ValidationError if refused."""
    check(plural, obj)
    try:
        return await kube.create(plural, namespace, obj)
    except ApiException as exc:
        if exc.status in (400, 403, 422):
            raise ValidationError(
                f"{obj.get('kind', plural)} refused by the API server: {_api_message(exc)}"
            ) from None
        raise

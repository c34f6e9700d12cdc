"""``POST /validate``: deny invalid objects with their field paths, warn about best practices."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from dask_kubernetes.api import constants
from dask_kubernetes.validation import registry
from dask_kubernetes.validation import warning_texts as texts
from dask_kubernetes.webhooks import reviews
from dask_kubernetes.webhooks.deps import KubeClientDep, MetricsDep, ReviewDep
from dask_kubernetes.webhooks.kube import ClusterLookup

log = logging.getLogger(__name__)
router = APIRouter(tags=["admission"])


async def _lookup_warnings(plural: str, request: reviews.AdmissionRequest, kube: ClusterLookup) -> list[str]:
    """Warn when a new worker group names a cluster that does not exist (yet).

    Only on CREATE: ``spec.cluster`` is immutable, so asking again on every update
    (the operator's own metadata patches included) would only repeat the warning.
    """
    if plural != constants.PLURAL_WORKER_GROUP or request.operation != "CREATE":
        return []
    obj = request.object or {}
    spec = obj.get("spec")
    cluster = spec.get("cluster") if isinstance(spec, dict) else None
    namespace = request.namespace
    if not isinstance(cluster, str) or not cluster or not namespace:
        return []
    if await kube.cluster_exists(namespace, cluster) is False:
        return [texts.CLUSTER_NOT_FOUND.format(cluster=cluster, namespace=namespace)]
    return []


async def review(request: reviews.AdmissionRequest, plural: str, kube: ClusterLookup) -> dict[str, Any]:
    """Judge one request of ours: errors deny with 422, warnings ride along either way."""
    obj = request.object or {}
    if request.operation == "UPDATE":
        errors = registry.validate_update(plural, obj, request.old_object or {})
    else:
        errors = registry.validate(plural, obj)
    found = registry.warnings(plural, obj) + await _lookup_warnings(plural, request, kube)
    if errors:
        return reviews.deny(
            request.uid,
            kind=registry.RULES[plural].kind,
            group=constants.GROUP,
            name=reviews.object_name(request),
            errors=errors,
            warnings=found,
        )
    return reviews.allow(request.uid, warnings=found)


@router.post("/validate")
async def validate(body: ReviewDep, kube: KubeClientDep, metrics: MetricsDep) -> JSONResponse:
    """Answer a validating AdmissionReview; a failure of ours refuses, never a 500."""
    started = time.perf_counter()
    request = body.request
    plural = reviews.target(request)
    try:
        response = reviews.allow(request.uid) if plural is None else await review(request, plural, kube)
    except Exception:
        log.exception("validating %s %s/%s failed", plural, request.namespace, request.name)
        metrics.internal_errors.labels("validate").inc()
        response = reviews.internal_error(request.uid, allowed=False)
    resource = plural or "other"
    metrics.reviews.labels("validate", resource, request.operation, str(response["allowed"]).lower()).inc()
    if response.get("warnings"):
        metrics.warnings.labels(resource).inc(len(response["warnings"]))
    metrics.duration.labels("validate").observe(time.perf_counter() - started)
    return JSONResponse(reviews.envelope(response))

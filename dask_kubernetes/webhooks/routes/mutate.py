"""``POST /mutate``: fill absent defaults with a JSONPatch; never block a request."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from dask_kubernetes.validation import defaults
from dask_kubernetes.webhooks import reviews
from dask_kubernetes.webhooks.deps import MetricsDep, ReviewDep

log = logging.getLogger(__name__)
router = APIRouter(tags=["admission"])


@router.post("/mutate")
async def mutate(body: ReviewDep, metrics: MetricsDep) -> JSONResponse:
    """Answer a mutating AdmissionReview; on a failure of ours, admit unchanged (fail open)."""
    started = time.perf_counter()
    request = body.request
    plural = reviews.target(request)
    try:
        ops = defaults.patch(plural, request.object) if plural else []
        response = reviews.allow(request.uid, patch=ops)
    except Exception:
        log.exception("defaulting %s %s/%s failed", plural, request.namespace, request.name)
        metrics.internal_errors.labels("mutate").inc()
        ops, response = [], reviews.internal_error(request.uid, allowed=True)
    resource = plural or "other"
    metrics.reviews.labels("mutate", resource, request.operation, "true").inc()
    if ops:
        metrics.patches.labels(resource).inc()
    metrics.duration.labels("mutate").observe(time.perf_counter() - started)
    return JSONResponse(reviews.envelope(response))

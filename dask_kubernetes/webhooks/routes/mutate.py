"""``POST /mutate``: fill absent defaults, and suspend what Kueue queues, with a JSONPatch; never block.

Two things are patched, both safe to repeat:

- on CREATE and UPDATE, absent fields get their static defaults (:mod:`~dask_kubernetes.validation.defaults`);
- on CREATE only, with the Kueue integration on (``kueue.enabled``), a DaskJob or
  DaskCluster labelled ``kueue.x-k8s.io/queue-name`` gets
  ``spec.suspend: true`` (:func:`~dask_kubernetes.validation.queueing.suspend_patch`), as
  Kueue's own webhook does for a batch Job, so it waits in the queue until Kueue admits
  it; the operator then sets it to false.

The route fails open (the chart registers it with ``failurePolicy: Ignore``, and a
failure of ours admits unchanged), so an object is never refused for want of
defaults; a queued object created while it is away is stored as written, which is why
``docs/queues.md`` tells those without the webhook to write ``suspend: true`` themselves.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from dask_kubernetes.validation import defaults, queueing
from dask_kubernetes.webhooks import reviews
from dask_kubernetes.webhooks.deps import MetricsDep, ReviewDep, SettingsDep

log = logging.getLogger(__name__)
router = APIRouter(tags=["admission"])


def operations(plural: str, request: reviews.AdmissionRequest, *, kueue: bool = True) -> list[dict[str, Any]]:
    """Every JSONPatch operation for one request of ours: defaults, then the queue's suspend.

    ``kueue`` false (the chart's ``kueue.enabled`` off): the operator ignores the queue
    label, so suspending a labelled object would park it for good; it is left alone.
    """
    ops = defaults.patch(plural, request.object)
    if kueue and request.operation == "CREATE":
        ops += queueing.suspend_patch(plural, request.object)
    return ops


@router.post("/mutate")
async def mutate(body: ReviewDep, metrics: MetricsDep, settings: SettingsDep) -> JSONResponse:
    """Answer a mutating AdmissionReview; on a failure of ours, admit unchanged (fail open)."""
    started = time.perf_counter()
    request = body.request
    plural = reviews.target(request)
    try:
        ops = operations(plural, request, kueue=settings.kueue) if plural else []
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

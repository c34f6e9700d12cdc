"""``POST /validate``: deny invalid objects with their field paths, warn about best practices.

Two rules need the API: the missing-cluster warning, and Kueue's limit of PodSets for
a worker group joining a queued cluster.  Both ask only on CREATE, through
:class:`~dask_kubernetes.webhooks.kube.ClusterLookup`, and say nothing when it cannot
answer.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from dask_kubernetes.api import constants
from dask_kubernetes.validation import queueing, registry
from dask_kubernetes.validation import warning_texts as texts
from dask_kubernetes.validation.errors import FieldError
from dask_kubernetes.webhooks import reviews
from dask_kubernetes.webhooks.deps import KubeClientDep, MetricsDep, ReviewDep, SettingsDep
from dask_kubernetes.webhooks.kube import ClusterLookup

log = logging.getLogger(__name__)
router = APIRouter(tags=["admission"])


def _new_group_cluster(plural: str, request: reviews.AdmissionRequest) -> str | None:
    """The cluster a worker group being created names, or None (another kind, an update, no name).

    Only on CREATE: ``spec.cluster`` is immutable, so asking again on every update
    (the operator's own metadata patches included) would only repeat the answer.
    """
    if plural != constants.PLURAL_WORKER_GROUP or request.operation != "CREATE" or not request.namespace:
        return None
    spec = (request.object or {}).get("spec")
    cluster = spec.get("cluster") if isinstance(spec, dict) else None
    return cluster if isinstance(cluster, str) and cluster else None


async def _lookup_warnings(plural: str, request: reviews.AdmissionRequest, kube: ClusterLookup) -> list[str]:
    """Warn when a new worker group names a cluster that does not exist (yet)."""
    cluster = _new_group_cluster(plural, request)
    if cluster is None:
        return []
    if await kube.cluster_exists(request.namespace, cluster) is False:
        return [texts.CLUSTER_NOT_FOUND.format(cluster=cluster, namespace=request.namespace)]
    return []


async def _lookup_errors(
    plural: str, request: reviews.AdmissionRequest, kube: ClusterLookup, *, kueue: bool
) -> list[FieldError]:
    """Refuse a new worker group that would take a cluster Kueue queues past Kueue's PodSet limit.

    Only with the Kueue integration on: otherwise no Workload is made, and no limit applies.
    """
    cluster = _new_group_cluster(plural, request) if kueue else None
    if cluster is None:
        return []
    group = reviews.object_name(request)
    return queueing.worker_group_limit(group, cluster, await kube.queued_cluster(request.namespace, cluster))


async def review(
    request: reviews.AdmissionRequest, plural: str, kube: ClusterLookup, *, kueue: bool = True
) -> dict[str, Any]:
    """Judge one request of ours: errors deny with 422, warnings ride along either way."""
    obj = request.object or {}
    if request.operation == "UPDATE":
        errors = registry.validate_update(plural, obj, request.old_object or {})
    else:
        errors = registry.validate(plural, obj)
    errors = sorted(set(errors + await _lookup_errors(plural, request, kube, kueue=kueue)))
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
async def validate(
    body: ReviewDep, kube: KubeClientDep, metrics: MetricsDep, settings: SettingsDep
) -> JSONResponse:
    """Answer a validating AdmissionReview; a failure of ours refuses, never a 500."""
    started = time.perf_counter()
    request = body.request
    plural = reviews.target(request)
    try:
        response = (
            reviews.allow(request.uid)
            if plural is None
            else await review(request, plural, kube, kueue=settings.kueue)
        )
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

"""Operational endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from dask_kubernetes.webhooks.deps import MetricsDep, StateDep

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_class=PlainTextResponse)
async def healthz() -> str:
    """Alive as long as the event loop answers; a restart would not fix anything else."""
    return "ok"


@router.get("/readyz", response_class=PlainTextResponse)
async def readyz(state: StateDep, response: Response) -> str:
    """Ready once a serving certificate is loaded and the app is started."""
    if not state.ready:
        response.status_code = 503
        return f"not ready: {state.not_ready_reason}"
    return "ok"


@router.get("/metrics")
async def metrics(metrics: MetricsDep) -> Response:
    """Prometheus text exposition of :class:`~dask_kubernetes.webhooks.metrics.Metrics`."""
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

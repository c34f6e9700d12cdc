"""Dependencies of the routes, as ``Annotated`` aliases that keep signatures short.

All are ``async def``: FastAPI runs a plain ``def`` dependency in a thread pool,
which for a lookup in ``app.state`` costs more than the admission check itself.

Everything comes from ``app.state``, which :func:`dask_kubernetes.webhooks.app.create_app`
fills, so a test builds an app with its own settings, fake API and metrics.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from dask_kubernetes.settings import Settings
from dask_kubernetes.webhooks.body import read_limited
from dask_kubernetes.webhooks.kube import ClusterLookup
from dask_kubernetes.webhooks.metrics import Metrics
from dask_kubernetes.webhooks.reviews import MAX_BODY_BYTES, AdmissionReview, parse
from dask_kubernetes.webhooks.state import WebhookState


async def read_review(request: Request) -> AdmissionReview:
    """Parse the body as an AdmissionReview; a bad one raises ``BadReview`` (answered 400).

    The body is read with a limit (see :mod:`.body`): a larger one raises
    ``BodyTooLarge`` (answered 413) before it is buffered.
    """
    return parse(await read_limited(request, MAX_BODY_BYTES))


async def get_kube(request: Request) -> ClusterLookup:
    """The API client for lookups; a no-op stand-in when the webhook has no API access."""
    kube: ClusterLookup = request.app.state.webhook.kube
    return kube


async def get_metrics(request: Request) -> Metrics:
    """The app's metrics."""
    metrics: Metrics = request.app.state.metrics
    return metrics


async def get_state(request: Request) -> WebhookState:
    """Readiness and TLS state shared with the background tasks."""
    state: WebhookState = request.app.state.webhook
    return state


async def get_settings(request: Request) -> Settings:
    """The app's settings (whether the Kueue integration is on, for one)."""
    settings: Settings = request.app.state.settings
    return settings


ReviewDep = Annotated[AdmissionReview, Depends(read_review)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
KubeClientDep = Annotated[ClusterLookup, Depends(get_kube)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
StateDep = Annotated[WebhookState, Depends(get_state)]

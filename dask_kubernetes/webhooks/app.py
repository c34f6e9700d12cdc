"""Assemble the webhook app: routers, error handlers and the background tasks.

``create_app()`` takes everything it needs as arguments, so tests build an app with
their own settings and a fake API lookup and talk to it through ``TestClient``;
:mod:`.main` builds the real one.  A body that is not an AdmissionReview gets a 400
naming what is wrong, never a stack trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from dask_kubernetes.settings import Settings
from dask_kubernetes.webhooks import body, reviews
from dask_kubernetes.webhooks.kube import ClusterLookup, KubeClient, NoLookup
from dask_kubernetes.webhooks.metrics import Metrics
from dask_kubernetes.webhooks.routes import health, mutate, validate
from dask_kubernetes.webhooks.state import BackgroundTask, WebhookState

log = logging.getLogger(__name__)

# How many parser complaints a 400 lists; the rest are counted.
_MAX_LISTED_ERRORS = 5


def _bad_request(request: Request, message: str) -> JSONResponse:
    route = request.url.path.strip("/") or "root"
    request.app.state.metrics.bad_requests.labels(route).inc()
    return JSONResponse(status_code=400, content={"code": 400, "reason": "BadRequest", "message": message})


async def _malformed(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # registered for that type only
        raise exc
    problems = []
    for error in exc.errors()[:_MAX_LISTED_ERRORS]:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    more = len(exc.errors()) - len(problems)
    if more > 0:
        problems.append(f"and {more} more")
    return _bad_request(request, "malformed AdmissionReview: " + "; ".join(problems))


async def _bad_review(request: Request, exc: Exception) -> JSONResponse:
    return _bad_request(request, f"malformed AdmissionReview: {exc}")


async def _bad_length(request: Request, exc: Exception) -> JSONResponse:
    return _bad_request(request, str(exc))


async def _too_large(request: Request, exc: Exception) -> JSONResponse:
    """413 without reading the rest; ``Connection: close`` tells the client not to send it either."""
    route = request.url.path.strip("/") or "root"
    request.app.state.metrics.bad_requests.labels(route).inc()
    return JSONResponse(
        status_code=413,
        content={"code": 413, "reason": "RequestEntityTooLarge", "message": str(exc)},
        headers={"Connection": "close"},
    )


def _lifespan(
    kube: ClusterLookup | None, connect: bool, tasks: Sequence[BackgroundTask]
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state: WebhookState = app.state.webhook
        settings: Settings = app.state.settings
        client: KubeClient | None = None
        if kube is not None:
            state.kube = kube
        elif connect:
            try:
                client = await KubeClient.connect(timeout=settings.webhook_lookup_timeout)
                state.kube = client
            except Exception as exc:  # noqa: BLE001 - the webhook still validates without the API
                log.warning("no Kubernetes API access, so no missing-cluster warnings: %s", exc)
        running = [asyncio.create_task(task(state), name=getattr(task, "__name__", "task")) for task in tasks]
        state.ready, state.not_ready_reason = True, ""
        try:
            yield
        finally:
            state.ready, state.not_ready_reason = False, "shutting down"
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            if client is not None:
                await client.close()

    return lifespan


def create_app(
    settings: Settings | None = None,
    *,
    kube: ClusterLookup | None = None,
    connect: bool = False,
    tasks: Sequence[BackgroundTask] = (),
    metrics: Metrics | None = None,
) -> FastAPI:
    """Build the webhook app.

    ``kube`` is the lookup behind the missing-cluster warning; with ``connect`` and
    no ``kube``, the app connects with its ServiceAccount at start-up.  ``tasks`` run
    in the background while the app serves (the TLS upkeep of :mod:`.tls`).
    """
    app = FastAPI(
        title="dask-kubernetes admission webhook",
        lifespan=_lifespan(kube, connect, tasks),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings or Settings()
    app.state.metrics = metrics or Metrics()
    app.state.webhook = WebhookState(kube=kube or NoLookup())
    app.add_exception_handler(RequestValidationError, _malformed)
    app.add_exception_handler(reviews.BadReview, _bad_review)
    app.add_exception_handler(body.BadLength, _bad_length)
    app.add_exception_handler(body.BodyTooLarge, _too_large)
    app.include_router(validate.router)
    app.include_router(mutate.router)
    app.include_router(health.router)
    return app

"""Operator start-up and clean-up: kopf settings, the API client and the shared context."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from dask_kubernetes._structs import constants
from dask_kubernetes.kubeapi import Kube
from dask_kubernetes.kubeconfig import api_client
from dask_kubernetes.operator.controller import daskautoscaler, daskcluster, daskjob, daskworkergroup
from dask_kubernetes.operator.controller.context import Context
from dask_kubernetes.settings import get_settings


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    """Keep kopf's bookkeeping out of status, quiet its own events, and build the context.

    kopf's progress goes to annotations, never ``status.kopf``: with a status
    subresource and a strict schema that is where upstream lost it (#968).  The
    controllers do not depend on it either way; they reconcile level-based.
    """
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="kopf.zalando.org")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix="kopf.zalando.org")
    settings.posting.enabled = False
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.networking.request_timeout = 60
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    kube = Kube(await api_client())
    memo.ctx = Context(
        kube=kube,
        settings=get_settings(),
        reconcilers={
            constants.PLURAL_CLUSTER: daskcluster.reconcile,
            constants.PLURAL_WORKER_GROUP: daskworkergroup.reconcile,
            constants.PLURAL_JOB: daskjob.reconcile,
            constants.PLURAL_AUTOSCALER: daskautoscaler.reconcile,
        },
    )


@kopf.on.cleanup()
async def close(memo: kopf.Memo, **_: Any) -> None:
    """Let running reconciles finish, then close the API client."""
    ctx: Context | None = getattr(memo, "ctx", None)
    if ctx is not None:
        await ctx.queue.drain()
        await ctx.kube.api_client.close()

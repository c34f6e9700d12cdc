"""Operator start-up and clean-up: kopf settings, the API client, the context and leadership."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import kopf
from kubernetes_asyncio.client.rest import ApiException

from dask_kubernetes.api import constants
from dask_kubernetes.kubeapi import Kube
from dask_kubernetes.kubeconfig import api_client
from dask_kubernetes.operator.controller import daskautoscaler, daskcluster, daskjob, daskworkergroup
from dask_kubernetes.operator.runtime import dispatch
from dask_kubernetes.operator.runtime.context import Context
from dask_kubernetes.operator.runtime.leader import LeaderElector
from dask_kubernetes.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Set by ``dask-kubernetes operator --standalone``: no leader election.
STANDALONE = {"value": False}


def build_context(kube: Kube, settings: Settings) -> Context:
    """Wire the four reconcilers to one context."""
    return Context(
        kube=kube,
        settings=settings,
        dispatch=dispatch.dispatch,
        on_error=dispatch.on_error,
        reconcilers={
            constants.PLURAL_CLUSTER: daskcluster.reconcile,
            constants.PLURAL_WORKER_GROUP: daskworkergroup.reconcile,
            constants.PLURAL_JOB: daskjob.reconcile,
            constants.PLURAL_AUTOSCALER: daskautoscaler.reconcile,
        },
    )


def _elector(ctx: Context, settings: Settings) -> LeaderElector | None:
    if STANDALONE["value"] or not settings.leader_election or not settings.lease_namespace:
        return None

    async def started() -> None:
        ctx.queue.start()

    async def stopped() -> None:
        await ctx.queue.stop(cancel=True)

    return LeaderElector(
        kube=ctx.kube,
        namespace=settings.lease_namespace,
        name=settings.lease_name,
        identity=settings.identity or socket.gethostname(),
        on_started=started,
        on_stopped=stopped,
        lease_duration=settings.lease_duration,
        renew_deadline=settings.lease_renew_deadline,
        retry_period=settings.lease_retry_period,
    )


async def wait_for_crds(kube: Kube, *, interval: float = 2.0) -> None:
    """Wait until the API server serves the four custom resources.

    kopf resolves the resources it watches when it starts; a CRD that is created
    while it starts (a chart applied in one go) can be missed for good.  So the
    operator starts watching only once all four are served.  A 403 means served
    (a namespaced install may not list cluster-wide).
    """
    missing = set(constants.PLURALS)
    while missing:
        for plural in sorted(missing):
            try:
                await kube.custom.list_cluster_custom_object(
                    constants.GROUP, constants.VERSION, plural, limit=1
                )
                missing.discard(plural)
            except ApiException as exc:
                if exc.status == 403:
                    missing.discard(plural)
            except OSError:
                pass
        if missing:
            log.info("waiting for the API server to serve %s", ", ".join(sorted(missing)))
            await asyncio.sleep(interval)


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    """Keep kopf's bookkeeping out of status, watch only Dask Pods and Services, and start work.

    kopf's progress goes to annotations, never ``status.kopf``: with a status
    subresource and a strict schema, the API server prunes the unknown ``status.kopf``
    field, so kopf would lose its progress and run handlers again.  The
    controllers use no change-detecting kopf handlers, so kopf writes nothing.
    """
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="kopf.zalando.org")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix="kopf.zalando.org")
    settings.posting.enabled = False
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.networking.request_timeout = 60
    for kind in ("pods", "services"):
        settings.watching.label_selectors["", "v1", kind] = constants.LABEL_CLUSTER_NAME
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    ours = get_settings()
    kube = Kube(await api_client(), qps=ours.kube_qps, burst=ours.kube_burst)
    await wait_for_crds(kube)
    ctx = build_context(kube, ours)
    memo.ctx = ctx
    memo.elector = _elector(ctx, ours)
    if memo.elector is None:
        ctx.queue.start()
    else:
        memo.election = asyncio.get_running_loop().create_task(memo.elector.run(), name="leader election")


@kopf.on.cleanup()
async def close(memo: kopf.Memo, **_: Any) -> None:
    """Stop reconciling (releasing the Lease), then close the API client."""
    ctx: Context | None = getattr(memo, "ctx", None)
    if ctx is None:
        return
    elector: LeaderElector | None = getattr(memo, "elector", None)
    if elector is not None:
        await elector.stop()
        election = getattr(memo, "election", None)
        if election is not None:
            await election
    await ctx.queue.stop()
    await ctx.kube.api_client.close()

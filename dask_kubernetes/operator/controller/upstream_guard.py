"""Stop before reconciling a DaskCluster that upstream's operator made (see logic/upstream.py)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kubernetes_asyncio import client
from kubernetes_asyncio.client.rest import ApiException

from dask_kubernetes.operator.controller import statuses
from dask_kubernetes.operator.controller.context import Context
from dask_kubernetes.operator.logic import conditions, upstream

log = logging.getLogger(__name__)


async def stalled_if_upstream(ctx: Context, plural: str, cluster: Mapping[str, Any]) -> bool:
    """Mark an upstream-made cluster Stalled, naming the migration step; True if it is one.

    Needs ``list`` on ``apps/deployments`` (schemas/rbac.yaml).  Our own clusters have
    no Deployments, so the check costs one list call per reconcile of a cluster.
    """
    meta = cluster["metadata"]
    try:
        listed = await client.AppsV1Api(ctx.kube.api_client).list_namespaced_deployment(
            meta["namespace"], label_selector=upstream.deployment_selector(meta["name"])
        )
    except ApiException as exc:
        if exc.status != 403:
            raise
        # Custom RBAC without the rule: reconcile as before rather than stop every cluster.
        log.warning(
            "cannot list Deployments in %s (403); upstream-made clusters go unnoticed", meta["namespace"]
        )
        return False
    deployments = [ctx.kube.api_client.sanitize_for_serialization(d) for d in listed.items]
    message = upstream.stalled_message(cluster, deployments)
    if message is None:
        return False
    if statuses.stalled_message(cluster) != message:
        await ctx.events.warning(cluster, upstream.REASON, message)
    verdict = conditions.Verdict(ready=False, reason=upstream.REASON, message=message, stalled=True)
    await statuses.write(ctx, plural, cluster, {"phase": "Error"}, verdict)
    return True

"""Stop before reconciling what upstream's operator made (see logic/upstream.py)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes_asyncio.client.rest import ApiException

from dask_kubernetes.operator.decisions import conditions, upstream
from dask_kubernetes.operator.runtime import statuses
from dask_kubernetes.operator.runtime.context import Context

log = logging.getLogger(__name__)


@dataclass
class NotUpstream:
    """Objects known not to be made by upstream's operator: (plural, uid)."""

    checked: set[tuple[str, str]] = field(default_factory=set)


async def stalled_if_upstream(ctx: Context, plural: str, obj: Mapping[str, Any]) -> bool:
    """Mark an upstream-made DaskCluster or DaskWorkerGroup Stalled, naming the migration step.

    Returns True if it is one, and the reconcile must stop.  Needs ``list`` on
    ``apps/deployments`` (schemas/rbac.yaml).  An object found not to be upstream's
    is not asked about again (upstream's operator makes its Deployments when the
    object is created), so an idle operator makes no such calls.
    """
    meta = obj["metadata"]
    checked = (plural, str(meta.get("uid")))
    not_upstream = ctx.cache(NotUpstream).checked
    if checked in not_upstream:
        return False
    try:
        deployments = await ctx.kube.list_deployments(
            meta["namespace"], upstream.deployment_selector(plural, obj)
        )
    except ApiException as exc:
        if exc.status != 403:
            raise
        # Custom RBAC without the rule: reconcile as before rather than stop every cluster.
        log.warning(
            "cannot list Deployments in %s (403); upstream-made clusters go unnoticed", meta["namespace"]
        )
        return False
    message = upstream.stalled_message(plural, obj, deployments)
    if message is None:
        not_upstream.add(checked)
        return False
    if statuses.stalled_message(obj) != message:
        await ctx.events.warning(obj, upstream.REASON, message)
    verdict = conditions.Verdict(ready=False, reason=upstream.REASON, message=message, stalled=True)
    await statuses.write(ctx, plural, obj, {"phase": "Error"}, verdict)
    return True

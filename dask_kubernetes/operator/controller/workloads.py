"""The watch on Kueue's Workloads: an admission or eviction wakes the object the Workload describes.

Imported (and so registered with kopf) only when the Kueue integration is on: a
cluster without Kueue serves no Workload API, and the operator's RBAC grants no
access to one.
"""

from __future__ import annotations

from typing import Any

import kopf

from dask_kubernetes.api import constants, kueue
from dask_kubernetes.operator.runtime.context import Context

OWNERS = {constants.KIND_JOB: constants.PLURAL_JOB, constants.KIND_CLUSTER: constants.PLURAL_CLUSTER}


@kopf.on.event(kueue.GROUP, kueue.VERSION, kueue.PLURAL_WORKLOAD)
async def workload_event(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Poke the DaskJob or DaskCluster that owns the Workload; its reconcile reads the Workload."""
    ctx: Context = memo.ctx
    meta = body["metadata"]
    for ref in meta.get("ownerReferences") or []:
        plural = OWNERS.get(ref.get("kind", ""))
        if plural and str(ref.get("apiVersion", "")).startswith(constants.GROUP + "/"):
            ctx.poke(plural, meta["namespace"], ref["name"])

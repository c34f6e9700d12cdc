"""The steps reconciles start with: whether to reconcile at all, and joining the cluster."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dask_kubernetes.api import constants, naming
from dask_kubernetes.operator.builders.metadata import owner_reference
from dask_kubernetes.operator.controller import admission, upstream_guard
from dask_kubernetes.operator.runtime import children
from dask_kubernetes.operator.runtime.context import Context


async def reconcilable(ctx: Context, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
    """Return the object to reconcile, or None when there is nothing to do.

    Nothing to do: the object is gone or being deleted; its spec cannot be built
    (it is marked Stalled, ``phase: Error``); or upstream's operator made it
    (scheduler or worker Deployments): it is left alone and marked Stalled with the
    migration step, so that no second scheduler or set of workers is added to it.
    """
    obj = children.live(ctx, plural, namespace, name)
    if obj is None:
        return None
    if await admission.reject_if_unbuildable(ctx, plural, obj, {"phase": "Error"}):
        return None
    if await upstream_guard.stalled_if_upstream(ctx, plural, obj):
        return None
    return obj


async def join_cluster(ctx: Context, plural: str, obj: Mapping[str, Any], cluster: Mapping[str, Any]) -> None:
    """Make a worker group or autoscaler created on its own a child of its cluster, for good.

    Deleting the cluster then deletes it too, as the seed promises.
    """
    if naming.owner_of_kind(obj, constants.KIND_CLUSTER):
        return
    meta = obj["metadata"]
    patch = {"metadata": {"ownerReferences": [owner_reference(cluster)]}}
    ctx.store.remember(plural, await ctx.kube.patch(plural, meta["namespace"], meta["name"], patch))
    await ctx.events.normal(
        obj, constants.REASON_ADOPTED, f"joined DaskCluster {cluster['metadata']['name']}"
    )

"""Reading, creating and deleting the objects a reconcile owns, through the cache and the API.

Every write goes through the API facade and is remembered in the read cache
(:mod:`.store`) at once, so the next reconcile sees it before its watch event
arrives.  A write the API server refuses for a reason only a user can change
becomes a :class:`.failures.Refused` verdict instead of an error to retry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

from kubernetes_asyncio.client.rest import ApiException

from dask_kubernetes.api import constants
from dask_kubernetes.operator.runtime import failures
from dask_kubernetes.operator.runtime.context import Context

T = TypeVar("T")


def live(ctx: Context, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
    """Read an object to reconcile from the cache; None once it is gone or being deleted."""
    obj = ctx.store.get(plural, namespace, name)
    if obj is None or obj["metadata"].get("deletionTimestamp"):
        return None
    return obj


async def refused_as(what: str, call: Awaitable[T]) -> T:
    """Await an API write; an answer only a user can change raises :class:`failures.Refused`."""
    try:
        return await call
    except ApiException as exc:
        refused = failures.refusal(exc, what)
        if refused is None:
            raise
        raise refused from exc


async def create_pod(ctx: Context, pod: Mapping[str, Any]) -> dict[str, Any] | None:
    """Create a Pod and remember it in the cache; a refusal raises :class:`failures.Refused`."""
    namespace = pod["metadata"]["namespace"]
    created = await refused_as(f"Pod {pod['metadata']['name']}", ctx.kube.create_pod(namespace, pod))
    if created is not None:
        ctx.store.remember("pods", created, created=True)
    return created


async def delete_pod(ctx: Context, namespace: str, name: str) -> None:
    """Delete a Pod and remember that it is going."""
    answer = await ctx.kube.delete_pod(namespace, name)
    if answer is None:
        return
    if answer.get("kind") == "Pod":
        ctx.store.remember("pods", answer)
    else:
        current = ctx.store.get("pods", namespace, name)
        cluster = ((current or {}).get("metadata", {}).get("labels") or {}).get(constants.LABEL_CLUSTER_NAME)
        ctx.store.remember_gone("pods", namespace, name, cluster)

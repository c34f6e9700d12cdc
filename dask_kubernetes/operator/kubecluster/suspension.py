"""Suspending and resuming a DaskCluster from ``KubeCluster``: the patch, and the waits.

``spec.suspend: true`` makes the operator delete the workers, then the scheduler,
keeping the Service and the worker groups with their replicas; ``false`` brings the
scheduler and the workers back.  The cluster manager only writes the field and reads
the status the operator reports (``status.phase`` Suspended once no Pod is left).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from typing import Any

from kubernetes_asyncio.client.rest import ApiException

from dask_kubernetes.api import bodies, constants
from dask_kubernetes.exceptions import ClusterSuspendedError
from dask_kubernetes.kubeapi import Kube
from dask_kubernetes.operator.kubecluster import address

SUSPENDED_PHASE = "Suspended"


def is_suspended(cluster: Mapping[str, Any] | None) -> bool:
    """Tell whether a DaskCluster asks to be suspended (``spec.suspend``)."""
    return bool(((cluster or {}).get("spec") or {}).get("suspend"))


def suspended_error(name: str, action: str) -> ClusterSuspendedError:
    """The error of ``action`` asked of a suspended cluster: it names the field and the way out."""
    return ClusterSuspendedError(
        f"cannot {action}: DaskCluster {name!r} is suspended (spec.suspend is true), so it runs no "
        "worker and would start none; call resume() first"
    )


async def set_suspend(kube: Kube, name: str, namespace: str, value: bool) -> dict[str, Any]:
    """Patch ``spec.suspend`` of the DaskCluster and return it as written; the operator does the rest.

    A merge patch of that one field, so nothing else of a spec kept in Git changes;
    RuntimeError (not a raw 404) if the cluster is gone.
    """
    try:
        patched: dict[str, Any] = await kube.patch(
            constants.PLURAL_CLUSTER, namespace, name, {"spec": {"suspend": value}}
        )
    except ApiException as exc:
        if exc.status == 404:
            raise RuntimeError(f"DaskCluster {name} does not exist in namespace {namespace}") from None
        raise
    return patched


def _suspended_now(cluster: Mapping[str, Any]) -> bool:
    """The operator has acted on the current spec and reports that no Pod is left."""
    status = bodies.status_of(cluster)
    generation = (cluster.get("metadata") or {}).get("generation")
    return bool(status.get("phase") == SUSPENDED_PHASE and status.get("observedGeneration") == generation)


async def wait_suspended(kube: Kube, name: str, namespace: str, timeout: float) -> None:
    """Wait until the cluster reports phase Suspended for its current spec; TimeoutError after ``timeout``.

    The error says what is left, so a Pod that does not go (a finalizer, a stuck
    node) is named rather than waited for forever.
    """
    deadline = time.monotonic() + timeout
    while True:
        cluster = await kube.get(constants.PLURAL_CLUSTER, namespace, name)
        if cluster is None:
            raise RuntimeError(f"DaskCluster {name} was deleted while suspending")
        if _suspended_now(cluster):
            return
        if time.monotonic() > deadline:
            phase = bodies.status_of(cluster).get("phase") or "no phase"
            condition = bodies.condition(cluster, "Suspended") or {}
            raise TimeoutError(
                f"DaskCluster {name} not suspended after {timeout:.0f} seconds (phase {phase}: "
                f"{condition.get('message') or 'is the Dask Operator running?'})"
            )
        await asyncio.sleep(0.5)


async def disconnect(cluster: Any, endpoints: list[address.Endpoint]) -> None:
    """Close what a ``distributed`` Cluster keeps open to its scheduler, as ``Cluster._close`` does.

    A suspension takes the scheduler away and a resume brings a new one (at a new
    Pod IP), so the cluster manager drops these, and the ``endpoints`` it reached
    the scheduler through (port-forwards), but stays open; ``Cluster._start`` makes
    them again.  ``scheduler_address`` meanwhile reads ``<Not Connected>``.
    """
    if cluster._watch_worker_status_comm:
        await cluster._watch_worker_status_comm.close()
    if cluster._watch_worker_status_task:
        await cluster._watch_worker_status_task
    if cluster._sync_cluster_info_task:
        cluster._sync_cluster_info_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await cluster._sync_cluster_info_task
    if cluster.scheduler_comm:
        await cluster.scheduler_comm.close_rpc()
    cluster._watch_worker_status_comm = cluster._watch_worker_status_task = None
    cluster._sync_cluster_info_task = cluster.scheduler_comm = None
    for endpoint in endpoints:
        endpoint.close()
    endpoints.clear()

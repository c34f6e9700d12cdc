"""``KubeCluster``'s writes to worker groups: scaling one (by hand or adaptively), adding one, deleting one.

Each refuses what cannot be carried out as asked with a ValueError that says why: a
group that does not exist (or already does), a count that is not one, a cluster that
is suspended (:class:`~dask_kubernetes.exceptions.ClusterSuspendedError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dask_kubernetes.api import constants
from dask_kubernetes.kubeapi import Kube
from dask_kubernetes.operator.builders.metadata import owner_reference
from dask_kubernetes.operator.kubecluster import resources, suspension


async def scale(kube: Kube, cluster: str, namespace: str, n: int, worker_group: str) -> None:
    """Set the replicas of ``{cluster}-{worker_group}``; this ends adaptive scaling.

    A suspended cluster is refused before anything changes: its groups keep their
    replicas for the resume, and its autoscaler is left in place.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    if suspension.is_suspended(await kube.get(constants.PLURAL_CLUSTER, namespace, cluster)):
        raise suspension.suspended_error(cluster, f"scale to {n} workers")
    await kube.delete(constants.PLURAL_AUTOSCALER, namespace, cluster)
    group = f"{cluster}-{worker_group}"
    if await kube.get(constants.PLURAL_WORKER_GROUP, namespace, group) is None:
        raise ValueError(f"worker group {worker_group!r} does not exist in cluster {cluster}")
    await kube.patch(constants.PLURAL_WORKER_GROUP, namespace, group, {"spec": {"worker": {"replicas": n}}})


async def adapt(kube: Kube, cluster: str, namespace: str, minimum: int | None, maximum: int | None) -> None:
    """Create (or update) the DaskAutoscaler of the default group, owned by its cluster.

    Owned, so that closing the cluster or ``kubectl delete daskcluster`` takes it along.
    """
    spec = {"cluster": cluster, "minimum": minimum or 0, "maximum": maximum if maximum is not None else 1000}
    body: dict[str, Any] = {
        "apiVersion": constants.API_VERSION,
        "kind": constants.KIND_AUTOSCALER,
        "metadata": {"name": cluster, "namespace": namespace},
        "spec": spec,
    }
    owner = await kube.get(constants.PLURAL_CLUSTER, namespace, cluster)
    if owner is not None:
        body["metadata"]["ownerReferences"] = [owner_reference(owner)]
    resources.check(constants.PLURAL_AUTOSCALER, body)
    if not await resources.create(kube, constants.PLURAL_AUTOSCALER, namespace, body):
        await kube.patch(constants.PLURAL_AUTOSCALER, namespace, cluster, {"spec": spec})


async def add(kube: Kube, cluster: str, namespace: str, name: str, worker: Mapping[str, Any]) -> None:
    """Create the DaskWorkerGroup ``{cluster}-{name}`` of spec ``worker``; ValueError if it exists."""
    body = {
        "apiVersion": constants.API_VERSION,
        "kind": constants.KIND_WORKER_GROUP,
        "metadata": {"name": f"{cluster}-{name}", "namespace": namespace},
        "spec": {"cluster": cluster, "worker": dict(worker)},
    }
    if not await resources.create(kube, constants.PLURAL_WORKER_GROUP, namespace, body):
        raise ValueError(f"worker group {name!r} already exists in cluster {cluster}")


async def delete(kube: Kube, cluster: str, namespace: str, name: str) -> None:
    """Delete the DaskWorkerGroup ``{cluster}-{name}`` and its workers; ValueError if it does not exist."""
    if not await kube.delete(constants.PLURAL_WORKER_GROUP, namespace, f"{cluster}-{name}"):
        raise ValueError(f"worker group {name!r} does not exist in cluster {cluster}")

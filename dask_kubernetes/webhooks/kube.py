"""The webhook's own way into the Kubernetes API, with its ServiceAccount.

Routes reach the API only through :class:`ClusterLookup` (for the missing-cluster
warning and the PodSet limit of a cluster Kueue queues), so tests can hand them a
fake.  A lookup that fails for any reason other than "not found" returns None, which
means "say nothing": a warning is a courtesy, the PodSet limit has the operator as a
backstop, and admission must neither fail nor stall because of either.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from dask_kubernetes import kubeconfig
from dask_kubernetes.api import constants, kueue, naming
from dask_kubernetes.kubeapi import Kube
from dask_kubernetes.validation.queueing import QueuedCluster, job_owner

log = logging.getLogger(__name__)


class ClusterLookup(Protocol):
    """What the validating route asks the API about the DaskCluster a new worker group names."""

    async def cluster_exists(self, namespace: str, name: str) -> bool | None:
        """Tell whether the DaskCluster exists: True, False, or None when the API could not say."""
        ...

    async def queued_cluster(self, namespace: str, name: str) -> QueuedCluster | None:
        """Describe the DaskCluster if Kueue queues it (its queue and worker groups), else None.

        None also when it does not exist or the API could not say: then nothing is refused.
        """
        ...


class NoLookup:
    """Used when the webhook has no API access (local runs, benchmarks): never warns, never refuses."""

    async def cluster_exists(self, namespace: str, name: str) -> bool | None:
        """Say nothing."""
        return None

    async def queued_cluster(self, namespace: str, name: str) -> QueuedCluster | None:
        """Say nothing."""
        return None


def cluster_groups(cluster: str, groups: list[dict[str, Any]]) -> frozenset[str]:
    """The names of a cluster's worker groups that stay: its default group, and every live one naming it."""
    names = {naming.default_worker_group_name(cluster)}
    for group in groups:
        meta = group.get("metadata") or {}
        if (group.get("spec") or {}).get("cluster") == cluster and not meta.get("deletionTimestamp"):
            names.add(str(meta.get("name")))
    return frozenset(names)


class KubeClient:
    """The webhook's connection: the :class:`~dask_kubernetes.kubeapi.Kube` facade with its credentials."""

    def __init__(self, api: client.ApiClient, *, timeout: float) -> None:
        self.api = api
        self.timeout = timeout
        self.kube = Kube(api)

    @classmethod
    async def connect(cls, *, timeout: float) -> KubeClient:
        """Use the in-cluster ServiceAccount, else the local kubeconfig (development)."""
        return cls(await kubeconfig.api_client(), timeout=timeout)

    async def cluster_exists(self, namespace: str, name: str) -> bool | None:
        """GET the DaskCluster; False only on a clean 404."""
        try:
            found = await asyncio.wait_for(
                self.kube.get(constants.PLURAL_CLUSTER, namespace, name), timeout=self.timeout
            )
        except ApiException as exc:
            log.info("could not look up DaskCluster %s/%s: %s %s", namespace, name, exc.status, exc.reason)
            return None
        except Exception as exc:  # noqa: BLE001 - any failure means "no opinion"
            log.info("could not look up DaskCluster %s/%s: %r", namespace, name, exc)
            return None
        return found is not None

    async def queued_cluster(self, namespace: str, name: str) -> QueuedCluster | None:
        """GET the DaskCluster (and, for a job's cluster, its DaskJob); LIST the groups only if it is queued.

        A DaskJob's cluster is queued with the job, so the job's label decides.  One
        timeout covers every call.
        """
        try:
            return await asyncio.wait_for(self._queued_cluster(namespace, name), timeout=self.timeout)
        except ApiException as exc:
            log.info("could not count the groups of %s/%s: %s %s", namespace, name, exc.status, exc.reason)
            return None
        except Exception as exc:  # noqa: BLE001 - any failure means "no opinion"
            log.info("could not count the groups of %s/%s: %r", namespace, name, exc)
            return None

    async def _queued_cluster(self, namespace: str, name: str) -> QueuedCluster | None:
        cluster = await self.kube.get(constants.PLURAL_CLUSTER, namespace, name)
        if cluster is None:
            return None
        job_name = job_owner(cluster)
        owner = cluster
        if job_name is not None:
            job = await self.kube.get(constants.PLURAL_JOB, namespace, job_name)
            if job is None:
                return None
            owner = job
        queue = kueue.queue_name(owner)
        if queue is None:
            return None
        groups = await self.kube.list_objects(constants.PLURAL_WORKER_GROUP, namespace)
        return QueuedCluster(queue, cluster_groups(name, groups), runner=job_name is not None)

    async def close(self) -> None:
        """Close the HTTP session."""
        await self.api.close()

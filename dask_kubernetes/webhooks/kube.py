"""The webhook's own way into the Kubernetes API, with its ServiceAccount.

Routes reach the API only through :class:`ClusterLookup` (for the missing-cluster
warning), so tests can hand them a fake.  A lookup that fails for any reason other
than "not found" returns None, which means "say nothing": a warning is a courtesy,
and admission must neither fail nor stall because of it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from dask_kubernetes import kubeconfig
from dask_kubernetes.api import constants
from dask_kubernetes.kubeapi import Kube

log = logging.getLogger(__name__)


class ClusterLookup(Protocol):
    """Tell whether a DaskCluster exists: True, False, or None when the API could not say."""

    async def cluster_exists(self, namespace: str, name: str) -> bool | None:
        """Look ``name`` up in ``namespace``."""
        ...


class NoLookup:
    """Used when the webhook has no API access (local runs, benchmarks): never warns."""

    async def cluster_exists(self, namespace: str, name: str) -> bool | None:
        """Say nothing."""
        return None


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

    async def close(self) -> None:
        """Close the HTTP session."""
        await self.api.close()

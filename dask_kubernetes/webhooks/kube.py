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
    """A kubernetes_asyncio client with the webhook's credentials."""

    def __init__(self, api: client.ApiClient, *, timeout: float) -> None:
        self.api = api
        self.timeout = timeout
        self._custom = client.CustomObjectsApi(api)

    @classmethod
    async def connect(cls, *, timeout: float) -> KubeClient:
        """Use the in-cluster ServiceAccount, else the local kubeconfig (development)."""
        return cls(await kubeconfig.api_client(), timeout=timeout)

    async def cluster_exists(self, namespace: str, name: str) -> bool | None:
        """GET the DaskCluster; False only on a clean 404."""
        try:
            await asyncio.wait_for(
                self._custom.get_namespaced_custom_object(
                    constants.GROUP,
                    constants.VERSION,
                    namespace,
                    constants.PLURAL_CLUSTER,
                    name,
                    _request_timeout=self.timeout,
                ),
                timeout=self.timeout,
            )
        except ApiException as exc:
            if exc.status == 404:
                return False
            log.info("could not look up DaskCluster %s/%s: %s %s", namespace, name, exc.status, exc.reason)
            return None
        except Exception as exc:  # noqa: BLE001 - any failure means "no opinion"
            log.info("could not look up DaskCluster %s/%s: %r", namespace, name, exc)
            return None
        return True

    async def close(self) -> None:
        """Close the HTTP session."""
        await self.api.close()

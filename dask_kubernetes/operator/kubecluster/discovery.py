"""``discover()``: the ``dask_cluster_discovery`` entry point that dask-ctl lists clusters with."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from dask_kubernetes.api import constants


async def discover() -> AsyncIterator[tuple[str, Callable]]:
    """Yield ``(name, KubeCluster)`` for every DaskCluster the current credentials can list.

    As upstream's, it yields nothing (rather than failing) when there is no
    cluster to talk to or the CRDs are not installed: dask-ctl asks every
    installed package, and one that cannot answer must not break the listing.
    """
    from kubernetes_asyncio import client

    from dask_kubernetes.kubeconfig import api_client
    from dask_kubernetes.operator.kubecluster.kubecluster import KubeCluster

    try:
        api = await api_client()
    except Exception:
        return
    try:
        listed = await client.CustomObjectsApi(api).list_cluster_custom_object(
            constants.GROUP, constants.VERSION, constants.PLURAL_CLUSTER
        )
    except Exception:
        return
    finally:
        await api.close()
    for item in listed.get("items", []):
        yield item["metadata"]["name"], KubeCluster

"""Delete, at interpreter exit, the clusters this process created and never closed.

A notebook or script that ends without ``close()`` would otherwise leave a
cluster running (and billing) until someone notices; upstream's atexit hook does
the same.
"""

from __future__ import annotations

import atexit
import logging
import weakref
from typing import Any, Protocol

from distributed.core import Status

from dask_kubernetes.api import constants

log = logging.getLogger(__name__)


class Reapable(Protocol):
    """What the reaper reads of a KubeCluster, so that this module need not import it."""

    name: str
    namespace: str
    shutdown_on_close: bool
    _loop_runner: Any

    @property
    def asynchronous(self) -> bool:
        """Whether the cluster runs on the caller's event loop."""

    @property
    def loop(self) -> Any:
        """The cluster's event loop, if it has one."""

    @property
    def status(self) -> Status:
        """The cluster's lifecycle state."""

    def close(self, timeout: float | None = None) -> Any:
        """Close the cluster and delete it."""


# Every KubeCluster of this process (KubeCluster._instances).
INSTANCES: weakref.WeakSet[Reapable] = weakref.WeakSet()


def _delete_at_exit(cluster: Reapable) -> None:
    """Delete one cluster at interpreter exit, with a synchronous client: its event loop may be gone."""
    from kubernetes import client as sync_client
    from kubernetes import config as sync_config
    from kubernetes.client.rest import ApiException

    from dask_kubernetes.kubeconfig import in_cluster

    if in_cluster():
        sync_config.load_incluster_config()
    else:
        sync_config.load_kube_config()
    with sync_client.ApiClient() as api:
        try:
            sync_client.CustomObjectsApi(api).delete_namespaced_custom_object(
                constants.GROUP,
                constants.VERSION,
                cluster.namespace,
                constants.PLURAL_CLUSTER,
                cluster.name,
                _request_timeout=10,
            )
        except ApiException as exc:
            if exc.status != 404:
                raise


@atexit.register
def reap_clusters() -> None:
    """Delete the clusters this process created and never closed, as upstream's atexit hook does."""
    for cluster in list(INSTANCES):
        if not cluster.shutdown_on_close or cluster.status == Status.closed or not cluster.namespace:
            continue
        try:
            if not cluster.asynchronous and cluster.loop is not None and cluster._loop_runner.is_started():
                cluster.close(timeout=10)
            else:
                _delete_at_exit(cluster)
        except Exception as exc:  # exiting anyway: say what was left behind
            try:
                _delete_at_exit(cluster)
            except Exception:
                log.warning("could not delete DaskCluster %s at exit: %s", cluster.name, exc)

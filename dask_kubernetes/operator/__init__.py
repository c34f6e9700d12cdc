"""The Dask operator: CRD builders, the kopf controller, and the Python cluster manager.

Users import ``KubeCluster``, ``make_cluster_spec``, ``make_worker_spec`` and
``CreateMode`` from here, as with upstream dask-kubernetes.  The controller
(:mod:`.controller`) is only imported by ``dask-kubernetes operator``.
"""

from __future__ import annotations

from typing import Any

from dask_kubernetes.operator.builders.spec import make_cluster_spec, make_worker_spec

__all__ = ["CreateMode", "KubeCluster", "make_cluster_spec", "make_worker_spec"]


def __getattr__(name: str) -> Any:
    """Import the cluster manager lazily: it pulls in distributed's cluster machinery."""
    if name in ("KubeCluster", "CreateMode"):
        from dask_kubernetes.operator.kubecluster import kubecluster

        return getattr(kubecluster, name)
    raise AttributeError(f"module 'dask_kubernetes.operator' has no attribute {name!r}")

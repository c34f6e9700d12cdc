"""The Dask operator: CRD builders, the kopf controller, and the Python cluster manager.

Users import ``KubeCluster``, ``CreateMode``, ``make_cluster_spec``,
``make_scheduler_spec``, ``make_worker_spec`` and ``discover`` from here, as with
upstream dask-kubernetes.  The controller (:mod:`.controller`) is imported by
``dask-kubernetes operator``, and by ``kopf run -m dask_kubernetes.operator``
(see :mod:`.kopf_run`), never by a plain import.
"""

from __future__ import annotations

from typing import Any

from dask_kubernetes.operator import kopf_run
from dask_kubernetes.operator.builders.spec import make_cluster_spec, make_scheduler_spec, make_worker_spec

__all__ = [
    "CreateMode",
    "KubeCluster",
    "discover",
    "make_cluster_spec",
    "make_scheduler_spec",
    "make_worker_spec",
]

_LAZY = {
    "KubeCluster": "dask_kubernetes.operator.kubecluster.kubecluster",
    "CreateMode": "dask_kubernetes.operator.kubecluster.kubecluster",
    "discover": "dask_kubernetes.operator.kubecluster.discovery",
}


def __getattr__(name: str) -> Any:
    """Import the cluster manager lazily: it pulls in distributed's cluster machinery."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dask_kubernetes.operator' has no attribute {name!r}")


if kopf_run.started_by_kopf_run():
    kopf_run.register()

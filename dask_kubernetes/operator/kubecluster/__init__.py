"""The operator's Python cluster manager: ``KubeCluster`` creates a DaskCluster and connects to it."""

from dask_kubernetes.operator.builders.spec import make_cluster_spec, make_scheduler_spec, make_worker_spec
from dask_kubernetes.operator.kubecluster.discovery import discover
from dask_kubernetes.operator.kubecluster.kubecluster import CreateMode, KubeCluster

__all__ = [
    "CreateMode",
    "KubeCluster",
    "discover",
    "make_cluster_spec",
    "make_scheduler_spec",
    "make_worker_spec",
]

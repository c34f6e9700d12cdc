"""The operator's Python cluster manager: ``KubeCluster`` creates a DaskCluster and connects to it."""

from dask_kubernetes.operator.kubecluster.kubecluster import CreateMode, KubeCluster

__all__ = ["CreateMode", "KubeCluster"]

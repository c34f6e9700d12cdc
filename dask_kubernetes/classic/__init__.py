"""The classic, pod-based cluster manager: a local scheduler and worker Pods.

``from dask_kubernetes import KubeCluster`` (or ``dask_kubernetes.classic``) keeps
working for notebooks written against it: ``KubeCluster(pod_template)``,
``KubeCluster.from_yaml``, ``from_dict``, ``make_pod_spec``, ``scale``,
``scale_up`` and ``adapt``.
"""

from dask_kubernetes.classic.kubecluster import KubeCluster
from dask_kubernetes.classic.pod import clean_pod_template, make_pod_spec

__all__ = ["KubeCluster", "clean_pod_template", "make_pod_spec"]

"""Dask on Kubernetes, declaratively.

The top-level package keeps the classic import path users already have:
``from dask_kubernetes import KubeCluster, make_pod_spec`` reaches the classic
pod-based cluster manager in :mod:`dask_kubernetes.classic`.  The operator
cluster manager lives in :mod:`dask_kubernetes.operator`.  As upstream's, importing
the package registers the ``kubernetes.*`` Dask config defaults.
"""

from __future__ import annotations

from typing import Any

from dask_kubernetes import config  # noqa: F401  (registers the kubernetes.* Dask config defaults)

__version__ = "2026.11.0"

_CLASSIC_NAMES = {"KubeCluster", "make_pod_spec", "clean_pod_template"}


def __getattr__(name: str) -> Any:
    """Import the classic API lazily, so that the generator and the CLI start fast."""
    if name in _CLASSIC_NAMES:
        from dask_kubernetes import classic

        return getattr(classic, name)
    raise AttributeError(f"module 'dask_kubernetes' has no attribute {name!r}")

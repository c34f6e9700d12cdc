"""Public constants kept at the import path users already have."""

from __future__ import annotations

from dask_kubernetes._structs.constants import MAX_CLUSTER_NAME_LEN

__all__ = ["MAX_CLUSTER_NAME_LEN"]

"""Public constants kept at the import path users already have (upstream's ``dask_kubernetes.constants``)."""

from __future__ import annotations

import re

from dask_kubernetes.api.constants import DNS1123_LABEL_MAX as KUBERNETES_MAX_RESOURCE_NAME_LENGTH
from dask_kubernetes.api.constants import (
    KUBECLUSTER_CONTAINER_NAME,
    MAX_CLUSTER_NAME_LEN,
    SCHEDULER_NAME_TEMPLATE,
)

# Upstream's pattern, verbatim: a DNS-1123 label no longer than MAX_CLUSTER_NAME_LEN.
VALID_CLUSTER_NAME = re.compile(rf"^(?=.{{,{MAX_CLUSTER_NAME_LEN}}}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

__all__ = [
    "KUBECLUSTER_CONTAINER_NAME",
    "KUBERNETES_MAX_RESOURCE_NAME_LENGTH",
    "MAX_CLUSTER_NAME_LEN",
    "SCHEDULER_NAME_TEMPLATE",
    "VALID_CLUSTER_NAME",
]

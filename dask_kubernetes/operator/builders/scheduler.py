"""Build the scheduler Pod and Service of a DaskCluster."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from dask_kubernetes._structs import constants, naming
from dask_kubernetes.operator.builders.metadata import merge_metadata, object_meta, with_env

ROUTES_VALUE = repr(list(constants.SCHEDULER_HTTP_ROUTES))


def scheduler_labels(cluster: str) -> dict[str, str]:
    """Base labels of the scheduler Pod and Service."""
    return naming.scheduler_selector(cluster)


def build_scheduler_pod(cluster: Mapping[str, Any]) -> dict[str, Any]:
    """Build the scheduler Pod from ``spec.scheduler.spec``, owned by the cluster.

    The scheduler's HTTP routes get the API the operator calls, unless the user
    configured the routes already.
    """
    meta = cluster["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    scheduler = cluster["spec"]["scheduler"]
    merged = merge_metadata(meta, scheduler.get("metadata"), scheduler_labels(name))
    spec = copy.deepcopy(scheduler["spec"])
    spec["containers"] = [
        with_env(container, {constants.ENV_SCHEDULER_HTTP_ROUTES: ROUTES_VALUE}) if i == 0 else container
        for i, container in enumerate(spec["containers"])
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": object_meta(naming.scheduler_name(name), namespace, merged, cluster),
        "spec": spec,
    }


def build_scheduler_service(cluster: Mapping[str, Any]) -> dict[str, Any]:
    """Build the scheduler Service from ``spec.scheduler.service``, owned by the cluster."""
    meta = cluster["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    scheduler = cluster["spec"]["scheduler"]
    merged = merge_metadata(meta, scheduler.get("metadata"), scheduler_labels(name))
    spec = copy.deepcopy(scheduler["service"])
    spec.setdefault("selector", naming.scheduler_selector(name))
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": object_meta(naming.scheduler_name(name), namespace, merged, cluster),
        "spec": spec,
    }

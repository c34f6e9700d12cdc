"""Build the scheduler Pod and Service of a DaskCluster."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from dask_kubernetes.api import bodies, constants, naming
from dask_kubernetes.operator.builders.metadata import merge_metadata, object_meta, with_env

ROUTES_VALUE = repr(list(constants.SCHEDULER_HTTP_ROUTES))


def scheduler_labels(cluster: str) -> dict[str, str]:
    """Base labels of the scheduler Pod and Service."""
    return naming.scheduler_selector(cluster)


def scheduler_template_hash(cluster: bodies.DaskCluster) -> str:
    """Hash ``spec.scheduler.spec``: the scheduler Pod carries it, and is recreated when it changes."""
    return naming.template_hash(cluster["spec"]["scheduler"].get("spec"))


def build_scheduler_pod(cluster: bodies.DaskCluster) -> dict[str, Any]:
    """Build the scheduler Pod from ``spec.scheduler.spec``, owned by the cluster.

    The scheduler's HTTP routes get the API the operator calls, unless the user
    configured the routes already.  The Pod carries the hash of the spec that made it.
    """
    meta = cluster["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    scheduler = cluster["spec"]["scheduler"]
    base = {
        **scheduler_labels(name),
        constants.LABEL_SCHEDULER_TEMPLATE_HASH: scheduler_template_hash(cluster),
    }
    merged = merge_metadata(meta, scheduler.get("metadata"), base)
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


def build_scheduler_service(cluster: bodies.DaskCluster) -> dict[str, Any]:
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


def _port_matches(want: Mapping[str, Any], have: Mapping[str, Any]) -> bool:
    """A live port matches when every field we asked for has our value (the server adds nodePort etc.)."""
    return all(have.get(key) == value for key, value in want.items())


def service_patch(desired: Mapping[str, Any], live: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return the merge patch that brings a live Service's spec to the desired one; None if it matches.

    Only fields the desired spec sets are compared, so values the API server
    fills in (clusterIP, nodePort, sessionAffinity) never look like drift.
    """
    want, have = desired.get("spec") or {}, live.get("spec") or {}
    patch: dict[str, Any] = {}
    for key, value in want.items():
        if key == "ports":
            ports = have.get("ports") or []
            if len(ports) != len(value) or not all(
                _port_matches(w, h) for w, h in zip(value, ports, strict=False)
            ):
                patch["ports"] = value
        elif have.get(key) != value:
            patch[key] = value
    if patch.get("type") == "ClusterIP" and "ports" in patch:
        patch["ports"] = [{k: v for k, v in port.items() if k != "nodePort"} for port in patch["ports"]]
    return {"spec": patch} if patch else None

"""kopf indexes: the watch-fed cache behind :class:`.store.Store`.

One index per kind.  Declaring them also makes kopf hold every handler back
until all of them are filled from the initial listing, so the first reconcile
already sees every Pod the operator made before a restart.  Pods and Services
are watched with a server-side label selector (see :mod:`.startup`): the operator
never receives the cluster's other Pods.
"""

from __future__ import annotations

from typing import Any

import kopf

from dask_kubernetes._structs import constants
from dask_kubernetes.operator.controller import store

_LABELLED = {constants.LABEL_CLUSTER_NAME: kopf.PRESENT}


def _entries(kind: str, body: kopf.Body) -> dict[tuple[str, str, str], dict[str, Any]]:
    obj = dict(body)
    return {key: obj for key in store.index_keys(kind, obj)}


@kopf.index("", "v1", "pods", id=store.index_name("pods"), labels=_LABELLED)
def dask_index_pods(body: kopf.Body, **_: Any) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Index Dask Pods by name and by cluster."""
    return _entries("pods", body)


@kopf.index("", "v1", "services", id=store.index_name("services"), labels=_LABELLED)
def dask_index_services(body: kopf.Body, **_: Any) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Index Dask Services by name and by cluster."""
    return _entries("services", body)


@kopf.index(
    constants.GROUP,
    constants.VERSION,
    constants.PLURAL_CLUSTER,
    id=store.index_name(constants.PLURAL_CLUSTER),
)
def dask_index_daskclusters(body: kopf.Body, **_: Any) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Index DaskClusters by name."""
    return _entries(constants.PLURAL_CLUSTER, body)


@kopf.index(
    constants.GROUP,
    constants.VERSION,
    constants.PLURAL_WORKER_GROUP,
    id=store.index_name(constants.PLURAL_WORKER_GROUP),
)
def dask_index_daskworkergroups(body: kopf.Body, **_: Any) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Index DaskWorkerGroups by name and by cluster."""
    return _entries(constants.PLURAL_WORKER_GROUP, body)


@kopf.index(
    constants.GROUP, constants.VERSION, constants.PLURAL_JOB, id=store.index_name(constants.PLURAL_JOB)
)
def dask_index_daskjobs(body: kopf.Body, **_: Any) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Index DaskJobs by name."""
    return _entries(constants.PLURAL_JOB, body)


@kopf.index(
    constants.GROUP,
    constants.VERSION,
    constants.PLURAL_AUTOSCALER,
    id=store.index_name(constants.PLURAL_AUTOSCALER),
)
def dask_index_daskautoscalers(body: kopf.Body, **_: Any) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Index DaskAutoscalers by name and by cluster."""
    return _entries(constants.PLURAL_AUTOSCALER, body)

"""kopf indexes: the watch-fed cache behind :class:`.store.Store`.

One index per kind.  Declaring them also makes kopf hold every handler back
until all of them are filled from the initial listing, so the first reconcile
already sees every Pod the operator made before a restart.  Pods and Services
are watched with a server-side label selector (see :mod:`.startup`): the operator
never receives the cluster's other Pods.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kopf

from dask_kubernetes.api import constants
from dask_kubernetes.operator.runtime import store

Entries = dict[tuple[str, str, str], dict[str, Any]]

# (API group, version, plural, label filter) of every kind the store serves.
INDEXED: tuple[tuple[str, str, str, dict[str, Any] | None], ...] = (
    ("", "v1", "pods", {constants.LABEL_CLUSTER_NAME: kopf.PRESENT}),
    ("", "v1", "services", {constants.LABEL_CLUSTER_NAME: kopf.PRESENT}),
    *((constants.GROUP, constants.VERSION, plural, None) for plural in constants.PLURALS),
)


def _indexer(kind: str) -> Callable[..., Entries]:
    def index(body: kopf.Body, **_: Any) -> Entries:
        obj = dict(body)
        return {key: obj for key in store.index_keys(kind, obj)}

    index.__name__ = index.__qualname__ = store.index_name(kind)
    index.__doc__ = f"Index {kind} by name (and by cluster where they belong to one)."
    return index


for _group, _version, _plural, _labels in INDEXED:
    kopf.index(_group, _version, _plural, id=store.index_name(_plural), labels=_labels)(_indexer(_plural))

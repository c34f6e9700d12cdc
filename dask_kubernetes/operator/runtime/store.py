"""The operator's read cache: kopf's watch-fed indexes, overlaid with its own recent writes.

Reconciles read here instead of GETting and LISTing the API server, so an idle
operator costs the API server nothing but its watches.  Two details make a cache
safe for a replica controller:

- **Pre-population.**  kopf runs no handler until every index has finished its
  initial listing, and the work queue is only poked from handlers, so no
  reconcile ever sees a half-filled cache (and creates duplicate Pods).
- **Read-your-writes.**  A Pod just created is not in the index until its watch
  event arrives.  Every write's response is remembered in an overlay (client-go's
  mutation cache); a read returns whichever copy has the newer resourceVersion,
  and an overlay entry is dropped once the index catches up, or after ``ttl``.

An index maps ``("obj", namespace, name)`` to the object and, for objects that
belong to a cluster, ``("cluster", namespace, cluster)`` to each of them; see
:func:`index_keys`.  The fast tests feed the same class from a dict.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dask_kubernetes.api import constants

Obj = dict[str, Any]
Index = Mapping[Any, Iterable[Obj]]

# What the Pod and Service indexes are called, as kopf passes them to handlers.
KINDS: tuple[str, ...] = ("pods", "services", *constants.PLURALS)


def index_name(kind: str) -> str:
    """Name the kopf index of one kind (kopf hands indexes to handlers by this name)."""
    return f"dask_index_{kind}"


def cluster_of(kind: str, obj: Mapping[str, Any]) -> str | None:
    """Return the cluster an object belongs to: by label for Pods/Services, by spec otherwise."""
    if kind in ("pods", "services"):
        return (obj.get("metadata", {}).get("labels") or {}).get(constants.LABEL_CLUSTER_NAME)
    if kind in (constants.PLURAL_WORKER_GROUP, constants.PLURAL_AUTOSCALER):
        cluster = (obj.get("spec") or {}).get("cluster")
        return str(cluster) if cluster else None
    return None


def index_keys(kind: str, obj: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Return the keys one object is indexed under."""
    meta = obj["metadata"]
    keys = [("obj", meta["namespace"], meta["name"])]
    cluster = cluster_of(kind, obj)
    if cluster:
        keys.append(("cluster", meta["namespace"], cluster))
    return keys


def resource_version(obj: Mapping[str, Any] | None) -> int:
    """Return an object's resourceVersion as a number (etcd revision), 0 when unknown.

    resourceVersions are opaque by contract; like client-go's mutation cache, we
    rely on them being etcd revisions, which grow.
    """
    try:
        return int((obj or {}).get("metadata", {}).get("resourceVersion") or 0)
    except (TypeError, ValueError):
        return 0


@dataclass
class _Written:
    kind: str
    obj: Obj | None  # None: deleted and gone
    version: int
    cluster: str | None
    expires: float
    created: bool = False  # made by this write: stands in until the watch brings it


@dataclass
class Store:
    """Cached reads of Pods, Services and the four Dask kinds."""

    ttl: float = 30.0
    clock: Callable[[], float] = time.monotonic
    indexes: dict[str, Index] = field(default_factory=dict)
    _written: dict[tuple[str, str, str], _Written] = field(default_factory=dict)

    def attach(self, handler_kwargs: Mapping[str, Any]) -> None:
        """Pick kopf's live index objects out of a handler's keyword arguments."""
        for kind in KINDS:
            index = handler_kwargs.get(index_name(kind))
            if index is not None and self.indexes.get(kind) is not index:
                self.indexes[kind] = index

    @property
    def ready(self) -> bool:
        """Tell whether every index is attached (kopf filled them before any handler ran)."""
        return all(kind in self.indexes for kind in KINDS)

    # Reads ---------------------------------------------------------------------
    def _indexed(self, kind: str, key: tuple[str, str, str]) -> list[Obj]:
        index = self.indexes.get(kind)
        if index is None:
            return []
        try:
            return list(index[key])
        except KeyError:
            return []

    def _fresh(self, kind: str, namespace: str, name: str, indexed: Obj | None) -> tuple[bool, Obj | None]:
        """Return (overlay applies, overlay object) for one object, expiring stale entries.

        An overlay stands in for a newer copy of the object the index has (same uid,
        older resourceVersion), or for an object this process just created and the
        index has not seen yet.  It never brings back an object the index saw deleted,
        nor shadows a new object of the same name.
        """
        written = self._written.get((kind, namespace, name))
        if written is None:
            return False, None
        same = (
            indexed is not None
            and written.obj is not None
            and indexed["metadata"].get("uid") == written.obj["metadata"].get("uid")
        )
        stale = (
            written.expires < self.clock()
            or (indexed is None and not written.created and written.obj is not None)
            or (indexed is not None and written.obj is not None and not same)
            or (indexed is not None and resource_version(indexed) >= written.version)
        )
        if stale:
            del self._written[(kind, namespace, name)]
            return False, None
        return True, written.obj

    def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        """Return one object, or None when it does not exist (as far as we know)."""
        found = self._indexed(kind, ("obj", namespace, name))
        # Two copies under one name: an old object whose deletion the watch has not shown yet.
        indexed = max(found, key=resource_version) if found else None
        applies, written = self._fresh(kind, namespace, name, indexed)
        return written if applies else indexed

    def of_cluster(self, kind: str, namespace: str, cluster: str) -> list[Obj]:
        """Return every object of ``kind`` that belongs to ``cluster``."""
        by_name: dict[str, Obj | None] = {
            o["metadata"]["name"]: o for o in self._indexed(kind, ("cluster", namespace, cluster))
        }
        for (w_kind, w_ns, w_name), entry in list(self._written.items()):
            if w_kind == kind and w_ns == namespace and entry.cluster == cluster and w_name not in by_name:
                by_name[w_name] = None  # resolved below
        out = []
        for name, indexed in by_name.items():
            applies, written = self._fresh(kind, namespace, name, indexed)
            obj = written if applies else indexed
            if obj is not None:
                out.append(obj)
        return out

    # Writes ----------------------------------------------------------------------
    def remember(self, kind: str, obj: Mapping[str, Any], *, created: bool = False) -> None:
        """Record an object as the API server returned it from a write (``created``: a create)."""
        meta = obj["metadata"]
        self._written[(kind, meta["namespace"], meta["name"])] = _Written(
            kind, dict(obj), resource_version(obj), cluster_of(kind, obj), self.clock() + self.ttl, created
        )

    def remember_gone(self, kind: str, namespace: str, name: str, cluster: str | None = None) -> None:
        """Record that an object was deleted for good (the API answered with a Status)."""
        current = self.get(kind, namespace, name)
        self._written[(kind, namespace, name)] = _Written(
            kind, None, resource_version(current) + 1, cluster, self.clock() + self.ttl
        )

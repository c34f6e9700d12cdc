"""What every reconcile needs, built once at start-up and handed around explicitly.

The :class:`Context` ties the API facade, the read cache (:mod:`.store`), the work
queue (:mod:`.queue`) and the event recorder together, and turns a reconcile's
errors into status a user can see (through :mod:`.dispatch`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from dask_kubernetes.kubeapi import Kube
from dask_kubernetes.operator.runtime.events import Recorder
from dask_kubernetes.operator.runtime.queue import WorkQueue
from dask_kubernetes.operator.runtime.scheduler_client import SchedulerAddress, SchedulerClient
from dask_kubernetes.operator.runtime.store import Store
from dask_kubernetes.settings import Settings

Key = tuple[str, str, str]  # (plural, namespace, name)
ReconcileFn = Callable[["Context", str, str], Awaitable[float | None]]
Dispatch = Callable[["Context", Key], Awaitable[float | None]]
ErrorHook = Callable[["Context", Key, BaseException, int], Awaitable[None]]
SchedulerFactory = Callable[[SchedulerAddress], Any]
C = TypeVar("C")


@dataclass
class Context:
    """The API facade, cache, event recorder, settings and work queue of one operator process.

    ``dispatch`` runs the reconcile of one queue key and ``on_error`` reports a
    reconcile that keeps failing; :mod:`.dispatch` provides both, so this module
    knows nothing of how failures become status.
    """

    kube: Kube
    settings: Settings
    dispatch: Dispatch
    on_error: ErrorHook
    reconcilers: dict[str, ReconcileFn] = field(default_factory=dict)
    store: Store = field(default_factory=Store)
    clock: Callable[[], float] = time.time
    scheduler_factory: SchedulerFactory | None = None
    queue: WorkQueue = field(init=False)
    events: Recorder = field(init=False)
    # One cache per feature, made on first use: see :meth:`cache`.
    _caches: dict[type, Any] = field(default_factory=dict)
    # Last seen (generation, metadata) of our objects, to ignore our own status writes.
    _seen: dict[Key, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.events = Recorder(self.kube, clock=self.clock)
        self.queue = WorkQueue(
            self._run,
            on_error=self._failed,
            resync=self.settings.resync_interval,
            max_backoff=self.settings.max_backoff,
        )

    async def _run(self, key: Hashable) -> float | None:
        return await self.dispatch(self, _key(key))

    async def _failed(self, key: Hashable, exc: BaseException, attempts: int) -> None:
        await self.on_error(self, _key(key), exc, attempts)

    def cache(self, kind: type[C]) -> C:
        """Return this process's cache of one feature, made with ``kind()`` on first use.

        The feature's module defines the cache class beside the code that reads it,
        so the context carries no field of any single feature.
        """
        found = self._caches.get(kind)
        if found is None:
            found = self._caches[kind] = kind()
        return found

    def poke(self, plural: str, namespace: str, name: str, *, delay: float = 0.0) -> None:
        """Ask for one object to be reconciled soon."""
        self.queue.add((plural, namespace, name), delay=delay)

    def observe(
        self, plural: str, event_type: str | None, body: Mapping[str, Any], kwargs: Mapping[str, Any]
    ) -> bool:
        """Handle a watch event of one of our resources; return True if it was more than our status write.

        A change of status alone is our own write coming back: reconciling again
        would only read the cache and find nothing to do.
        """
        self.store.attach(kwargs)
        meta = body["metadata"]
        key = (plural, meta["namespace"], meta["name"])
        if event_type == "DELETED":
            self._seen.pop(key, None)
            self.queue.forget(key)
            return True
        fingerprint = (
            meta.get("uid"),
            meta.get("generation"),
            meta.get("labels"),
            meta.get("annotations"),
            meta.get("ownerReferences"),
            meta.get("deletionTimestamp"),
        )
        if self._seen.get(key) == fingerprint:
            return False
        self._seen[key] = fingerprint
        self.poke(plural, meta["namespace"], meta["name"])
        return True

    def scheduler(self, address: SchedulerAddress) -> Any:
        """A client for one scheduler, with the configured timeouts."""
        if self.scheduler_factory is not None:
            return self.scheduler_factory(address)
        return SchedulerClient(
            address, timeout=self.settings.scheduler_timeout, retire_timeout=self.settings.retire_timeout
        )


def _key(key: Hashable) -> Key:
    """The queue holds only the (plural, namespace, name) keys :meth:`Context.poke` adds."""
    plural, namespace, name = cast(Key, key)
    return (plural, namespace, name)

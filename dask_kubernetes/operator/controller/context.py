"""What every reconcile needs, built once at start-up and handed around explicitly.

The :class:`Context` ties the API facade, the read cache (:mod:`.store`), the work
queue (:mod:`.queue`) and the event recorder together, and turns a reconcile's
errors into status a user can see (:mod:`.failures`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dask_kubernetes.kubeapi import Kube
from dask_kubernetes.operator.controller.events import Recorder
from dask_kubernetes.operator.controller.queue import WorkQueue
from dask_kubernetes.operator.controller.scheduler_client import SchedulerAddress, SchedulerClient
from dask_kubernetes.operator.controller.store import Store
from dask_kubernetes.settings import Settings

Key = tuple[str, str, str]  # (plural, namespace, name)
ReconcileFn = Callable[["Context", str, str], Awaitable[float | None]]
SchedulerFactory = Callable[[SchedulerAddress], Any]


@dataclass
class Context:
    """The API facade, cache, event recorder, settings and work queue of one operator process."""

    kube: Kube
    settings: Settings
    reconcilers: dict[str, ReconcileFn] = field(default_factory=dict)
    store: Store = field(default_factory=Store)
    clock: Callable[[], float] = time.time
    scheduler_factory: SchedulerFactory | None = None
    queue: WorkQueue = field(init=False)
    events: Recorder = field(init=False)
    # Pod specs the API server admitted in a dry run: (namespace, owner, spec hash) -> until when.
    admitted: dict[tuple[str, str, str], float] = field(default_factory=dict)
    # Spec fields written to children: key -> (hash of the value, child's generation after the write).
    last_written: dict[Key, tuple[str, Any]] = field(default_factory=dict)
    # Objects known not to be made by upstream's operator: (plural, uid).
    not_upstream: set[tuple[str, str]] = field(default_factory=set)
    # Last seen (generation, metadata) of our objects, to ignore our own status writes.
    _seen: dict[Key, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.events = Recorder(self.kube, clock=self.clock)
        self.queue = WorkQueue(
            self._dispatch,
            on_error=self._on_error,
            resync=self.settings.resync_interval,
            max_backoff=self.settings.max_backoff,
        )

    async def _dispatch(self, key: Hashable) -> float | None:
        from dask_kubernetes.operator.controller import failures

        plural, namespace, name = key  # type: ignore[misc]
        try:
            return await self.reconcilers[plural](self, namespace, name)
        except failures.Refused as refusal:
            return await failures.report_refusal(self, plural, namespace, name, refusal)

    async def _on_error(self, key: Hashable, exc: BaseException, attempts: int) -> None:
        from dask_kubernetes.operator.controller import failures

        plural, namespace, name = key  # type: ignore[misc]
        await failures.report_error(self, plural, namespace, name, exc, attempts)

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

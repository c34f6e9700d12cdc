"""What every reconcile needs, built once at start-up and handed around explicitly."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field

from dask_kubernetes.kubeapi import Kube
from dask_kubernetes.operator.controller.events import Recorder
from dask_kubernetes.operator.controller.queue import WorkQueue
from dask_kubernetes.operator.controller.scheduler_client import SchedulerAddress, SchedulerClient
from dask_kubernetes.settings import Settings

Key = tuple[str, str, str]  # (plural, namespace, name)
ReconcileFn = Callable[["Context", str, str], Awaitable[None]]


@dataclass
class Context:
    """The API facade, event recorder, settings and work queue of one operator process."""

    kube: Kube
    settings: Settings
    reconcilers: dict[str, ReconcileFn] = field(default_factory=dict)
    queue: WorkQueue = field(init=False)
    events: Recorder = field(init=False)

    def __post_init__(self) -> None:
        self.events = Recorder(self.kube)
        self.queue = WorkQueue(self._dispatch)

    async def _dispatch(self, key: Hashable) -> None:
        plural, namespace, name = key  # type: ignore[misc]
        await self.reconcilers[plural](self, namespace, name)

    def poke(self, plural: str, namespace: str, name: str, *, delay: float | None = None) -> None:
        """Ask for one object to be reconciled soon."""
        self.queue.poke((plural, namespace, name), delay=delay)

    def observe(self, plural: str, event_type: str | None, namespace: str, name: str) -> None:
        """Handle a watch event of one of our resources: reconcile it, or forget it once deleted."""
        if event_type == "DELETED":
            self.queue.forget((plural, namespace, name))
        else:
            self.poke(plural, namespace, name)

    def scheduler(self, address: SchedulerAddress) -> SchedulerClient:
        """A client for one scheduler, with the configured timeouts."""
        return SchedulerClient(
            address, timeout=self.settings.scheduler_timeout, retire_timeout=self.settings.retire_timeout
        )

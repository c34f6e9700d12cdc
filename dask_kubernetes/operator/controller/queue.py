"""A work queue that coalesces pokes: one reconcile per object at a time, never lost.

Watch events arrive in bursts (a Pod goes Pending, Running, Ready).  :meth:`poke`
marks an object dirty; one task per object reconciles it, and runs once more if it
was poked meanwhile.  A failed reconcile is retried with back-off, so nothing is
lost to an error, and a concurrency limit keeps the API server from being flooded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Reconcile = Callable[[Hashable], Awaitable[None]]


@dataclass
class _Slot:
    task: asyncio.Task[None] | None = None
    dirty: bool = False
    failures: int = 0


@dataclass
class WorkQueue:
    """Coalescing, retrying work queue keyed by (kind, namespace, name)."""

    reconcile: Reconcile
    concurrency: int = 16
    debounce: float = 0.2
    max_backoff: float = 30.0
    _slots: dict[Hashable, _Slot] = field(default_factory=dict)
    _limit: asyncio.Semaphore | None = None

    def poke(self, key: Hashable, *, delay: float | None = None) -> None:
        """Ask for ``key`` to be reconciled soon; cheap to call on every event."""
        slot = self._slots.setdefault(key, _Slot())
        slot.dirty = True
        if slot.task is None or slot.task.done():
            slot.task = asyncio.get_running_loop().create_task(
                self._run(key, slot, self.debounce if delay is None else delay), name=f"reconcile {key}"
            )

    def forget(self, key: Hashable) -> None:
        """Drop a deleted object's slot; a running reconcile finishes on its own."""
        slot = self._slots.pop(key, None)
        if slot is not None:
            slot.dirty = False

    async def _run(self, key: Hashable, slot: _Slot, delay: float) -> None:
        if self._limit is None:
            self._limit = asyncio.Semaphore(self.concurrency)
        await asyncio.sleep(delay)
        while slot.dirty:
            slot.dirty = False
            try:
                async with self._limit:
                    await self.reconcile(key)
                slot.failures = 0
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed reconcile is retried, never lost
                slot.failures += 1
                backoff = min(self.max_backoff, 0.5 * 2**slot.failures)
                log.exception(
                    "reconcile of %s failed (attempt %d); retrying in %.1fs", key, slot.failures, backoff
                )
                await asyncio.sleep(backoff)
                slot.dirty = True

    async def drain(self) -> None:
        """Wait until no reconcile is running; for tests and shutdown."""
        while tasks := [s.task for s in self._slots.values() if s.task and not s.task.done()]:
            await asyncio.gather(*tasks, return_exceptions=True)

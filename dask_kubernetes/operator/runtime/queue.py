"""A delaying work queue with back-off: up to ``concurrency`` reconciles at once, one per object.

It follows client-go's workqueue rather than kopf's per-handler retries:

- :meth:`WorkQueue.add` asks for a key to be reconciled after a delay; a key has
  one due time, and the earliest request wins (client-go's ``AddAfter``).
- Up to ``concurrency`` (16) reconciles run at once, of different keys; at most
  one reconcile of a key runs at any time.  A key that comes due while it
  runs waits for that run to end, then runs again: overlapping runs of one object
  could otherwise both create Pods (worker names are random).
- A reconcile returns the delay after which it wants to run again (a requeue, e.g.
  the next batch of workers), or None.  A key that asked for nothing is resynced
  after ``resync`` seconds, so the queue itself repairs missed events: no kopf
  timers, which would add a finalizer to every object.
- A failed reconcile is retried with per-key exponential back-off, and
  ``on_error`` is told, so that persistent errors reach the object's status.

Time is the event loop's, so tests drive the queue with fake time (looptime).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Reconcile = Callable[[Hashable], Awaitable[float | None]]
ErrorHook = Callable[[Hashable, BaseException, int], Awaitable[None]]


def backoff_delay(failures: int, *, base: float, cap: float) -> float:
    """Return the delay before retry number ``failures`` (1, 2, ...): doubling, capped."""
    return float(min(cap, base * 2 ** max(0, failures - 1)))


@dataclass
class WorkQueue:
    """Delaying, coalescing, back-off work queue keyed by (kind, namespace, name)."""

    reconcile: Reconcile
    on_error: ErrorHook | None = None
    concurrency: int = 16
    resync: float | None = 30.0
    base_backoff: float = 0.5
    max_backoff: float = 60.0
    _due: dict[Hashable, float] = field(default_factory=dict)
    _heap: list[tuple[float, int, Hashable]] = field(default_factory=list)
    _running: dict[Hashable, asyncio.Task[None]] = field(default_factory=dict)
    _failures: dict[Hashable, int] = field(default_factory=dict)
    _forgotten: set[Hashable] = field(default_factory=set)
    _seq: int = 0
    _wake: asyncio.Event | None = None
    _loop_task: asyncio.Task[None] | None = None
    _paused: bool = False

    # Public API --------------------------------------------------------------
    def add(self, key: Hashable, *, delay: float = 0.0) -> None:
        """Reconcile ``key`` after ``delay`` seconds, unless it is due sooner already."""
        self._forgotten.discard(key)
        due = self._now() + max(0.0, delay)
        current = self._due.get(key)
        if current is not None and current <= due:
            return
        self._due[key] = due
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, key))
        self._poke()

    def forget(self, key: Hashable) -> None:
        """Drop a deleted object's due time and back-off; a running reconcile finishes on its own."""
        self._due.pop(key, None)
        self._failures.pop(key, None)
        if key in self._running:
            self._forgotten.add(key)

    def due(self, key: Hashable) -> float | None:
        """Return when ``key`` is due (loop time), or None; for tests and status."""
        return self._due.get(key)

    def running(self, key: Hashable) -> bool:
        """Tell whether a reconcile of ``key`` is running now."""
        return key in self._running

    def failures(self, key: Hashable) -> int:
        """Return how many reconciles of ``key`` failed in a row."""
        return self._failures.get(key, 0)

    def start(self) -> None:
        """Start dispatching due keys (idempotent)."""
        self._paused = False
        if self._loop_task is None or self._loop_task.done():
            self._loop_task = asyncio.get_running_loop().create_task(self._dispatch(), name="work queue")
        self._poke()

    async def stop(self, *, cancel: bool = False) -> None:
        """Stop dispatching; wait for (or cancel) running reconciles.  Due keys are kept."""
        self._paused = True
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
            self._loop_task = None
        tasks = list(self._running.values())
        if cancel:
            for task in tasks:
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # Internals ---------------------------------------------------------------
    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _poke(self) -> None:
        if self._wake is None:
            self._wake = asyncio.Event()
        self._wake.set()

    def _next_ready(self) -> tuple[Hashable | None, float | None]:
        """Pop the earliest due key that is not running; return (key, None) or (None, wait)."""
        now = self._now()
        skipped: list[tuple[float, int, Hashable]] = []
        found: Hashable | None = None
        wait: float | None = None
        while self._heap:
            due, _, key = self._heap[0]
            if self._due.get(key) != due:  # superseded by an earlier request, or forgotten
                heapq.heappop(self._heap)
                continue
            if key in self._running:  # runs again when the current run ends
                skipped.append(heapq.heappop(self._heap))
                continue
            if due > now:
                wait = due - now
                break
            heapq.heappop(self._heap)
            del self._due[key]
            found = key
            break
        for item in skipped:
            heapq.heappush(self._heap, item)
        return found, wait

    async def _dispatch(self) -> None:
        if self._wake is None:
            self._wake = asyncio.Event()
        while not self._paused:
            self._wake.clear()
            while len(self._running) < self.concurrency:
                key, wait = self._next_ready()
                if key is None:
                    break
                self._running[key] = asyncio.get_running_loop().create_task(
                    self._run(key), name=f"reconcile {key}"
                )
            else:
                wait = None  # at the concurrency limit: a finishing run wakes us
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            except TimeoutError:
                pass

    async def _run(self, key: Hashable) -> None:
        try:
            try:
                requeue = await self.reconcile(key)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a failed reconcile is retried, never lost
                failures = self._failures.get(key, 0) + 1
                self._failures[key] = failures
                delay = backoff_delay(failures, base=self.base_backoff, cap=self.max_backoff)
                log.warning(
                    "reconcile of %s failed (attempt %d), retrying in %.1fs: %s", key, failures, delay, exc
                )
                if self.on_error is not None:
                    try:
                        await self.on_error(key, exc, failures)
                    except Exception:  # reporting must never stop the retry
                        log.exception("could not report the failure of %s", key)
                if key not in self._forgotten:
                    self.add(key, delay=delay)
                return
            self._failures.pop(key, None)
            if key in self._forgotten:
                return
            if requeue is not None:
                self.add(key, delay=requeue)
            elif self.resync is not None:
                self.add(key, delay=self.resync)
        finally:
            self._running.pop(key, None)
            self._forgotten.discard(key)
            self._poke()

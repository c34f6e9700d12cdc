"""The client-side rate limit of every write: client-go's QPS and burst."""

from __future__ import annotations

import asyncio
import time


class RateLimiter:
    """A token bucket (client-go's QPS and burst): at most ``burst`` calls at once, ``qps`` sustained.

    It keeps a busy operator from flooding the API server; an idle one never waits.
    """

    def __init__(self, qps: float, burst: int) -> None:
        self.qps = qps
        self.burst = max(1, burst)
        self._tokens = float(self.burst)
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait for a token."""
        if self.qps <= 0:
            return
        async with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.qps)
            self._stamp = now
            if self._tokens < 1:
                await asyncio.sleep((1 - self._tokens) / self.qps)
                self._tokens = 1.0
                self._stamp = time.monotonic()
            self._tokens -= 1

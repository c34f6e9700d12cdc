"""Ask a Dask scheduler things: HTTP API first, then the RPC, in one place.

The HTTP API (``distributed.http.scheduler.api``) is decoupled from the Dask
version of the operator; the RPC needs compatible versions.  Each question tries
HTTP, then RPC, and raises :class:`SchedulerUnreachable` only when both fail, so
the caller can choose its own fallback (LIFO scale-down, no autoscaling).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp

log = logging.getLogger(__name__)
T = TypeVar("T")


class SchedulerUnreachable(RuntimeError):
    """Neither the HTTP API nor the RPC of the scheduler answered."""


@dataclass(frozen=True)
class SchedulerAddress:
    """Where to reach one scheduler."""

    host: str
    comm_port: int = 8786
    dashboard_port: int = 8787

    @property
    def http(self) -> str:
        """Base URL of the dashboard's HTTP API."""
        return f"http://{self.host}:{self.dashboard_port}/api/v1"

    @property
    def tcp(self) -> str:
        """Address of the scheduler's comm."""
        return f"tcp://{self.host}:{self.comm_port}"


class SchedulerClient:
    """The three questions the operator asks a scheduler."""

    def __init__(
        self, address: SchedulerAddress, *, timeout: float = 10, retire_timeout: float = 120
    ) -> None:
        self.address = address
        self.timeout = timeout
        self.retire_timeout = retire_timeout
        self.last_path = ""  # "http" or "rpc": which path answered, for events and tests

    async def _http(self, method: str, path: str, body: Any = None, timeout: float | None = None) -> Any:
        client_timeout = aiohttp.ClientTimeout(total=timeout or self.timeout)
        async with aiohttp.ClientSession(timeout=client_timeout) as session:
            async with session.request(method, self.address.http + path, json=body) as response:
                if response.status != 200:
                    raise SchedulerUnreachable(f"HTTP {response.status} from {path}")
                return json.loads(await response.text())

    async def _rpc(self, call: Callable[[Any], Awaitable[T]], timeout: float | None = None) -> T:
        from distributed.core import rpc

        remote = rpc(self.address.tcp, timeout=self.timeout)
        try:
            return await asyncio.wait_for(call(remote), timeout or self.timeout)
        finally:
            await remote.close_rpc()

    async def _ask(
        self,
        what: str,
        http: Callable[[], Awaitable[T]],
        rpc_call: Callable[[Any], Awaitable[T]],
        timeout: float | None = None,
    ) -> T:
        errors = []
        try:
            result = await http()
            self.last_path = "http"
            return result
        except Exception as exc:  # any HTTP failure means: try the RPC
            errors.append(f"HTTP: {exc or type(exc).__name__}")
        try:
            result = await self._rpc(rpc_call, timeout)
            self.last_path = "rpc"
            return result
        except Exception as exc:  # both failed: the caller decides what to do
            errors.append(f"RPC: {exc or type(exc).__name__}")
        raise SchedulerUnreachable(f"could not {what} at {self.address.host}: {'; '.join(errors)}")

    async def retire_workers(self, n: int) -> dict[str, Any]:
        """Retire ``n`` workers gracefully (their data moves first); return address -> info."""
        result = await self._ask(
            f"retire {n} workers",
            lambda: self._http("POST", "/retire_workers", {"n": n}, self.retire_timeout),
            lambda remote: _retire_rpc(remote, n),
            self.retire_timeout,
        )
        return dict(result or {})

    async def adaptive_target(self) -> int:
        """Return how many workers the scheduler wants."""
        return int(
            await self._ask(
                "read the adaptive target",
                lambda: _field(self._http("GET", "/adaptive_target"), "workers"),
                lambda remote: remote.adaptive_target(),
            )
        )

    async def idle_since(self) -> float | None:
        """Return since when the scheduler has been idle, or None if it is busy."""
        value = await self._ask(
            "check whether the scheduler is idle",
            lambda: _field(self._http("GET", "/check_idle"), "idle_since"),
            lambda remote: remote.check_idle(),
        )
        return None if value is None else float(value)


async def _field(response: Awaitable[Any], key: str) -> Any:
    return (await response)[key]


async def _retire_rpc(remote: Any, n: int) -> dict[str, Any]:
    workers = await remote.workers_to_close(n=n)
    if not workers:
        return {}
    return dict(await remote.retire_workers(workers=workers))

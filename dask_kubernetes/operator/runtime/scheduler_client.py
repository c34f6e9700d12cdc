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
class WorkerInfo:
    """What the scheduler says of one connected worker."""

    address: str
    name: str
    managed_bytes: int = 0


@dataclass(frozen=True)
class SchedulerAddress:
    """Where to reach one scheduler."""

    host: str
    comm_port: int = 8786
    dashboard_port: int = 8787

    @property
    def dashboard(self) -> str:
        """Base URL of the dashboard: its HTTP API is under ``/api/v1``, identity under ``/json``."""
        return f"http://{self.host}:{self.dashboard_port}"

    @property
    def tcp(self) -> str:
        """Address of the scheduler's comm."""
        return f"tcp://{self.host}:{self.comm_port}"


class SchedulerClient:
    """The questions the operator asks a scheduler."""

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
            async with session.request(method, self.address.dashboard + path, json=body) as response:
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

    async def workers(self) -> dict[str, WorkerInfo]:
        """Return the connected workers by address, with their names and the bytes they hold."""
        identity = await self._ask(
            "list the workers",
            lambda: self._http("GET", "/json/identity.json"),
            lambda remote: remote.identity(),
        )
        found = {}
        for address, info in dict((identity or {}).get("workers") or {}).items():
            metrics = (info or {}).get("metrics") or {}
            held = metrics.get("managed_bytes", metrics.get("memory", 0))
            found[str(address)] = WorkerInfo(
                address=str(address), name=str((info or {}).get("name", "")), managed_bytes=int(held or 0)
            )
        return found

    async def retire_workers(self, addresses: list[str]) -> dict[str, Any]:
        """Retire exactly these workers gracefully (their data moves first); return address -> info.

        Workers missing from the answer were not retired (the scheduler could not
        move their data, or does not know them).
        """
        if not addresses:
            return {}
        result = await self._ask(
            f"retire {len(addresses)} workers",
            lambda: self._http("POST", "/api/v1/retire_workers", {"workers": addresses}, self.retire_timeout),
            lambda remote: remote.retire_workers(workers=addresses),
            self.retire_timeout,
        )
        return dict(result or {})

    async def adaptive_target(self) -> int:
        """Return how many workers the scheduler wants."""
        return int(
            await self._ask(
                "read the adaptive target",
                lambda: _field(self._http("GET", "/api/v1/adaptive_target"), "workers"),
                lambda remote: remote.adaptive_target(),
            )
        )

    async def idle_since(self) -> float | None:
        """Return since when the scheduler has been idle, or None if it is busy."""
        value = await self._ask(
            "check whether the scheduler is idle",
            lambda: _field(self._http("GET", "/api/v1/check_idle"), "idle_since"),
            lambda remote: remote.check_idle(),
        )
        return None if value is None else float(value)


async def _field(response: Awaitable[Any], key: str) -> Any:
    return (await response)[key]

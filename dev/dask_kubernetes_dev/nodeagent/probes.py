"""Readiness, liveness and startup probes of the node agent (test infrastructure only).

Cluster managers wait for the scheduler Pod's readiness, and Services only list ready
endpoints, so probes must behave like the kubelet's: HTTP and TCP probes go from the
host to the Pod IP, exec probes run inside the container's namespaces, and the
thresholds decide when the result flips.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProbeTiming:
    """A probe's timing and thresholds, with the kubelet's defaults."""

    initial_delay: float = 0
    period: float = 10
    timeout: float = 1
    success_threshold: int = 1
    failure_threshold: int = 3

    @classmethod
    def from_spec(cls, probe: Mapping[str, Any]) -> ProbeTiming:
        """Read the timing fields of a probe, defaulting the ones left out."""
        return cls(
            float(probe.get("initialDelaySeconds") or 0),
            float(probe.get("periodSeconds") or 10),
            float(probe.get("timeoutSeconds") or 1),
            int(probe.get("successThreshold") or 1),
            int(probe.get("failureThreshold") or 3),
        )


def resolve_port(port: int | str, container: Mapping[str, Any]) -> int:
    """A probe port as a number: named ports are looked up in the container's ``ports``."""
    if isinstance(port, int) or str(port).isdigit():
        return int(port)
    for spec in container.get("ports") or []:
        if spec.get("name") == port:
            return int(spec["containerPort"])
    raise ValueError(f"port {port!r} is not defined in container {container.get('name')!r}")


async def http_check(
    session: aiohttp.ClientSession, action: Mapping[str, Any], host: str, port: int, timeout: float
) -> bool:
    """An httpGet probe: any status from 200 to 399 is a success."""
    scheme = (action.get("scheme") or "HTTP").lower()
    path = action.get("path") or "/"
    if not path.startswith("/"):
        path = "/" + path
    headers = {h["name"]: h["value"] for h in action.get("httpHeaders") or []}
    headers.setdefault("User-Agent", "kube-probe/1.36")
    url = f"{scheme}://{action.get('host') or host}:{port}{path}"
    async with session.get(
        url, headers=headers, ssl=False, timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=True
    ) as resp:
        return 200 <= resp.status < 400


async def tcp_check(host: str, port: int, timeout: float) -> bool:
    """A tcpSocket probe: the connection opens."""
    _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=timeout)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def exec_check(command: list[str], pid: int, env: Mapping[str, str], timeout: float) -> bool:
    """An exec probe, run in the container's namespaces, root and working directory; exit 0 is a success.

    The root matters in image mode (:mod:`.imagemode`): the probe's command comes from the image.
    """
    proc = await asyncio.create_subprocess_exec(
        "nsenter", "-t", str(pid), "-n", "-m", "-u", "-r", "-w", "--", *command,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        return await asyncio.wait_for(proc.wait(), timeout=timeout) == 0
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return False


def make_check(
    probe: Mapping[str, Any],
    *,
    container: Mapping[str, Any],
    pod_ip: str,
    pid: int,
    env: Mapping[str, str],
    session: aiohttp.ClientSession,
) -> Callable[[], Awaitable[bool]]:
    """Turn a probe spec into a coroutine function returning success, never raising."""
    timing = ProbeTiming.from_spec(probe)

    async def check() -> bool:
        try:
            if "httpGet" in probe:
                action = probe["httpGet"]
                port = resolve_port(action["port"], container)
                return await http_check(session, action, pod_ip, port, timing.timeout)
            if "tcpSocket" in probe:
                return await tcp_check(
                    pod_ip, resolve_port(probe["tcpSocket"]["port"], container), timing.timeout
                )
            if "grpc" in probe:  # approximated: the port accepts connections
                return await tcp_check(pod_ip, int(probe["grpc"]["port"]), timing.timeout)
            if "exec" in probe:
                return await exec_check(list(probe["exec"].get("command") or []), pid, env, timing.timeout)
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            log.debug("probe failed: %r", exc)
            return False
        return True

    return check


async def run_probe(
    timing: ProbeTiming,
    check: Callable[[], Awaitable[bool]],
    on_result: Callable[[bool], None],
    *,
    stop_on_success: bool = False,
) -> None:
    """Probe every period and report each flip of the result, as the thresholds decide.

    The result starts unknown; ``on_result`` is called when ``success_threshold``
    consecutive successes or ``failure_threshold`` consecutive failures are seen and the
    result differs from the last reported one.  Startup probes stop after their first success.
    """
    await asyncio.sleep(timing.initial_delay)
    successes = failures = 0
    result: bool | None = None
    while True:
        ok = await check()
        if ok:
            successes, failures = successes + 1, 0
            if successes >= timing.success_threshold and result is not True:
                result = True
                on_result(True)
                if stop_on_success:
                    return
        else:
            successes, failures = 0, failures + 1
            if failures >= timing.failure_threshold and result is not False:
                result = False
                on_result(False)
                failures = 0
        await asyncio.sleep(timing.period)

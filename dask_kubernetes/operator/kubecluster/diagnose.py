"""Say why a scheduler Pod is not starting, from its container statuses (pure).

A scheduler whose command does not exist never writes a log line: the only trace
is the container status (``StartError``/``RunContainerError`` with ``exec: "x":
executable file not found in $PATH``).  Errors must show that rather than empty logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dask_kubernetes.api import bodies


def container_problems(pod: Mapping[str, Any]) -> list[str]:
    """Describe each container that is waiting with a reason or ended badly, most recent first."""
    problems = []
    for status in bodies.status_of(pod).get("containerStatuses") or []:
        name = status.get("name", "?")
        state = status.get("state") or {}
        waiting = state.get("waiting") or {}
        ended = state.get("terminated") or (status.get("lastState") or {}).get("terminated") or {}
        parts = []
        if waiting.get("reason") and waiting.get("reason") not in ("ContainerCreating", "PodInitializing"):
            parts.append(waiting["reason"] + (f": {waiting['message']}" if waiting.get("message") else ""))
        if ended and (ended.get("exitCode") or 0) != 0:
            text = f"{ended.get('reason') or 'Error'} (exit code {ended.get('exitCode')})"
            if ended.get("message"):
                text += f": {ended['message'].strip()}"
            parts.append(text)
        if parts:
            problems.append(f"container {name}: " + "; ".join(parts))
    return problems


def startup_failure_detail(pod: Mapping[str, Any] | None, logs: str) -> str:
    """The text after upstream's "Scheduler Pod logs:": the logs, or the container status when empty."""
    if logs.strip():
        return logs
    problems = container_problems(pod or {})
    if problems:
        return "(no log output) " + "; ".join(problems)
    return "(no log output)"

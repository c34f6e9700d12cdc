"""Fault points for the end-to-end tests, loaded into the operator as a ``dask_operator_plugin``.

Inert unless ``DASK_OPERATOR_FAULT_POINTS`` names a point (comma-separated).  Each
armed point kills the operator process once (SIGKILL, like ``kill -9``); a marker
file in ``DASK_OPERATOR_FAULT_STATE_DIR`` (default ``/tmp``) keeps the restarted
process from dying at the same point.

Points:

``after-retire``
    The scheduler confirmed a retirement and the workers are marked retired on
    their Pods, but their Pods are not deleted yet: the moment the operator
    announces the retirement (the ``Retired`` Event), before it posts it.  A
    restarted operator must finish the same retirement without retiring again.
"""

from __future__ import annotations

import functools
import os
import signal
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any

from dask_kubernetes.api import constants
from dask_kubernetes.operator.runtime import events

AFTER_RETIRE = "after-retire"


def armed() -> set[str]:
    """The fault points this process was started with."""
    return {p.strip() for p in os.environ.get("DASK_OPERATOR_FAULT_POINTS", "").split(",") if p.strip()}


def fire(name: str) -> None:
    """Kill this process at ``name`` if the point is armed and has not fired before."""
    if name not in armed():
        return
    marker = Path(os.environ.get("DASK_OPERATOR_FAULT_STATE_DIR", "/tmp")) / f"dask-operator-fault-{name}"
    if marker.exists():
        return
    marker.write_text("fired\n")
    os.kill(os.getpid(), signal.SIGKILL)


Normal = Callable[[events.Recorder, Mapping[str, Any], str, str], Coroutine[Any, Any, None]]


def _killing_before_retired(normal: Normal) -> Normal:
    @functools.wraps(normal)
    async def wrapper(self: events.Recorder, obj: Mapping[str, Any], reason: str, message: str) -> None:
        if reason == constants.REASON_RETIRED:
            fire(AFTER_RETIRE)
        await normal(self, obj, reason, message)

    return wrapper


if armed():
    # Replacing the class's method is the point: every Recorder gets the fault point.  mypy
    # forbids assigning to a method and then compares a plain function with the bound form.
    events.Recorder.normal = _killing_before_retired(events.Recorder.normal)  # type: ignore[method-assign, assignment]

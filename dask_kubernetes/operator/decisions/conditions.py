"""kstatus conditions: Ready, Reconciling and Stalled, as Flux, Helm and Argo CD read them.

A fourth, Suspended, is written once a resource has been suspended (``spec.suspend``)
and kept, False with reason Resumed, after it is resumed; kstatus ignores it, so a
suspended resource that has finished suspending reads Current, and the Argo CD
health check reads it as Argo's own Suspended status.

A resource is Current when ``observedGeneration`` equals its generation, Ready is
True and neither Reconciling nor Stalled is True.  :func:`set_condition` keeps
``lastTransitionTime`` when a condition's status does not change, so rewriting the
same status is a no-op and the controllers can skip the patch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dask_kubernetes.api import times

READY = "Ready"
RECONCILING = "Reconciling"
STALLED = "Stalled"
SUSPENDED = "Suspended"
SUSPENDING = "Suspending"
RESUMED = "Resumed"
# Suspended by Kueue, waiting in a LocalQueue for its Workload to be admitted.
QUEUED = "Queued"


@dataclass(frozen=True)
class Verdict:
    """The outcome of one reconcile, to be written as conditions."""

    ready: bool
    reason: str
    message: str
    reconciling: bool = False
    stalled: bool = False
    suspended: bool = False  # spec.suspend is true and no Pod is left
    suspending: bool = False  # spec.suspend is true and Pods are still being deleted


def set_condition(
    conditions: Sequence[Mapping[str, Any]],
    type_: str,
    status: bool,
    reason: str,
    message: str,
    generation: int,
    *,
    timestamp: str | None = None,
) -> list[dict[str, Any]]:
    """Return ``conditions`` with one condition set; other conditions are kept as they are."""
    value = "True" if status else "False"
    out: list[dict[str, Any]] = []
    found = False
    for cond in conditions:
        if cond.get("type") != type_:
            out.append(dict(cond))
            continue
        found = True
        changed = cond.get("status") != value
        out.append(
            {
                "type": type_,
                "status": value,
                "reason": reason,
                "message": message,
                "lastTransitionTime": (timestamp or times.now())
                if changed
                else cond.get("lastTransitionTime", times.now()),
                "observedGeneration": generation,
            }
        )
    if not found:
        out.append(
            {
                "type": type_,
                "status": value,
                "reason": reason,
                "message": message,
                "lastTransitionTime": timestamp or times.now(),
                "observedGeneration": generation,
            }
        )
    return out


def apply_verdict(
    conditions: Sequence[Mapping[str, Any]], verdict: Verdict, generation: int
) -> list[dict[str, Any]]:
    """Write a verdict as the three kstatus conditions (and Suspended, once it has been true)."""
    out: list[dict[str, Any]] = [dict(c) for c in conditions]
    asked = verdict.suspended or verdict.suspending
    if asked or any(c.get("type") == SUSPENDED for c in conditions):
        parked = QUEUED if verdict.reason == QUEUED else SUSPENDED
        reason = parked if verdict.suspended else (SUSPENDING if verdict.suspending else RESUMED)
        message = verdict.message if asked else "spec.suspend is false"
        out = set_condition(out, SUSPENDED, verdict.suspended, reason, message, generation)
    out = set_condition(out, READY, verdict.ready, verdict.reason, verdict.message, generation)
    out = set_condition(
        out,
        RECONCILING,
        verdict.reconciling and not verdict.stalled,
        verdict.reason if verdict.reconciling else "Reconciled",
        verdict.message if verdict.reconciling else "",
        generation,
    )
    return set_condition(
        out,
        STALLED,
        verdict.stalled,
        verdict.reason if verdict.stalled else "NotStalled",
        verdict.message if verdict.stalled else "",
        generation,
    )


def status_changed(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """Tell whether writing ``new`` would change anything in ``old``."""
    old = old or {}
    return any(old.get(key) != value for key, value in new.items())

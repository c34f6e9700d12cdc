"""What Kueue's Workload says a queued object may do, and what the operator writes back to it.

This follows the contract Kueue's own job integrations keep (its jobframework
reconciler): an object without an admitted Workload stays suspended; an admitted
one is unsuspended; an evicted one is suspended again, and once none of its Pods
is left its Workload's quota reservation is cleared so Kueue can queue it anew
(``Requeued`` True after a preemption or node failure); a finished job's Workload
is marked ``Finished`` so its quota is released.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any

from dask_kubernetes.api import kueue, times
from dask_kubernetes.operator.decisions import conditions

# How often a queued object looks at its Workload again, besides the Workload's watch events.
POLL_SECONDS = 5.0


class State(enum.Enum):
    """Where a Workload stands, as far as the object it describes is concerned."""

    PENDING = "Pending"  # waiting in the queue: nothing runs
    ADMITTED = "Admitted"  # quota granted: Pods may run
    EVICTED = "Evicted"  # quota taken back: Pods must go, then the Workload is queued again
    FINISHED = "Finished"  # the job ended; its quota is released


def state(workload: Mapping[str, Any]) -> State:
    """Read a Workload's conditions the way Kueue's job integrations do (finished, evicted, admitted)."""
    if kueue.is_true(workload, kueue.CONDITION_FINISHED):
        return State.FINISHED
    if kueue.is_true(workload, kueue.CONDITION_EVICTED):
        return State.EVICTED
    if kueue.is_true(workload, kueue.CONDITION_ADMITTED):
        return State.ADMITTED
    return State.PENDING


def eviction(workload: Mapping[str, Any]) -> tuple[str, str]:
    """Kueue's reason and message for an eviction (Preempted, PodsReadyTimeout, InactiveWorkload...)."""
    cond = kueue.condition(workload, kueue.CONDITION_EVICTED) or {}
    return str(cond.get("reason") or "Evicted"), str(cond.get("message") or "")


def _set(
    conds: Sequence[Mapping[str, Any]],
    type_: str,
    status: bool,
    reason: str,
    message: str,
    generation: int,
    now: str,
) -> list[dict[str, Any]]:
    return conditions.set_condition(conds, type_, status, reason, message, generation, timestamp=now)


def requeue_status(workload: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The status that hands an evicted Workload back to Kueue's queue, once its Pods are gone.

    Kueue's own rule: QuotaReserved False (reason Pending), no admission, Admitted
    False, and Requeued True only after a preemption or a node failure.
    """
    reason, message = eviction(workload)
    generation = int(workload["metadata"].get("generation") or 1)
    stamp = times.format_time(now)
    conds = list((workload.get("status") or {}).get("conditions") or [])
    conds = _set(
        conds, kueue.CONDITION_REQUEUED, reason in kueue.REQUEUED_AFTER, reason, message, generation, stamp
    )
    conds = _set(conds, kueue.CONDITION_QUOTA_RESERVED, False, "Pending", message, generation, stamp)
    conds = _set(
        conds,
        kueue.CONDITION_ADMITTED,
        False,
        "NoReservation",
        "The workload has no reservation",
        generation,
        stamp,
    )
    return {"conditions": conds, "admission": None}


def finished_status(workload: Mapping[str, Any], succeeded: bool, message: str, now: float) -> dict[str, Any]:
    """The status that marks a job's Workload Finished, which releases its quota."""
    reason = kueue.FINISHED_SUCCEEDED if succeeded else kueue.FINISHED_FAILED
    generation = int(workload["metadata"].get("generation") or 1)
    conds = list((workload.get("status") or {}).get("conditions") or [])
    conds = _set(conds, kueue.CONDITION_FINISHED, True, reason, message, generation, times.format_time(now))
    return {"conditions": conds}


def queued_verdict(queue: str, workload: str, why: str | None = None) -> conditions.Verdict:
    """The conditions of an object parked by Kueue: Suspended and Ready=True, reason Queued.

    Like a suspension, waiting is the state asked for (kstatus reads it as Current,
    Argo CD as Suspended); a broken object reads Stalled instead.  ``why`` carries
    the eviction that sent it back to the queue, if one did.
    """
    message = f"waiting for Kueue to admit Workload {workload} in LocalQueue {queue}"
    if why:
        message = f"{why}; {message}"
    return conditions.Verdict(True, conditions.QUEUED, message, suspended=True)


def queue_status(
    queue: str, workload: str, admitted: bool, podsets: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """The ``status.queue`` of an object: its LocalQueue, Workload, whether admitted, where its Pods go."""
    out: dict[str, Any] = {"name": queue, "workload": workload, "admitted": admitted}
    out["podSets"] = [dict(p) for p in podsets] if admitted else None
    return out


def admitted_count(owner: Mapping[str, Any], podset: str) -> int | None:
    """How many Pods of one PodSet Kueue admitted for an object (its ``status.queue``), if queued."""
    queue = (owner.get("status") or {}).get("queue") or {}
    if not queue.get("admitted"):
        return None
    for entry in queue.get("podSets") or []:
        if entry.get("name") == podset and entry.get("count") is not None:
            return int(entry["count"])
    # A group added after the admission has no quota: it runs nothing until the
    # object is queued again with a Workload that names it.
    return 0


def podset_placement(owner: Mapping[str, Any], podset: str) -> Mapping[str, Any] | None:
    """The admitted nodeSelector and tolerations for one PodSet of an object, if any."""
    queue = (owner.get("status") or {}).get("queue") or {}
    if not queue.get("admitted"):
        return None
    for entry in queue.get("podSets") or []:
        if entry.get("name") == podset:
            return dict(entry)
    return None

"""Worker-group replica decisions: what to create, what to delete, in which order.

The worker group is its own replica controller (DESIGN §3).  :func:`plan` sorts
the group's Pods and says how many to create and which to delete outright;
retirement through the scheduler is decided by the caller, because it needs I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dask_kubernetes.operator.logic import pods


@dataclass(frozen=True)
class Plan:
    """What one reconcile of a worker group should do."""

    create: int = 0
    delete_now: list[str] = field(default_factory=list)
    retire: int = 0
    running: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)


def plan(group_pods: Sequence[Mapping[str, Any]], desired: int, *, batch_size: int | None = None) -> Plan:
    """Decide how to move a group's Pods towards ``desired`` workers.

    - Finished Pods (Succeeded/Failed) are deleted, and so replaced.
    - Retired Pods are deleted; they are never counted or replaced.
    - On scale-down, Pending Pods go first (newest first), then ``retire`` Running
      workers through the scheduler.
    - On scale-up, at most ``batch_size`` Pods are created per pass.
    """
    live = [p for p in group_pods if not pods.is_terminating(p)]
    finished = [p for p in live if pods.is_finished(p)]
    retiring = [p for p in live if pods.is_retiring(p) and not pods.is_finished(p)]
    active = [p for p in live if not pods.is_finished(p) and not pods.is_retiring(p)]
    delete_now = [pods.name(p) for p in finished + retiring]
    replaced = [pods.name(p) for p in finished]
    excess = len(active) - desired
    if excess <= 0:
        missing = -excess
        create = missing if batch_size is None else min(missing, batch_size)
        return Plan(create=create, delete_now=delete_now, replaced=replaced)
    pending = sorted((p for p in active if pods.is_pending(p)), key=pods.created, reverse=True)
    drop_pending = [pods.name(p) for p in pending[:excess]]
    running = sorted((p for p in active if not pods.is_pending(p)), key=pods.created)
    return Plan(
        delete_now=delete_now + drop_pending,
        retire=excess - len(drop_pending),
        running=[pods.name(p) for p in running],
        replaced=replaced,
    )


def lifo(running: Sequence[str], n: int) -> list[str]:
    """Choose ``n`` workers newest first: the fallback when the scheduler cannot be asked."""
    return list(reversed(running))[:n]


def match_retired(retired: Mapping[str, Any], group_pods: Sequence[Mapping[str, Any]]) -> list[str]:
    """Map the scheduler's retired workers (address -> info with name) to Pod names.

    A worker is named after its Pod when started with ``--name $(DASK_WORKER_NAME)``;
    otherwise it is matched by the IP in its address.
    """
    by_name = {pods.name(p): pods.name(p) for p in group_pods}
    by_ip = {pods.pod_ip(p): pods.name(p) for p in group_pods if pods.pod_ip(p)}
    found: list[str] = []
    for address, info in retired.items():
        worker_name = str((info or {}).get("name", "")) if isinstance(info, Mapping) else ""
        host = address.split("://")[-1].rsplit(":", 1)[0]
        pod_name = by_name.get(worker_name) or by_ip.get(host)
        if pod_name and pod_name not in found:
            found.append(pod_name)
    return found

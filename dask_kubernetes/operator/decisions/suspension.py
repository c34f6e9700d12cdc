"""Suspension (``spec.suspend``): whether a cluster is suspended, and in what order its Pods go.

A suspended DaskCluster keeps its Service, its worker groups and their replicas,
and runs no Pod: the workers go first (Pending ones before running ones, as a
scale-down does), the scheduler only once no worker is left, so that no worker is
left without a scheduler to talk to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dask_kubernetes.api import bodies
from dask_kubernetes.operator.decisions import conditions, pods

# While Pods are still being deleted, look again this soon (their deletion events also wake us).
POLL_SECONDS = 2.0


def is_suspended(obj: Mapping[str, Any]) -> bool:
    """Tell whether a DaskCluster or DaskJob asks to be suspended."""
    return bool((obj.get("spec") or {}).get("suspend"))


def announced(cluster: Mapping[str, Any]) -> bool:
    """Tell whether the cluster has said (in an Event and its Suspended condition) that it suspends.

    Its worker groups wait for that, so the Warning comes before the first Pod goes.
    """
    found = bodies.condition(cluster, conditions.SUSPENDED)
    return found is not None and found.get("reason") in (conditions.SUSPENDING, conditions.SUSPENDED)


def deletion_order(members: Iterable[Mapping[str, Any]]) -> list[str]:
    """Name the Pods still to delete: not yet terminating, Pending ones first."""
    going = [p for p in members if not pods.is_terminating(p)]
    going.sort(key=lambda p: (not pods.is_pending(p), pods.name(p)))
    return [pods.name(p) for p in going]


def verdict(kind: str, left: int, desired: int) -> conditions.Verdict:
    """Say how far a suspension has got: Suspending while ``left`` Pods remain, then Suspended.

    Suspended is Ready=True, reason Suspended: the desired state is reached, and
    kstatus reads a False Ready as InProgress, so Flux would wait for ever.  The
    Suspended condition says that nothing runs; Argo CD's health check reads it.
    """
    if left:
        return conditions.Verdict(
            False,
            conditions.SUSPENDING,
            f"spec.suspend is true: {left} Pod(s) of the {kind} still being deleted",
            reconciling=True,
            suspending=True,
        )
    return conditions.Verdict(
        True,
        conditions.SUSPENDED,
        f"spec.suspend is true: no Pod runs; {desired} worker(s) come back when it is set to false",
        suspended=True,
    )

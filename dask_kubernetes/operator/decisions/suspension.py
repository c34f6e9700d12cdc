"""Suspension (``spec.suspend``): whether a cluster is suspended, and in what order its Pods go.

A suspended DaskCluster keeps its Service, its worker groups and their replicas,
and runs no Pod: the workers go first (Pending ones before running ones, as a
scale-down does), the scheduler only once no worker is left, so that no worker is
left without a scheduler to talk to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dask_kubernetes.api import bodies, naming
from dask_kubernetes.operator.decisions import conditions, pods

# While Pods are still being deleted, look again this soon (their deletion events also wake us).
POLL_SECONDS = 2.0


def is_suspended(obj: Mapping[str, Any]) -> bool:
    """Tell whether a DaskCluster or DaskJob asks to be suspended."""
    return bool((obj.get("spec") or {}).get("suspend"))


def spec_hash(cluster: Mapping[str, Any]) -> str:
    """Hash a DaskCluster's spec as a suspend toggle leaves it: without ``suspend``.

    The default group follows the cluster's ``replicas`` only when this changes, so a
    group scaled on its own keeps its replicas through a suspension and a resume.
    """
    return naming.template_hash({k: v for k, v in (cluster.get("spec") or {}).items() if k != "suspend"})


def announced(cluster: Mapping[str, Any]) -> bool:
    """Tell whether the cluster has said (in an Event and its Suspended condition) that it suspends.

    Its worker groups wait for that, so the Warning comes before the first Pod goes.
    """
    found = bodies.condition(cluster, conditions.SUSPENDED)
    return found is not None and found.get("reason") in (
        conditions.SUSPENDING,
        conditions.SUSPENDED,
        conditions.QUEUED,
    )


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

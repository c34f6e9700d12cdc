"""Autoscaler decisions: clamp the scheduler's adaptive target and damp scale-down."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    """What the autoscaler should set, and since when a lower target has held."""

    replicas: int
    below_since: float | None


def decide(
    *,
    current: int,
    target: int,
    minimum: int,
    maximum: int,
    now: float,
    below_since: float | None,
    scale_down_delay: float,
) -> Decision:
    """Clamp ``target`` to ``[minimum, maximum]``; scale up at once, down only after a delay.

    A lower target must hold for ``scale_down_delay`` seconds before workers are
    removed, so a short lull between tasks does not throw away warm workers.  A
    group above ``maximum`` is brought down at once: the bound is a promise.
    """
    wanted = max(minimum, min(maximum, target))
    if wanted >= current or current > maximum:
        return Decision(replicas=wanted, below_since=None)
    since = below_since if below_since is not None else now
    if now - since >= scale_down_delay:
        return Decision(replicas=wanted, below_since=None)
    return Decision(replicas=current, below_since=since)

"""Worker-group replica decisions: what to create, what to delete, whom to retire.

The worker group is its own replica controller.  :func:`plan` sorts the group's
Pods and says how many to create, which to delete outright, which retirements to
finish, and how many more workers to retire; :func:`choose_victims` picks those
from what the scheduler says of each worker.  Both are pure; the controller does
the I/O.

Retirement is recorded on the Pods before the scheduler is asked (the
``kubernetes.dask.org/retiring`` annotation, see :func:`retiring_state`), so an
operator that restarts mid-way finishes that retirement instead of choosing
other workers, and never counts a leaving worker as one of the group's replicas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dask_kubernetes.api import constants, times
from dask_kubernetes.operator.decisions import pods

# Values of the retiring annotation.
RETIRE_PENDING = "pending"  # "pending:<unix time>": chosen, the scheduler not yet confirmed
RETIRE_DONE = "retired"  # the scheduler retired the worker: delete the Pod
RETIRE_LIFO = "lifo"  # the scheduler could not be asked: delete the Pod (data may be lost)


def retiring_value(state: str, now: float | None = None) -> str:
    """Return the annotation value for a retirement state (pending carries its start time)."""
    return f"{state}:{int(now)}" if state == RETIRE_PENDING and now is not None else state


def retiring_state(pod: Mapping[str, Any]) -> tuple[str | None, float | None]:
    """Return (state, since) of a Pod's retirement, or (None, None) when it is not leaving."""
    value = (pod["metadata"].get("annotations") or {}).get(constants.ANNOTATION_RETIRING)
    if value is None:
        return None, None
    state, _, since = str(value).partition(":")
    try:
        return state, float(since) if since else None
    except ValueError:
        return state, None


@dataclass(frozen=True)
class Plan:
    """What one reconcile of a worker group should do."""

    create: int = 0
    delete_now: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    dropped_pending: list[str] = field(default_factory=list)
    resume: list[str] = field(default_factory=list)
    retire: int = 0
    candidates: list[str] = field(default_factory=list)
    wait: float | None = None


@dataclass(frozen=True)
class Census:
    """The group's Pods sorted by what they count for."""

    active: list[Mapping[str, Any]]  # neither terminating, finished nor leaving
    updated: list[Mapping[str, Any]]  # active, of the current template
    outdated: list[Mapping[str, Any]]  # active, of an older template
    finished: list[Mapping[str, Any]]
    leaving: list[Mapping[str, Any]]  # retirement pending or done, not yet deleted

    @property
    def ready(self) -> int:
        """Active Pods that are Ready."""
        return sum(1 for p in self.active if pods.is_ready(p))

    @property
    def updated_ready(self) -> int:
        """Pods of the current template that are Ready."""
        return sum(1 for p in self.updated if pods.is_ready(p))


def census(group_pods: Sequence[Mapping[str, Any]], template: str | None) -> Census:
    """Sort a group's Pods; ``template`` is the current template hash (None: all count as current)."""
    live = [p for p in group_pods if not pods.is_terminating(p)]
    finished = [p for p in live if pods.is_finished(p)]
    leaving = [p for p in live if retiring_state(p)[0] is not None and not pods.is_finished(p)]
    active = [p for p in live if not pods.is_finished(p) and retiring_state(p)[0] is None]
    updated = [p for p in active if template is None or pods.template_hash(p) == template]
    outdated = [p for p in active if not (template is None or pods.template_hash(p) == template)]
    return Census(active, updated, outdated, finished, leaving)


def _amount(value: Any, total: int, *, round_up: bool) -> int:
    """Resolve an int-or-percent rollout bound against ``total`` (as Deployments do)."""
    if isinstance(value, str) and value.endswith("%"):
        share = total * float(value[:-1]) / 100
        return int(-(-share // 1)) if round_up else int(share // 1)
    return max(0, int(value))


def rollout_bounds(rollout: Mapping[str, Any] | None, desired: int) -> tuple[int, int]:
    """Return (max surge, max unavailable) Pods; defaults 25% and 0, never both zero."""
    rollout = rollout or {}
    surge = _amount(rollout.get("maxSurge", "25%"), desired, round_up=True)
    unavailable = _amount(rollout.get("maxUnavailable", 0), desired, round_up=False)
    if surge == 0 and unavailable == 0:
        surge = 1
    return surge, unavailable


def _created_at(pod: Mapping[str, Any]) -> float | None:
    return times.parse_time(pods.created(pod))


def _scale_down(new: Sequence[Mapping[str, Any]], desired: int) -> tuple[list[str], int, list[str]]:
    """Scale-down among the current template's Pods: Pending ones first (newest first), then retire.

    Returns (Pending Pods to drop, how many more to retire, retirement candidates oldest first).
    """
    excess = len(new) - desired
    if excess <= 0:
        return [], 0, []
    new_pending = sorted((p for p in new if pods.is_pending(p)), key=pods.created, reverse=True)
    dropped = [pods.name(p) for p in new_pending[:excess]]
    retire = excess - min(excess, len(new_pending))
    candidates = [pods.name(p) for p in sorted(new, key=pods.created) if not pods.is_pending(p)]
    return dropped, retire, candidates


def _retire_old(
    old_running: Sequence[Mapping[str, Any]],
    new_count: int,
    updated_ready: int,
    desired: int,
    unavailable: int,
) -> tuple[int, list[str]]:
    """How many old-template workers to retire, and which: they go as new ones become Ready.

    The Ready floor (``desired - unavailable``) is kept; unready old workers cost nothing.
    """
    floor = max(0, desired - unavailable)
    ready_old = [p for p in old_running if pods.is_ready(p)]
    unready_old = [p for p in old_running if not pods.is_ready(p)]
    ready_new = min(desired, updated_ready)
    spare = max(0, ready_new + len(ready_old) - floor)
    if new_count >= desired:
        spare = len(ready_old) if ready_new >= floor else spare
    return len(unready_old) + min(len(ready_old), spare), [pods.name(p) for p in unready_old + ready_old]


def _batch_wait(
    group_pods: Sequence[Mapping[str, Any]], create: int, batch_delay: float | None, now: float | None
) -> tuple[int, float | None]:
    """Hold a batch of creates until ``batch_delay`` after the newest Pod; return (create, wait)."""
    if not (create and batch_delay and now is not None):
        return create, None
    created = (_created_at(p) for p in group_pods if not pods.is_terminating(p))
    newest = max((t for t in created if t is not None), default=None)
    if newest is not None and now - newest < batch_delay:
        return 0, batch_delay - (now - newest)
    return create, None


def plan(
    group_pods: Sequence[Mapping[str, Any]],
    desired: int,
    *,
    template: str | None = None,
    rollout: Mapping[str, Any] | None = None,
    batch_size: int | None = None,
    batch_delay: float | None = None,
    now: float | None = None,
) -> Plan:
    """Decide how to move a group's Pods towards ``desired`` workers of the current ``template``.

    - Finished Pods (Succeeded/Failed) are deleted, and so replaced.
    - Retired (or LIFO-chosen) Pods are deleted; Pods whose retirement is pending
      are resumed; neither is counted as one of the group's workers.
    - Scale-down: Pending Pods go first (newest first), then ``retire`` more
      Running workers are chosen among ``candidates``.
    - Rollout (Pods of an older template): old Pending Pods go at once; new Pods
      surge up to ``desired + maxSurge``; old workers are retired only while at
      least ``desired - maxUnavailable`` workers stay Ready.
    - Scale-up creates at most ``batch_size`` Pods per batch, and a batch waits
      until ``batch_delay`` seconds after the newest Pod was created (``wait``).
    """
    pods_now = census(group_pods, template)
    delete_now = [pods.name(p) for p in pods_now.finished]
    delete_now += [pods.name(p) for p in pods_now.leaving if retiring_state(p)[0] != RETIRE_PENDING]
    resume = [pods.name(p) for p in pods_now.leaving if retiring_state(p)[0] == RETIRE_PENDING]
    replaced = [pods.name(p) for p in pods_now.finished]
    surge, unavailable = rollout_bounds(rollout, desired)

    old_pending = [p for p in pods_now.outdated if pods.is_pending(p)]
    old_running = sorted((p for p in pods_now.outdated if not pods.is_pending(p)), key=pods.created)
    new = pods_now.updated
    dropped = [pods.name(p) for p in sorted(old_pending, key=pods.created, reverse=True)]
    dropped_new, retire, candidates = _scale_down(new, desired)
    dropped += dropped_new
    if old_running:
        retire_old, old_candidates = _retire_old(
            old_running, len(new), pods_now.updated_ready, desired, unavailable
        )
        if retire_old:
            # Retire old workers instead of new ones: candidates are the old Pods only.
            retire, candidates = retire_old, old_candidates

    missing = max(0, desired - len(new))
    room = desired + surge - (len(new) + len(old_running)) if old_running else missing
    create = max(0, min(missing, room))
    if batch_size is not None:
        create = min(create, batch_size)
    create, wait = _batch_wait(group_pods, create, batch_delay, now)
    return Plan(
        create=create,
        delete_now=delete_now + dropped,
        replaced=replaced,
        dropped_pending=dropped,
        resume=resume,
        retire=retire,
        candidates=candidates,
        wait=wait,
    )


def choose_victims(candidates: Sequence[str], n: int, held_bytes: Mapping[str, int | None]) -> list[str]:
    """Choose ``n`` workers to retire among ``candidates`` (oldest first).

    Workers the scheduler does not know (``held_bytes`` None or missing) hold no
    data and go first; then those holding the fewest bytes; ties go newest first.
    """
    order = {name: i for i, name in enumerate(candidates)}

    def cost(name: str) -> tuple[int, int, int]:
        held = held_bytes.get(name)
        return (0 if held is None else 1, held or 0, -order[name])

    return sorted(candidates, key=cost)[:n]


def lifo(running: Sequence[str], n: int) -> list[str]:
    """Choose ``n`` workers newest first: the fallback when the scheduler cannot be asked."""
    return list(reversed(running))[:n]


def worker_addresses(workers: Mapping[str, Any], group_pods: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Map Pod names to the scheduler addresses of their workers.

    ``workers`` is the scheduler's address -> info (with ``name``).  A worker is
    named after its Pod when started with ``--name $(DASK_WORKER_NAME)``;
    otherwise it is matched by the IP in its address.
    """
    names = {pods.name(p) for p in group_pods}
    by_ip = {pods.pod_ip(p): pods.name(p) for p in group_pods if pods.pod_ip(p)}
    found: dict[str, str] = {}
    for address, info in workers.items():
        worker_name = str(
            getattr(info, "name", None) or (info.get("name", "") if isinstance(info, Mapping) else "")
        )
        host = address.split("://")[-1].rsplit(":", 1)[0]
        pod_name = worker_name if worker_name in names else by_ip.get(host)
        if pod_name and pod_name not in found:
            found[pod_name] = address
    return found

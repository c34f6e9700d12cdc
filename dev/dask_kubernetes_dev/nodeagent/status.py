"""Pure builders of Pod status for the node agent (test infrastructure only).

The Pod worker records what happened to each container in a :class:`ContainerRecord`;
these functions turn records into the ``status`` a kubelet would write, with the
kubelet's phase rules, so cluster managers that read Pod status see familiar values.
Keeping them pure makes the rules unit-testable without processes or a cluster.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dask_kubernetes.api import times

PENDING, RUNNING, SUCCEEDED, FAILED = "Pending", "Running", "Succeeded", "Failed"
TERMINAL_PHASES = frozenset({SUCCEEDED, FAILED})


def now() -> datetime.datetime:
    """The current UTC time, truncated to seconds as the API stores timestamps."""
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def timestamp(value: datetime.datetime | None) -> str | None:
    """Render a time as the API's RFC 3339 string."""
    return None if value is None else times.format_datetime(value)


@dataclass
class ContainerRecord:
    """What the agent knows about one container, across its restarts."""

    name: str
    image: str
    state: str = "waiting"  # waiting | running | terminated
    reason: str | None = "ContainerCreating"
    message: str | None = None
    pid: int | None = None
    started_at: datetime.datetime | None = None
    finished_at: datetime.datetime | None = None
    exit_code: int | None = None
    last_state: dict[str, Any] = field(default_factory=dict)
    restart_count: int = 0
    ready: bool = False
    started: bool = False

    def waiting(self, reason: str, message: str | None = None) -> None:
        """Enter the waiting state, keeping the previous run as ``lastState``."""
        if self.state == "terminated":
            self.last_state = {"terminated": self._terminated()}
        self.state, self.reason, self.message = "waiting", reason, message
        self.ready = self.started = False

    def running(self, pid: int, started_at: datetime.datetime) -> None:
        """Enter the running state for a new process."""
        if self.state == "terminated":
            self.last_state = {"terminated": self._terminated()}
        self.state, self.reason, self.message = "running", None, None
        self.pid, self.started_at = pid, started_at
        self.finished_at = self.exit_code = None
        self.ready = self.started = False

    def terminated(
        self,
        exit_code: int,
        finished_at: datetime.datetime,
        reason: str | None = None,
        message: str | None = None,
    ) -> None:
        """Enter the terminated state with the process's exit code."""
        self.state = "terminated"
        self.exit_code = exit_code
        self.reason = reason or ("Completed" if exit_code == 0 else "Error")
        self.message = message
        self.finished_at = finished_at
        self.started_at = self.started_at or finished_at
        self.ready = self.started = False

    def _terminated(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "exitCode": self.exit_code if self.exit_code is not None else 0,
            "reason": self.reason,
            "startedAt": timestamp(self.started_at),
            "finishedAt": timestamp(self.finished_at),
        }
        if self.pid is not None:
            out["containerID"] = container_id(self.pid)
        if self.message:
            out["message"] = self.message
        return out

    def state_dict(self) -> dict[str, Any]:
        """The ``state`` field of the container status."""
        if self.state == "running":
            return {"running": {"startedAt": timestamp(self.started_at)}}
        if self.state == "terminated":
            return {"terminated": self._terminated()}
        waiting: dict[str, Any] = {"reason": self.reason}
        if self.message:
            waiting["message"] = self.message
        return {"waiting": waiting}

    @property
    def done(self) -> bool:
        """Terminated and not about to restart (the caller decides about restarts)."""
        return self.state == "terminated"

    @property
    def has_run(self) -> bool:
        """Whether a process of this container ever ended, which the kubelet counts as stopped."""
        return bool(self.last_state)


def container_id(pid: int) -> str:
    """The containerID of a process: there is no runtime, so the pid identifies it."""
    return f"local://{pid}"


def container_status(record: ContainerRecord) -> dict[str, Any]:
    """One entry of ``containerStatuses`` or ``initContainerStatuses``."""
    status: dict[str, Any] = {
        "name": record.name,
        "image": record.image,
        "imageID": f"local://{record.image}",
        "state": record.state_dict(),
        "lastState": record.last_state,
        "ready": record.ready,
        "restartCount": record.restart_count,
        "started": record.started,
    }
    if record.pid is not None and record.state != "waiting":
        status["containerID"] = container_id(record.pid)
    return status


def pod_phase(
    restart_policy: str,
    init_records: Sequence[ContainerRecord],
    records: Sequence[ContainerRecord],
    *,
    initialized: bool,
) -> str:
    """The kubelet's phase rule (``getPhase``) for a Pod that has not been failed outright.

    A container in back-off counts as stopped, so a crash-looping Pod stays Running.
    """
    if not initialized:
        if any(r.state == "terminated" and r.exit_code not in (0, None) for r in init_records) and (
            restart_policy == "Never"
        ):
            return FAILED
        return PENDING
    running = waiting = stopped = succeeded = 0
    for record in records:
        if record.state == "running":
            running += 1
        elif record.state == "terminated":
            stopped += 1
            succeeded += record.exit_code == 0
        elif record.has_run:
            stopped += 1
        else:
            waiting += 1
    if waiting:
        return PENDING
    if running:
        return RUNNING
    if not stopped:
        return PENDING
    if restart_policy == "Always":
        return RUNNING
    if stopped == succeeded:
        return SUCCEEDED
    if restart_policy == "Never":
        return FAILED
    return RUNNING


@dataclass
class ConditionClock:
    """Remembers when each condition last changed, for ``lastTransitionTime``."""

    changed: dict[str, tuple[str, datetime.datetime]] = field(default_factory=dict)

    def condition(
        self, kind: str, ok: bool, reason: str | None = None, message: str | None = None
    ) -> dict[str, Any]:
        """Build one condition, keeping its transition time while its status holds."""
        status = "True" if ok else "False"
        previous = self.changed.get(kind)
        if previous is None or previous[0] != status:
            self.changed[kind] = (status, now())
        cond: dict[str, Any] = {
            "type": kind,
            "status": status,
            "lastProbeTime": None,
            "lastTransitionTime": timestamp(self.changed[kind][1]),
        }
        if reason and not ok:
            cond["reason"] = reason
        if message and not ok:
            cond["message"] = message
        return cond


def readiness_gates_met(spec: Mapping[str, Any], existing: Iterable[Mapping[str, Any]]) -> list[str]:
    """Names of the Pod's readiness gates whose condition is not True yet."""
    current = {c.get("type"): c.get("status") for c in existing}
    return [
        gate["conditionType"]
        for gate in spec.get("readinessGates") or []
        if current.get(gate.get("conditionType")) != "True"
    ]


def pod_conditions(
    clock: ConditionClock,
    phase: str,
    *,
    sandbox: bool,
    initialized: bool,
    records: Sequence[ContainerRecord],
    unmet_gates: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The five conditions the kubelet owns, with the kubelet's reasons."""
    terminal = phase in TERMINAL_PHASES
    unready = [r.name for r in records if not r.ready]
    containers_ready = not unready and not terminal
    ready_reason = "PodCompleted" if terminal else "ContainersNotReady"
    ready_message = None if terminal else f"containers with unready status: [{' '.join(unready)}]"
    ready = containers_ready and not unmet_gates
    if containers_ready and unmet_gates:
        ready_reason = "ReadinessGatesNotReady"
        ready_message = f"corresponding condition of pod readiness gate {unmet_gates[0]!r} does not exist."
    return [
        clock.condition("PodReadyToStartContainers", sandbox and not terminal),
        clock.condition(
            "Initialized",
            initialized,
            "PodCompleted" if terminal else "ContainersNotInitialized",
            None if terminal else "containers with incomplete status: init containers",
        ),
        clock.condition("Ready", ready, ready_reason, ready_message),
        clock.condition("ContainersReady", containers_ready, ready_reason, ready_message),
    ]


def merge_conditions(
    ours: Sequence[Mapping[str, Any]], existing: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Keep conditions other writers own (PodScheduled, readiness gates, DisruptionTarget) next to ours.

    PodScheduled belongs to the scheduler; it is only added when the Pod was bound
    without one (``spec.nodeName`` set by its creator), as the kubelet does.
    """
    own = {c["type"] for c in ours}
    others = [dict(c) for c in existing if c.get("type") not in own]
    if not any(c.get("type") == "PodScheduled" for c in others):
        others.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                       "lastTransitionTime": timestamp(now())})  # fmt: skip
    return [dict(c) for c in ours] + others


def pod_status(
    *,
    phase: str,
    conditions: Sequence[Mapping[str, Any]],
    host_ip: str,
    pod_ip: str | None,
    start_time: datetime.datetime | None,
    init_records: Sequence[ContainerRecord],
    records: Sequence[ContainerRecord],
    reason: str | None = None,
    message: str | None = None,
    generation: int | None = None,
) -> dict[str, Any]:
    """The whole ``status`` body; explicit nulls clear a stale reason or message in a merge patch."""
    return {
        "observedGeneration": generation,
        "phase": phase,
        "conditions": list(conditions),
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}] if pod_ip else None,
        "startTime": timestamp(start_time),
        "initContainerStatuses": [container_status(r) for r in init_records] or None,
        "containerStatuses": [container_status(r) for r in records],
        "reason": reason,
        "message": message,
    }

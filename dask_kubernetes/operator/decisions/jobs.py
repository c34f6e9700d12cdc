"""A DaskJob's lifecycle decisions: attempts, retries, deadlines and the clean-up policy.

Pure functions over the job's spec and status and the clock.  The controller
writes each transition as one status write before it acts on it, so a reconcile
that fails halfway and runs again finds the transition done and only repeats the
level-based deletes and creates that follow from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dask_kubernetes.api import bodies, constants, times

TERMINAL = ("Successful", "Failed")
ACTIVE = ("JobCreated", "ClusterCreated", "Running")

REASON_RUNNER_FAILED = "RunnerFailed"
REASON_CLUSTER_STALLED = "ClusterStalled"
REASON_BACKOFF_LIMIT = "BackoffLimitExceeded"
REASON_DEADLINE = "DeadlineExceeded"
REASON_PRE_RUNNING_DEADLINE = "PreRunningDeadlineExceeded"
REASON_SUSPENDED = "Suspended"

DELETE_CLUSTER = "DeleteCluster"
DELETE_WORKERS = "DeleteWorkers"
DELETE_NONE = "DeleteNone"
DELETE_SELF = "DeleteSelf"


def attempt_of(status: Mapping[str, Any]) -> int:
    """The current (or last) attempt; a job started before attempts were counted is on its first."""
    if status.get("attempt"):
        return int(status["attempt"])
    return 1 if status.get("jobStatus") in ("ClusterCreated", "Running", *TERMINAL) else 0


def attempt_started(status: Mapping[str, Any], now: float) -> float | None:
    """When the current attempt started; None while none runs (not started, suspended, ended)."""
    if status.get("jobStatus") in TERMINAL or status.get("jobStatus") == "Suspended":
        return None
    started = times.parse_time(status.get("attemptStartTime"))
    if started is None and status.get("jobStatus") in ("ClusterCreated", "Running"):
        # Started by an operator that did not record attempts: count from the job's start.
        return times.parse_time(status.get("startTime")) or now
    return started


def active_seconds(status: Mapping[str, Any], now: float) -> int:
    """Seconds the job has run in all its attempts so far, suspensions not counted."""
    done = int(status.get("activeSeconds") or 0)
    started = attempt_started(status, now)
    return done + (max(0, int(now - started)) if started is not None else 0)


@dataclass(frozen=True)
class Deadline:
    """A deadline that has passed: the job's end reason and what to say."""

    reason: str
    message: str


def passed_deadline(spec: Mapping[str, Any], status: Mapping[str, Any], now: float) -> Deadline | None:
    """Tell whether the current attempt is past ``activeDeadlineSeconds`` or ``preRunningDeadlineSeconds``."""
    started = attempt_started(status, now)
    if started is None:
        return None
    active_limit = spec.get("activeDeadlineSeconds")
    if active_limit and active_seconds(status, now) >= int(active_limit):
        return Deadline(REASON_DEADLINE, f"the job ran longer than activeDeadlineSeconds ({active_limit}s)")
    pre_limit = spec.get("preRunningDeadlineSeconds")
    if pre_limit and status.get("attemptRunningTime") is None and now - started >= int(pre_limit):
        return Deadline(
            REASON_PRE_RUNNING_DEADLINE,
            f"attempt {attempt_of(status)}: the runner did not run on a Ready cluster within "
            f"preRunningDeadlineSeconds ({pre_limit}s)",
        )
    return None


def next_deadline(spec: Mapping[str, Any], status: Mapping[str, Any], now: float) -> float | None:
    """Seconds until the next deadline could pass, for the requeue; None without deadlines."""
    started = attempt_started(status, now)
    if started is None:
        return None
    waits: list[float] = []
    if spec.get("activeDeadlineSeconds"):
        waits.append(int(spec["activeDeadlineSeconds"]) - active_seconds(status, now))
    if spec.get("preRunningDeadlineSeconds") and status.get("attemptRunningTime") is None:
        waits.append(int(spec["preRunningDeadlineSeconds"]) - (now - started))
    return max(0.5, min(waits)) if waits else None


def ended_attempt(status: Mapping[str, Any], now: float) -> dict[str, Any]:
    """Status fields that close the current attempt: its running time joins ``activeSeconds``."""
    return {
        "activeSeconds": active_seconds(status, now),
        "attemptStartTime": None,
        "attemptRunningTime": None,
    }


def failure(spec: Mapping[str, Any], status: Mapping[str, Any], reason: str, now: float) -> dict[str, Any]:
    """The status write after a failed attempt: a fresh attempt, or Failed once the limit is spent.

    With ``backoffLimit: 0`` the job keeps the attempt's own reason (as upstream's
    single run); past a limit above 0 it reads BackoffLimitExceeded.
    """
    failed = int(status.get("failed") or 0) + 1
    limit = int(spec.get("backoffLimit") or 0)
    fields = {**ended_attempt(status, now), "failed": failed}
    if failed > limit:
        return {
            **fields,
            "jobStatus": "Failed",
            "reason": REASON_BACKOFF_LIMIT if limit else reason,
            "endTime": times.format_time(now),
        }
    return {
        **fields,
        "jobStatus": "JobCreated",
        "reason": None,
        "attempt": attempt_of(status) + 1,
        "attemptStartTime": times.format_time(now),
    }


def policy(spec: Mapping[str, Any], status: Mapping[str, Any]) -> str:
    """The clean-up policy that applies to an ended job."""
    key = "onSuccess" if status.get("jobStatus") == "Successful" else "onFailure"
    return str((spec.get("deletionPolicy") or {}).get(key) or DELETE_CLUSTER)


def cleanup_wait(spec: Mapping[str, Any], status: Mapping[str, Any], now: float) -> float:
    """Seconds until the clean-up policy is due (``ttlSecondsAfterFinished`` after the end)."""
    ended = times.parse_time(status.get("endTime")) or now
    return max(0.0, ended + int(spec.get("ttlSecondsAfterFinished") or 0) - now)


def attempt_label(obj: Mapping[str, Any]) -> int:
    """The attempt a runner Pod (label) or job cluster (annotation) serves; 1 if it predates attempts."""
    meta = obj.get("metadata") or {}
    value = (meta.get("labels") or {}).get(constants.LABEL_JOB_ATTEMPT) or (
        meta.get("annotations") or {}
    ).get(constants.LABEL_JOB_ATTEMPT)
    return int(value) if value and str(value).isdigit() else 1


def owned_by(obj: Mapping[str, Any], job: Mapping[str, Any]) -> bool:
    """Tell whether ``obj`` belongs to this very job (its uid), not to an earlier one of its name."""
    uid = job["metadata"].get("uid")
    return any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or [])


def cluster_stalled(cluster: Mapping[str, Any]) -> str | None:
    """The message of a Stalled=True condition for the cluster's current spec, if any."""
    stalled = bodies.condition(cluster, "Stalled")
    generation = cluster["metadata"].get("generation")
    if stalled is None or stalled.get("status") != "True":
        return None
    if stalled.get("observedGeneration") not in (None, generation):
        return None
    return str(stalled.get("message") or stalled.get("reason") or "Stalled")

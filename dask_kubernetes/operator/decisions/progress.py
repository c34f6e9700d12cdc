"""Progress deadlines: when "not Ready yet" has lasted too long, it is Stalled.

kstatus readers (Flux, Argo CD) cannot tell broken from slow unless the resource
says so.  A worker group or a scheduler that has not moved towards its spec for
``progressDeadlineSeconds`` (default 600, as Deployments) is Stalled, with the
reasons its Pods give (a crash loop, an executable that does not exist).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dask_kubernetes.api import bodies, constants, times


def deadline(spec: Mapping[str, Any]) -> int:
    """Return the progress deadline of a spec, in seconds."""
    return int(spec.get("progressDeadlineSeconds") or constants.DEFAULT_PROGRESS_DEADLINE_SECONDS)


def last_progress(obj: Mapping[str, Any], counts: Mapping[str, object], *, ready: bool, now: float) -> float:
    """Return when progress was last made, without moving the time while nothing happens.

    ``obj`` carries the status as last written.  Progress is a new generation,
    any count that moved, becoming Ready, or losing Ready (the deadline counts
    from then).  While an object stays Ready the time stays put, so an idle
    resync writes nothing.
    """
    old_status = bodies.status_of(obj)
    since = times.parse_time(old_status.get("lastProgressTime"))
    was = bodies.condition(obj, "Ready")
    was_ready = was is not None and was.get("status") == "True"
    moved = any(old_status.get(key) != value for key, value in counts.items())
    generation = int(obj["metadata"].get("generation") or 0)
    new_spec = old_status.get("observedGeneration") != generation
    if since is None or moved or new_spec or ready != was_ready:
        return now
    return since


def pod_problems(pods: Iterable[Mapping[str, Any]]) -> list[str]:
    """Say why Pods are not running: waiting or terminated container reasons and messages, deduplicated."""
    found: list[str] = []
    for pod in pods:
        for status in bodies.status_of(pod).get("containerStatuses") or []:
            state = status.get("state") or {}
            last = (status.get("lastState") or {}).get("terminated") or {}
            detail = state.get("waiting") or state.get("terminated") or {}
            reason = detail.get("reason")
            if not reason or reason in ("ContainerCreating", "PodInitializing", "Completed"):
                continue
            message = detail.get("message") or ""
            restarts = int(status.get("restartCount") or 0)
            text = f"container {status.get('name')}: {reason}"
            if message:
                text += f" ({message.strip()[:200]})"
            if last.get("reason") and last is not detail:
                text += f"; last exit: {last['reason']}"
                if last.get("message"):
                    text += f" ({str(last['message']).strip()[:200]})"
            if restarts:
                text += f", {restarts} restarts"
            if text not in found:
                found.append(text)
    return found

"""Read the facts the controllers need out of Pod objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dask_kubernetes.api import bodies, constants


def phase(pod: Mapping[str, Any]) -> str:
    """Return the Pod's phase, ``Pending`` when it has none yet."""
    return str(bodies.status_of(pod).get("phase") or "Pending")


def is_terminating(pod: Mapping[str, Any]) -> bool:
    """Tell whether the Pod is being deleted."""
    return bool(pod["metadata"].get("deletionTimestamp"))


def is_finished(pod: Mapping[str, Any]) -> bool:
    """Tell whether the Pod's containers ended for good (Succeeded or Failed)."""
    return phase(pod) in ("Succeeded", "Failed")


def template_hash(pod: Mapping[str, Any]) -> str | None:
    """Return the hash of the worker template that made this Pod (its label)."""
    return (pod["metadata"].get("labels") or {}).get(constants.LABEL_WORKER_TEMPLATE_HASH)


def is_ready(pod: Mapping[str, Any]) -> bool:
    """Tell whether the Pod is Ready, from its Ready condition."""
    if is_terminating(pod) or phase(pod) != "Running":
        return False
    ready = bodies.condition(pod, "Ready")
    return ready is not None and ready.get("status") == "True"


def is_pending(pod: Mapping[str, Any]) -> bool:
    """Tell whether the Pod has not started running yet."""
    return phase(pod) == "Pending"


def name(pod: Mapping[str, Any]) -> str:
    """Return the Pod's name."""
    return str(pod["metadata"]["name"])


def pod_ip(pod: Mapping[str, Any]) -> str | None:
    """Return the Pod's IP, if it has one."""
    ip = bodies.status_of(pod).get("podIP")
    return str(ip) if ip else None


def created(pod: Mapping[str, Any]) -> str:
    """Return the creation timestamp, which sorts chronologically as RFC 3339 text."""
    return str(pod["metadata"].get("creationTimestamp") or "")


def crash_looping(pod: Mapping[str, Any]) -> bool:
    """Tell whether a container of the Pod waits in CrashLoopBackOff."""
    for status in bodies.status_of(pod).get("containerStatuses") or []:
        waiting = (status.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") == "CrashLoopBackOff":
            return True
    return False

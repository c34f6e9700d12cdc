"""Small helpers for tests against the local control plane: apply objects, wait for Pods."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from dask_kubernetes_dev.polling import wait_for
from dask_kubernetes_dev.pytest_plugin import KubeTarget


def apply(cluster: KubeTarget, namespace: str, *objects: dict[str, Any]) -> None:
    """``kubectl apply`` objects given as dicts into ``namespace``."""
    body = {"apiVersion": "v1", "kind": "List", "items": list(objects)}
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(body))


def get(cluster: KubeTarget, namespace: str, kind: str, name: str) -> dict[str, Any] | None:
    """An object as JSON, or ``None`` when it does not exist."""
    proc = cluster.kubectl("get", kind, name, "-n", namespace, "-o", "json", check=False)
    if proc.returncode != 0:
        if "NotFound" in proc.stderr:
            return None
        raise AssertionError(proc.stderr)
    return json.loads(proc.stdout)


def wait_phase(
    cluster: KubeTarget, namespace: str, name: str, phases: set[str], timeout: float = 120
) -> dict:
    """Wait until a Pod reaches one of ``phases``; return the Pod."""

    def check() -> dict[str, Any] | None:
        pod = get(cluster, namespace, "pod", name)
        return pod if pod and pod.get("status", {}).get("phase") in phases else None

    try:
        return wait_for(check, timeout=timeout, what=f"pod {name} to reach {phases}")
    except AssertionError as exc:
        pod = get(cluster, namespace, "pod", name)
        raise AssertionError(f"{exc}; status: {json.dumps((pod or {}).get('status'), indent=1)}") from None


def condition(pod: dict[str, Any], kind: str) -> dict[str, Any]:
    """One condition of a Pod (empty when absent)."""
    return next((c for c in pod.get("status", {}).get("conditions") or [] if c["type"] == kind), {})


def pod(name: str, command: list[str], **spec: Any) -> dict[str, Any]:
    """A single-container Pod manifest; images are not pulled by the local node agent."""
    labels = spec.pop("labels", {})
    container = {"name": spec.pop("container_name", "main"), "image": "ghcr.io/dask/dask:latest"}
    if command:
        container["command"] = command
    container.update(spec.pop("container", {}))
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [container], **spec},
    }


SCHEDULER_PROBE = {"httpGet": {"path": "/health", "port": 8787}, "periodSeconds": 2, "failureThreshold": 30}


def scheduler(name: str) -> dict[str, Any]:
    """A Dask scheduler Pod labelled ``app: name``, Ready once its dashboard answers."""
    return pod(
        name,
        [],
        labels={"app": name},
        container={
            "args": ["dask-scheduler"],
            "ports": [
                {"name": "tcp-comm", "containerPort": 8786},
                {"name": "http-dashboard", "containerPort": 8787},
            ],
            "readinessProbe": SCHEDULER_PROBE,
        },
    )


def processes_with(marker: str) -> list[str]:
    """Command lines of live processes whose arguments contain ``marker``."""
    proc = subprocess.run(["pgrep", "-af", marker], capture_output=True, text=True)
    return [line for line in proc.stdout.splitlines() if "pgrep" not in line]

"""Worker Pod templates of the classic KubeCluster: building, cleaning and naming them."""

from __future__ import annotations

import copy
import getpass
import os
import uuid
from collections.abc import Mapping
from typing import Any

from dask_kubernetes.api import constants

# The seed's two tolerations: worker Pods may run on nodes tainted for Dask workers.
DEFAULT_TOLERATIONS = (
    {"key": "k8s.dask.org/dedicated", "operator": "Equal", "value": "worker", "effect": "NoSchedule"},
    {"key": "k8s.dask.org_dedicated", "operator": "Equal", "value": "worker", "effect": "NoSchedule"},
)


def make_pod_spec(
    image: str,
    labels: Mapping[str, str] | None = None,
    threads_per_worker: int = 1,
    env: Mapping[str, str] | None = None,
    extra_container_config: Mapping[str, Any] | None = None,
    extra_pod_config: Mapping[str, Any] | None = None,
    resources: str | None = None,
    memory_limit: str | None = None,
    memory_request: str | None = None,
    cpu_limit: str | None = None,
    cpu_request: str | None = None,
    gpu_limit: int | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Build a worker Pod template whose ``dask-worker`` flags match its resources."""
    args = [
        "dask-worker",
        "--nthreads",
        str(threads_per_worker),
        "--name",
        f"$({constants.ENV_WORKER_NAME})",
        "--death-timeout",
        "60",
    ]
    if memory_limit:
        args += ["--memory-limit", str(memory_limit)]
    if resources:
        args += ["--resources", resources]
    limits: dict[str, Any] = {}
    requests: dict[str, Any] = {}
    for key, value, target in (
        ("memory", memory_limit, limits),
        ("cpu", cpu_limit, limits),
        ("nvidia.com/gpu", gpu_limit, limits),
        ("memory", memory_request, requests),
        ("cpu", cpu_request, requests),
    ):
        if value is not None:
            target[key] = str(value) if key != "nvidia.com/gpu" else value
    container: dict[str, Any] = {
        "name": "dask-worker",
        "image": image,
        "args": args,
        "env": [{"name": k, "value": str(v)} for k, v in (env or {}).items()],
        "resources": {k: v for k, v in (("limits", limits), ("requests", requests)) if v},
    }
    container.update(extra_container_config or {})
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"labels": dict(labels or {}), "annotations": dict(annotations or {})},
        "spec": {
            "restartPolicy": "Never",
            "containers": [container],
            "tolerations": list(DEFAULT_TOLERATIONS),
        },
    }
    pod["spec"].update(extra_pod_config or {})
    return pod


def clean_pod_template(template: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise a user's Pod template: add kind/metadata and the default tolerations.

    Raises ValueError naming what is wrong, so a bad template fails before any
    Pod is created.
    """
    if not isinstance(template, Mapping):
        raise ValueError(f"a pod template must be a mapping, got {type(template).__name__}")
    pod = copy.deepcopy(dict(template))
    if pod.get("kind", "Pod") != "Pod":
        raise ValueError(f"a pod template must be kind Pod, got {pod['kind']!r}")
    spec = pod.get("spec")
    if not isinstance(spec, Mapping) or not spec.get("containers"):
        raise ValueError("a pod template needs spec.containers with at least one container")
    pod["apiVersion"], pod["kind"] = "v1", "Pod"
    pod.setdefault("metadata", {})
    pod["metadata"] = dict(pod["metadata"] or {})
    tolerations = list(spec.get("tolerations") or [])
    tolerations += [t for t in DEFAULT_TOLERATIONS if t not in tolerations]
    pod["spec"] = {**spec, "tolerations": tolerations}
    return pod


def worker_pod_name(template: str) -> str:
    """Name a worker Pod from ``kubernetes.worker-name``: {user}, {uuid} and environment variables."""
    name = template.format(user=getpass.getuser(), uuid=uuid.uuid4().hex[:10], **os.environ)
    return name.lower().replace("_", "-")[:63].rstrip("-")

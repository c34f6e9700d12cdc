"""The objects the benchmarks create, as plain dicts (pure: no API access).

Every cluster is the documented example, ``examples/cluster.yaml``, under another
name and with a ClusterIP Service, so that ours and upstream's operator get exactly
the same manifest.  The floor's objects are the same containers as bare Pods, with
labels no operator watches.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

from dask_kubernetes import yamlio

ROOT = Path(__file__).resolve().parents[2]
FLOOR_LABEL = "bench.dask.org/floor"
UNSCHEDULED = "bench-unscheduled"  # a scheduler no one runs: Pods stay Pending, never start


@cache
def _example() -> dict[str, Any]:
    (doc,) = yamlio.load_all((ROOT / "examples" / "cluster.yaml").read_text())
    return dict(doc)


def cluster(name: str, workers: int) -> dict[str, Any]:
    """The example DaskCluster under ``name`` with ``workers`` workers and a ClusterIP Service."""
    doc = copy.deepcopy(_example())
    doc["metadata"] = {"name": name}
    doc["spec"]["worker"]["replicas"] = workers
    doc["spec"]["scheduler"]["service"]["selector"]["dask.org/cluster-name"] = name
    doc["spec"]["scheduler"]["service"]["type"] = "ClusterIP"
    return doc


def _pod(name: str, labels: dict[str, str], container: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        # Restarted like an operator's Pods: a liveness probe that fails under load restarts it.
        "spec": {"containers": [container], "restartPolicy": "Always"},
    }


def floor_scheduler(name: str) -> list[dict[str, Any]]:
    """The example's scheduler as a bare Pod plus its Service, as an operator would make them."""
    spec = _example()["spec"]["scheduler"]
    labels = {FLOOR_LABEL: name, "bench.dask.org/role": "scheduler"}
    service = copy.deepcopy(spec["service"])
    service["type"] = "ClusterIP"
    service["selector"] = labels
    return [
        _pod(f"{name}-scheduler", labels, copy.deepcopy(spec["spec"]["containers"][0])),
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"{name}-scheduler"}, "spec": service},
    ]


def floor_worker(name: str, index: int, namespace: str) -> dict[str, Any]:
    """One of the example's workers as a bare Pod, pointed at :func:`floor_scheduler`'s Service."""
    container = copy.deepcopy(_example()["spec"]["worker"]["spec"]["containers"][0])
    pod_name = f"{name}-worker-{index}"
    container["env"] = [
        {"name": "DASK_WORKER_NAME", "value": pod_name},
        {
            "name": "DASK_SCHEDULER_ADDRESS",
            "value": f"tcp://{name}-scheduler.{namespace}.svc.cluster.local:8786",
        },
    ]
    return _pod(pod_name, {FLOOR_LABEL: name, "bench.dask.org/role": "worker"}, container)


def unscheduled_pod(name: str) -> dict[str, Any]:
    """A worker Pod that no scheduler places: creating it costs the API server, and nothing else."""
    pod = floor_worker(name, 0, "default")
    pod["metadata"]["name"] = name
    pod["spec"]["schedulerName"] = UNSCHEDULED
    return pod

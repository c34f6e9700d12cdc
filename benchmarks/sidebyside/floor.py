"""The physical floor: what the same Pods cost with no operator at all.

- **start-up**: the example's scheduler Pod, its Service and one worker Pod, created
  by hand at once; until the worker is connected.  This is process start-up through
  the node agent, the least any operator's apply → Ready can take.
- **by hand, N workers**: N bare worker Pods created by ``CONCURRENCY`` parallel clients
  against a running scheduler; until they exist, run and connect; then one
  delete-collection until they are gone.
- **API create latency**: the median time the API server takes to create one Pod that
  nothing will run, alone and under ``CONCURRENCY`` parallel clients; the floor for N
  objects is that latency × N ÷ concurrency.
"""

from __future__ import annotations

import functools
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from benchmarks.sidebyside import manifests
from benchmarks.sidebyside.kube import Connected, Kube, PodWatch, until
from benchmarks.sidebyside.measures import Figures, apply, scale_up_marks
from benchmarks.sidebyside.sides import BENCH_NS, CONVERGE

CONCURRENCY = 8
CREATE_TRIES = 5  # a starved API server answers 504 after 60 s; a controller would try again
FLOOR = manifests.FLOOR_LABEL
ROLE = "bench.dask.org/role"


def _delete(kube: Kube, pods: PodWatch, name: str) -> float:
    """Delete a floor group's Pods (one request) and Service; return when its Pods are gone."""
    start = time.monotonic()
    kube.core.delete_collection_namespaced_pod(BENCH_NS, label_selector=f"{FLOOR}={name}")
    end = until(lambda: not pods.select(**{FLOOR: name}), f"the floor's {name} Pods to go", CONVERGE)
    kube.kubectl("delete", "service", "-n", BENCH_NS, f"{name}-scheduler", "--ignore-not-found")
    return end - start


def clear(kube: Kube, pods: PodWatch) -> None:
    """Delete whatever a failed floor measurement left (every floor Pod and Service)."""
    kube.core.delete_collection_namespaced_pod(BENCH_NS, label_selector=FLOOR)
    kube.kubectl("delete", "service", "-n", BENCH_NS, "-l", FLOOR, "--ignore-not-found")
    until(
        lambda: not [p for p in pods.pods.values() if FLOOR in p.labels], "the floor's Pods to go", CONVERGE
    )


def _create_all(kube: Kube, docs: list[dict[str, Any]], concurrency: int) -> list[float]:
    """Create Pods with ``concurrency`` parallel clients; each create's latency in seconds."""

    def create(doc: dict[str, Any]) -> float:
        start = time.monotonic()
        for attempt in range(1, CREATE_TRIES + 1):
            try:
                kube.core.create_namespaced_pod(BENCH_NS, doc)
                break
            except ApiException as exc:
                if exc.status == 409:  # an earlier try timed out, but its create went through
                    break
                if exc.status < 500 or attempt == CREATE_TRIES:
                    raise
            except (HTTPError, OSError):
                if attempt == CREATE_TRIES:
                    raise
            time.sleep(attempt)
        return time.monotonic() - start

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(create, docs))


def startup(kube: Kube, pods: PodWatch, name: str = "floor-startup") -> Figures:
    """Scheduler + Service + one worker, created at once by hand; until the worker connects."""
    connected = Connected(lambda: pods.running_ip(**{FLOOR: name, ROLE: "scheduler"}))
    start = time.monotonic()
    apply(kube, *manifests.floor_scheduler(name), manifests.floor_worker(name, 0, BENCH_NS))
    try:
        end = until(lambda: connected.workers() >= 1, "the floor's worker to connect", CONVERGE)
    finally:
        connected.close()
    _delete(kube, pods, name)
    return {"startup_s": end - start}


def by_hand(kube: Kube, pods: PodWatch, workers: int, name: str = "floor-hand") -> Figures:
    """``workers`` bare worker Pods against a running scheduler: exist, Running, connected; delete."""
    apply(kube, *manifests.floor_scheduler(name))
    connected = Connected(lambda: pods.running_ip(**{FLOOR: name, ROLE: "scheduler"}))
    until(connected.up, "the floor's scheduler", CONVERGE)
    docs = [manifests.floor_worker(name, i, BENCH_NS) for i in range(workers)]
    start = time.monotonic()
    try:
        _create_all(kube, docs, CONCURRENCY)
        live = functools.partial(pods.select, **{FLOOR: name, ROLE: "worker"})
        marks = scale_up_marks(live, connected, workers, start, f"{workers} workers by hand", prefix="hand_")
    finally:
        connected.close()
    marks["hand_delete_s"] = _delete(kube, pods, name)
    return marks


def create_latency(kube: Kube, pods: PodWatch, samples: int = 40, name: str = "floor-api") -> Figures:
    """Median latency of creating one Pod nothing runs: alone, and under ``CONCURRENCY`` clients."""
    alone = _create_all(kube, [_unscheduled(name, f"{name}-a{i}") for i in range(samples)], concurrency=1)
    together = _create_all(
        kube, [_unscheduled(name, f"{name}-c{i}") for i in range(2 * samples)], concurrency=CONCURRENCY
    )
    _delete(kube, pods, name)
    return {
        "create_ms": statistics.median(alone) * 1000,
        "create_concurrent_ms": statistics.median(together) * 1000,
    }


def _unscheduled(group: str, name: str) -> dict[str, Any]:
    pod = manifests.unscheduled_pod(name)
    pod["metadata"]["labels"] = {FLOOR: group}
    return pod

"""The measurements, each run the same way against whichever operator is active.

Each returns named figures (seconds, request counts, megabytes).  Times run from
just before the ``kubectl`` command that starts a phase until the benchmark's Pod
watch, or the scheduler itself, shows the end state.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from benchmarks.sidebyside import manifests
from benchmarks.sidebyside.apicount import AuditLog, parse_metrics, writes
from benchmarks.sidebyside.kube import Connected, Kube, PodWatch, until
from benchmarks.sidebyside.sides import BENCH_NS, CONVERGE, Side, clear, scheduler_of
from dask_kubernetes._structs.constants import GROUP, VERSION
from dask_kubernetes.generator import yamlio
from dask_kubernetes.testing.processes import rss_of_pod

Figures = dict[str, float]
MB = 1024 * 1024


def apply(kube: Kube, *docs: dict) -> None:
    """``kubectl apply`` into the benchmark namespace, as a user or a GitOps tool would."""
    kube.kubectl("apply", "-n", BENCH_NS, "-f", "-", stdin=yamlio.dump_all(list(docs)))


def _ready(kube: Kube, side: Side, name: str) -> Callable[[], bool]:
    """A check that the cluster's status says it is up (one GET through the Python client)."""

    def check() -> bool:
        obj = kube.custom.get_namespaced_custom_object(GROUP, VERSION, BENCH_NS, "daskclusters", name)
        return side.is_ready(obj)

    return check


def _all_ready(kube: Kube, side: Side, names: list[str]) -> Callable[[], bool]:
    """A check that every one of ``names`` is up (one LIST)."""

    def check() -> bool:
        items = kube.custom.list_namespaced_custom_object(GROUP, VERSION, BENCH_NS, "daskclusters")["items"]
        up = {i["metadata"]["name"] for i in items if side.is_ready(i)}
        return up.issuperset(names)

    return check


def apply_to_ready(kube: Kube, pods: PodWatch, side: Side, name: str, workers: int = 3) -> Figures:
    """``kubectl apply`` → status says up and ``workers`` workers are connected to the scheduler."""
    connected = Connected(lambda: pods.running_ip(**scheduler_of(name)))
    start = time.monotonic()
    apply(kube, manifests.cluster(name, workers))
    try:
        ready = _ready(kube, side, name)
        end = until(lambda: connected.workers() >= workers and ready(), f"{name} Ready", CONVERGE)
    finally:
        connected.close()
    clear(kube, pods)
    return {"ready_s": end - start}


def scale_up_and_delete(kube: Kube, pods: PodWatch, side: Side, name: str, workers: int) -> Figures:
    """Scale a Ready cluster 0 → ``workers``: until the Pods exist, run, and connect; then delete it."""
    apply(kube, manifests.cluster(name, 0))
    connected = Connected(lambda: pods.running_ip(**scheduler_of(name)))
    until(connected.up, f"{name}'s scheduler", CONVERGE)
    until(_ready(kube, side, name), f"{name} Ready", CONVERGE)
    marks: Figures = {}
    start = time.monotonic()
    kube.kubectl("scale", "-n", BENCH_NS, "daskcluster", name, f"--replicas={workers}")
    try:

        def progress() -> bool:
            now = time.monotonic() - start
            live = pods.workers(name)
            if "exist_s" not in marks and len(live) >= workers:
                marks["exist_s"] = now
            if "running_s" not in marks and sum(p.phase == "Running" for p in live) >= workers:
                marks["running_s"] = now
            if "connected_s" not in marks and connected.workers() >= workers:
                marks["connected_s"] = now
            return len(marks) == 3

        until(progress, f"{workers} workers of {name}", 2 * CONVERGE)
    finally:
        connected.close()
    start = time.monotonic()
    kube.kubectl("delete", "-n", BENCH_NS, "daskcluster", name, "--wait=false")
    end = until(lambda: not pods.select(**{"dask.org/cluster-name": name}), f"{name}'s Pods to go", CONVERGE)
    marks["delete_s"] = end - start
    return marks


def lifecycle_requests(kube: Kube, pods: PodWatch, side: Side, audit: AuditLog, name: str) -> Figures:
    """API requests of one lifecycle: create with 2 workers, scale to 10, back to 2, delete."""
    audit.skip()
    before = parse_metrics(kube.metrics())
    apply(kube, manifests.cluster(name, 2))
    connected = Connected(lambda: pods.running_ip(**scheduler_of(name)))
    ready = _ready(kube, side, name)
    try:
        for step, n in enumerate((2, 10, 2)):
            if step:  # the first step is the creation itself
                kube.kubectl("scale", "-n", BENCH_NS, "daskcluster", name, f"--replicas={n}")
            until(
                lambda n=n: len(pods.workers(name)) == n and connected.workers() == n and ready(),
                f"{name} at {n} workers",
                CONVERGE,
            )
    finally:
        connected.close()
    kube.kubectl("delete", "-n", BENCH_NS, "daskcluster", name, "--wait=false")
    until(lambda: not pods.select(**{"dask.org/cluster-name": name}), f"{name}'s Pods to go", CONVERGE)
    time.sleep(3)  # the last status writes and Events
    counted = audit.since_last(side.classify)
    total = parse_metrics(kube.metrics()) - before
    operator = counted.get("operator")
    lease = counted.get("operator lease")
    return {
        "operator_requests": float(sum(operator.values())) if operator else 0.0,
        "operator_writes": float(writes(operator)) if operator else 0.0,
        "lease_requests": float(sum(lease.values())) if lease else 0.0,
        "all_writes": float(writes(total)),
        "all_requests": float(sum(total.values())),
    }


def operator_rss(kube: Kube, side: Side) -> float:
    """Resident memory of the operator, in MB: its largest Pod (the leader, when there are two)."""
    return max((rss_of_pod(pod) for pod in side.operator_pods(kube)), default=0) / MB


def idle(
    kube: Kube, pods: PodWatch, side: Side, audit: AuditLog, clusters: int, window: float
) -> tuple[Figures, float]:
    """Requests per minute with ``clusters`` Ready clusters (no workers) and nothing changing.

    Also returns the mean scheduler RSS (MB), which sizes how many clusters the machine holds.
    """
    names = [f"idle-{i}" for i in range(clusters)]
    apply(kube, *(manifests.cluster(n, 0) for n in names))
    until(_all_ready(kube, side, names), f"{clusters} idle clusters Ready", 2 * CONVERGE)
    until(
        lambda: sum(p.ready for p in pods.select(**{"dask.org/component": "scheduler"})) >= clusters,
        "the idle schedulers Ready",
        CONVERGE,
    )
    time.sleep(10)  # let the last status writes and Events settle
    audit.skip()
    before = parse_metrics(kube.metrics())
    time.sleep(window)
    counted = audit.since_last(side.classify)
    total = parse_metrics(kube.metrics()) - before
    minutes = window / 60
    figures = {
        "idle_operator_per_min": sum((counted.get("operator") or {}).values()) / minutes,
        "idle_lease_per_min": sum((counted.get("operator lease") or {}).values()) / minutes,
        "idle_all_per_min": sum(total.values()) / minutes,
        "rss_idle_mb": operator_rss(kube, side),
    }
    schedulers = [n for n, p in pods.pods.items() if p.labels.get("dask.org/component") == "scheduler"]
    per_scheduler = sum(rss_of_pod(n) for n in schedulers) / max(len(schedulers), 1) / MB
    clear(kube, pods)
    return figures, per_scheduler


def many_clusters_rss(kube: Kube, pods: PodWatch, side: Side, clusters: int) -> Figures:
    """Operator RSS with ``clusters`` Ready clusters (no workers)."""
    names = [f"many-{i}" for i in range(clusters)]
    apply(kube, *(manifests.cluster(n, 0) for n in names))
    until(_all_ready(kube, side, names), f"{clusters} clusters Ready", 4 * CONVERGE)
    time.sleep(10)
    figures = {"rss_many_mb": operator_rss(kube, side)}
    clear(kube, pods)
    return figures

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
from benchmarks.sidebyside.kube import Connected, Kube, PodState, PodWatch, Timeout, until
from benchmarks.sidebyside.sides import BENCH_NS, CONVERGE, Side, clear, scheduler_of
from dask_kubernetes import yamlio
from dask_kubernetes.api.constants import GROUP, VERSION
from dask_kubernetes_dev.processes import container_pids, tree_rss_bytes

Figures = dict[str, float]
MB = 1024 * 1024
STATUS_GRACE = 10.0


def apply(kube: Kube, *docs: dict) -> None:
    """``kubectl apply`` into the benchmark namespace, as a user or a GitOps tool would."""
    kube.kubectl("apply", "-n", BENCH_NS, "-f", "-", stdin=yamlio.dump_all(list(docs)))


def _ready(kube: Kube, side: Side, name: str) -> Callable[[], bool]:
    """A check that the cluster's status says it is up (one GET through the Python client)."""

    def check() -> bool:
        obj = kube.custom.get_namespaced_custom_object(GROUP, VERSION, BENCH_NS, "daskclusters", name)
        return side.is_ready(obj)

    return check


def _said_up(kube: Kube, side: Side) -> set[str]:
    """The clusters whose status says they are up (one LIST)."""
    items = kube.custom.list_namespaced_custom_object(GROUP, VERSION, BENCH_NS, "daskclusters")["items"]
    return {i["metadata"]["name"] for i in items if side.is_ready(i)}


def _bulk(kube: Kube, pods: PodWatch, side: Side, names: list[str]) -> int:
    """Apply many clusters without workers; wait until every scheduler Pod is Ready.

    Returns how many clusters' status still did not say up after the grace.
    """
    apply(kube, *(manifests.cluster(n, 0) for n in names))

    def schedulers_ready() -> bool:
        ready = {
            p.labels.get("dask.org/cluster-name")
            for p in pods.select(**{"dask.org/component": "scheduler"})
            if p.ready and not p.deleting
        }
        return ready.issuperset(names)

    until(schedulers_ready, f"{len(names)} schedulers Ready", 4 * CONVERGE)
    status_says_up(lambda: _said_up(kube, side).issuperset(names))
    return len(set(names) - _said_up(kube, side))


def status_says_up(check: Callable[[], bool], grace: float = STATUS_GRACE) -> bool:
    """Whether the status says the cluster is up within ``grace`` seconds of its Pods being up.

    Upstream's status can stay ``Pending`` for good while its scheduler runs (its
    Service handler's ``Running`` and its create handler's ``Pending`` race), so no
    wait may depend on it: a status that never says up is counted instead.
    """
    try:
        until(check, "the status to say the cluster is up", grace)
    except Timeout:
        return False
    return True


def apply_to_ready(kube: Kube, pods: PodWatch, side: Side, name: str, workers: int = 3) -> Figures:
    """``kubectl apply`` → ``workers`` workers connected, and → the status says so too."""
    connected = Connected(lambda: pods.running_ip(**scheduler_of(name)))
    start = time.monotonic()
    apply(kube, manifests.cluster(name, workers))
    try:
        up = until(lambda: connected.workers() >= workers, f"{workers} workers of {name}", CONVERGE)
    finally:
        connected.close()
    figures = {"up_s": up - start, "status_checked": 1.0, "status_stuck": 0.0}
    if status_says_up(_ready(kube, side, name)):
        figures["ready_s"] = time.monotonic() - start
    else:
        figures["status_stuck"] = 1.0
    clear(kube, pods)
    return figures


def scale_up_marks(
    live: Callable[[], list[PodState]],
    connected: Connected,
    workers: int,
    start: float,
    what: str,
    prefix: str = "",
) -> Figures:
    """Seconds from ``start`` until ``workers`` Pods exist, run, and are connected to the scheduler.

    The keys are ``{prefix}exist_s``, ``{prefix}running_s`` and ``{prefix}connected_s``; the
    scheduler is asked only until its stage is reached.
    """
    marks: Figures = {}

    def progress() -> bool:
        now = time.monotonic() - start
        seen = live()
        stages: dict[str, Callable[[], bool]] = {
            "exist": lambda: len(seen) >= workers,
            "running": lambda: sum(p.phase == "Running" for p in seen) >= workers,
            "connected": lambda: connected.workers() >= workers,
        }
        for stage, reached in stages.items():
            key = f"{prefix}{stage}_s"
            if key not in marks and reached():
                marks[key] = now
        return len(marks) == len(stages)

    until(progress, what, 2 * CONVERGE)
    return marks


def scale_up_and_delete(kube: Kube, pods: PodWatch, side: Side, name: str, workers: int) -> Figures:
    """Scale a Ready cluster 0 → ``workers``: until the Pods exist, run, and connect; then delete it."""
    apply(kube, manifests.cluster(name, 0))
    connected = Connected(lambda: pods.running_ip(**scheduler_of(name)))
    until(connected.up, f"{name}'s scheduler", CONVERGE)
    said_up = status_says_up(_ready(kube, side, name))
    start = time.monotonic()
    kube.kubectl("scale", "-n", BENCH_NS, "daskcluster", name, f"--replicas={workers}")
    try:
        marks = scale_up_marks(
            lambda: pods.workers(name), connected, workers, start, f"{workers} workers of {name}"
        )
    finally:
        connected.close()
    marks.update(status_checked=1.0, status_stuck=0.0 if said_up else 1.0)
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
    stuck = 0
    try:
        for step, n in enumerate((2, 10, 2)):
            if step:  # the first step is the creation itself
                kube.kubectl("scale", "-n", BENCH_NS, "daskcluster", name, f"--replicas={n}")
            until(
                lambda n=n: len(pods.workers(name)) == n and connected.workers() == n,
                f"{name} at {n} workers",
                CONVERGE,
            )
            stuck += not status_says_up(_ready(kube, side, name))
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
        "status_checked": 3.0,
        "status_stuck": float(stuck),
        "operator_requests": float(sum(operator.values())) if operator else 0.0,
        "operator_writes": float(writes(operator)) if operator else 0.0,
        "lease_requests": float(sum(lease.values())) if lease else 0.0,
        "all_writes": float(writes(total)),
        "all_requests": float(sum(total.values())),
    }


def pod_rss(kube: Kube, namespace: str, pod: str) -> int:
    """Resident memory of a Pod's containers and their children, in bytes, via the node agent."""
    pids = container_pids(kube.agent_socket, namespace, pod)
    return sum(tree_rss_bytes(pid) for pid in pids)


def operator_rss(kube: Kube, side: Side) -> float:
    """Resident memory of the operator, in MB: its largest Pod (the leader, when there are two)."""
    return max((pod_rss(kube, side.namespace, pod) for pod in side.operator_pods(kube)), default=0) / MB


def idle(
    kube: Kube, pods: PodWatch, side: Side, audit: AuditLog, clusters: int, window: float
) -> tuple[Figures, float]:
    """Requests per minute with ``clusters`` Ready clusters (no workers) and nothing changing.

    Also returns the mean scheduler RSS (MB), which sizes how many clusters the machine holds.
    """
    names = [f"idle-{i}" for i in range(clusters)]
    stuck = _bulk(kube, pods, side, names)
    time.sleep(10)  # let the last status writes and Events settle
    audit.skip()
    before = parse_metrics(kube.metrics())
    time.sleep(window)
    counted = audit.since_last(side.classify)
    total = parse_metrics(kube.metrics()) - before
    minutes = window / 60
    figures = {
        "status_checked": float(clusters),
        "status_stuck": float(stuck),
        "idle_operator_per_min": sum((counted.get("operator") or {}).values()) / minutes,
        "idle_lease_per_min": sum((counted.get("operator lease") or {}).values()) / minutes,
        "idle_all_per_min": sum(total.values()) / minutes,
        "rss_idle_mb": operator_rss(kube, side),
    }
    schedulers = [n for n, p in pods.pods.items() if p.labels.get("dask.org/component") == "scheduler"]
    per_scheduler = sum(pod_rss(kube, BENCH_NS, n) for n in schedulers) / max(len(schedulers), 1) / MB
    clear(kube, pods)
    return figures, per_scheduler


def many_clusters_rss(kube: Kube, pods: PodWatch, side: Side, clusters: int) -> Figures:
    """Operator RSS with ``clusters`` Ready clusters (no workers)."""
    names = [f"many-{i}" for i in range(clusters)]
    stuck = _bulk(kube, pods, side, names)
    time.sleep(10)
    figures = {
        "rss_many_mb": operator_rss(kube, side),
        "status_checked": float(clusters),
        "status_stuck": float(stuck),
    }
    clear(kube, pods)
    return figures

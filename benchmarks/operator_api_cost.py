"""API-server cost of the operator: requests per cluster lifecycle, and idle requests per minute.

Not a test: it asserts nothing and prints a Markdown table for BENCHMARKS.md.  It
starts its own local control plane, installs the chart with ``helm template |
kubectl apply`` (the admission webhook off), and counts the API server's requests
of each phase twice: ``apiserver_request_total`` (all clients, by verb) and the API
server's audit log, which names the client, so the operator's own requests (its
ServiceAccount) are told apart from the node agent's, the scheduler's and the
controller-manager's.  The Lease renewals of leader election are shown apart.

1. lifecycle: create a DaskCluster with 2 workers, scale it to 10, back to 2, and
   delete it, waiting for each step to converge;
2. idle: 20 Ready clusters (no workers, to fit the machine) for 60 s.

Usage: ``python benchmarks/operator_api_cost.py [--clusters 20] [--idle 60]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.sidebyside import manifests  # noqa: E402
from benchmarks.sidebyside.apicount import AuditLog, parse_metrics, reads, writes  # noqa: E402
from dask_kubernetes_dev import install  # noqa: E402
from dask_kubernetes_dev.binary import control_plane_binary  # noqa: E402
from dask_kubernetes_dev.controlplane import ControlPlane  # noqa: E402
from dask_kubernetes_dev.generator import yamlio  # noqa: E402
from dask_kubernetes_dev.kubectl import run as kubectl_run  # noqa: E402
from dask_kubernetes_dev.polling import wait_for  # noqa: E402
from dask_kubernetes_dev.pytest_plugin import free_network  # noqa: E402

OPERATOR_USER = "system:serviceaccount:dask-operator:dask-kubernetes-operator"


def total_requests(plane: ControlPlane) -> Counter[str]:
    """Return verb -> requests of all clients so far, from ``apiserver_request_total``."""
    return parse_metrics(kubectl(plane, "get", "--raw", "/metrics"))


def who(user: str) -> str:
    """Tell the operator's ServiceAccount from every other client."""
    return "operator" if user == OPERATOR_USER else "others"


def kubectl(plane: ControlPlane, *args: str, stdin: str | None = None) -> str:
    """Run the pinned kubectl against the benchmark's control plane."""
    return kubectl_run(plane.kubeconfig, *args, input=stdin).stdout


def ready(plane: ControlPlane, namespace: str, name: str, workers: int) -> bool:
    """Tell whether a cluster is Ready, current, with ``workers`` ready workers."""
    obj = json.loads(kubectl(plane, "-n", namespace, "get", "daskcluster", name, "-o", "json"))
    conds = {c["type"]: c["status"] for c in (obj.get("status") or {}).get("conditions") or []}
    status = obj.get("status") or {}
    return (
        conds.get("Ready") == "True"
        and status.get("observedGeneration") == obj["metadata"]["generation"]
        and status.get("readyReplicas") == workers
    )


def wait(check: Callable[[], object], what: str, timeout: float = 600) -> None:
    """Poll until ``check`` is true."""
    wait_for(check, timeout=timeout, what=what)


def ordered(parts: dict[str, Counter[str]]) -> dict[str, Counter[str]]:
    """The operator, its Lease, then everyone else, each present even when it made no request."""
    return {key: parts.get(key, Counter()) for key in ("operator", "operator lease", "others")}


def table(title: str, parts: dict[str, Counter[str]], minutes: float = 1.0) -> str:
    """Render request counts as a Markdown table (per minute when ``minutes`` is given)."""
    rows = [
        f"| {title} | requests | writes | reads (get/list) | watches opened |",
        "|---|---:|---:|---:|---:|",
    ]
    for who, verbs in parts.items():
        cells = [sum(verbs.values()), writes(verbs), reads(verbs), verbs.get("watch", 0)]
        rows.append(f"| {who} | " + " | ".join(f"{n / minutes:.0f}" for n in cells) + " |")
    return "\n".join(rows)


def main() -> int:
    """Run both phases on a fresh control plane and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--standalone", action="store_true", help="one operator replica, no leader election")
    args = parser.parse_args()
    sessions = ROOT / ".cache" / "sessions"
    sessions.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-", dir=sessions))
    plane = ControlPlane(
        workdir, control_plane_binary(), network=free_network(), die_with_parent=True, audit=True
    )
    plane.start()
    load = os.getloadavg()[0]
    try:
        values = ["webhook.enabled=false"]
        if args.standalone:
            values += ["replicaCount=1", "kopfArgs={--all-namespaces,--standalone}"]
        install.install(plane.kubeconfig, "dask-operator", values)
        ns = "bench"
        kubectl(plane, "create", "namespace", ns)
        time.sleep(5)

        audit = AuditLog(plane.audit_log)
        audit.skip()
        before = total_requests(plane)
        kubectl(plane, "-n", ns, "apply", "-f", "-", stdin=yamlio.dump(manifests.cluster("life", 2)))
        wait(lambda: ready(plane, ns, "life", 2), "2 workers")
        for n in (10, 2):
            kubectl(plane, "-n", ns, "scale", "daskcluster", "life", f"--replicas={n}")
            wait(lambda n=n: ready(plane, ns, "life", n), f"{n} workers")
        kubectl(plane, "-n", ns, "delete", "daskcluster", "life", "--wait=true")
        wait(
            lambda: not json.loads(kubectl(plane, "-n", ns, "get", "pods", "-o", "json"))["items"],
            "Pods gone",
        )
        lifecycle = ordered(audit.since_last(who))
        lifecycle["all clients (apiserver_request_total)"] = total_requests(plane) - before

        docs = [manifests.cluster(f"idle-{i}", 0) for i in range(args.clusters)]
        kubectl(plane, "-n", ns, "apply", "-f", "-", stdin=yamlio.dump_all(docs))
        wait(
            lambda: all(ready(plane, ns, f"idle-{i}", 0) for i in range(args.clusters)),
            "idle clusters Ready",
            900,
        )
        time.sleep(30)  # let the last status writes and events settle
        audit.skip()
        before = total_requests(plane)
        time.sleep(args.idle)
        idle = ordered(audit.since_last(who))
        idle["all clients (apiserver_request_total)"] = total_requests(plane) - before
    finally:
        plane.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load {load:.1f};"
    )
    print(
        f"`python benchmarks/operator_api_cost.py --clusters {args.clusters} --idle {args.idle:.0f}"
        f"{' --standalone' if args.standalone else ''}`\n"
    )
    print(table("lifecycle (create, scale 2→10→2, delete)", lifecycle))
    print()
    print(table(f"idle, {args.clusters} Ready clusters, per minute", idle, args.idle / 60))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

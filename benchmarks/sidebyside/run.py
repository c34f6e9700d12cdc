"""Run the side-by-side benchmark: rounds of floor, ours and upstream on one local control plane."""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from benchmarks.sidebyside import floor, measures, report
from benchmarks.sidebyside.apicount import AuditLog
from benchmarks.sidebyside.kube import Kube, PodWatch, Timeout
from benchmarks.sidebyside.manifests import ROOT
from benchmarks.sidebyside.sides import BENCH_NS, Side, clear, ours, theirs
from dask_kubernetes_dev import upstream
from dask_kubernetes_dev.binary import control_plane_binary
from dask_kubernetes_dev.controlplane import ControlPlane
from dask_kubernetes_dev.pytest_plugin import free_network

MB = 1024 * 1024
DOCUMENT = ROOT / "BENCHMARKS.md"
HEADING = "## Operator side by side with upstream"


@dataclass
class Options:
    """What to run: how many rounds, how big, which sides, where results go."""

    rounds: int
    workers: int
    clusters: int
    many: int
    idle_window: float
    ours_only: bool
    json_path: Path | None
    write: bool


def parse(argv: Sequence[str]) -> Options:
    """Command-line options; ``--quick`` is one small round of ours only, for development and CI."""
    parser = argparse.ArgumentParser(
        prog="benchmarks/operator_vs_upstream.py",
        description="Ours and upstream dask-kubernetes' operator side by side, with the physical floor.",
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds, each running every side (default 5)")
    parser.add_argument("--workers", type=int, default=100, help="workers of the scale-up (default 100)")
    parser.add_argument("--clusters", type=int, default=20, help="Ready clusters while idle (default 20)")
    parser.add_argument(
        "--many", type=int, default=100, help="clusters for the RSS figure, or as many as fit (default 100)"
    )
    parser.add_argument("--idle-window", type=float, default=60.0, help="idle seconds counted (default 60)")
    parser.add_argument("--ours-only", action="store_true", help="skip upstream (no PyPI install)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 round, 20 workers, 5 idle clusters, 10 for RSS, 15 s idle, ours only; no BENCHMARKS.md",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the samples and run facts here")
    parser.add_argument(
        "--no-write", action="store_true", help="print the table; leave BENCHMARKS.md as it is"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.workers, args.clusters, args.many, args.idle_window = 1, 20, 5, 10, 15.0
        args.ours_only = True
    for name in ("rounds", "workers", "clusters", "many"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.idle_window <= 0:
        parser.error("--idle-window must be positive")
    return Options(
        rounds=args.rounds,
        workers=args.workers,
        clusters=args.clusters,
        many=args.many,
        idle_window=args.idle_window,
        ours_only=args.ours_only,
        json_path=args.json,
        write=not (args.no_write or args.quick),
    )


def mem_available() -> int:
    """Bytes of memory the kernel says new processes can still use."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def fits(wanted: int, per_scheduler_mb: float) -> int:
    """How many of ``wanted`` clusters (a scheduler each) fit in 60 % of the memory available now."""
    room = int(0.6 * mem_available() / MB / max(per_scheduler_mb, 1.0))
    return max(1, min(wanted, room))


def commit() -> str:
    """The checked-out commit, for the record."""
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return proc.stdout.strip() or "unknown"


class Recorder:
    """Samples per side and figure, one per round; counted figures add up within a round."""

    def __init__(self) -> None:
        self.samples: report.Samples = {}
        self.round = 0

    def add(self, side: str, figures: dict[str, float]) -> None:
        """Record figures of a side in the current round."""
        for key, value in figures.items():
            values = self.samples.setdefault(side, {}).setdefault(key, [])
            if key in report.COUNTED and len(values) > self.round:
                values[self.round] += float(value)
            else:
                values.append(float(value))
            print(f"  {side:8} {key:24} {value:10.2f}", flush=True)


Measure = Callable[[], dict[str, float]]
Record = Callable[[dict[str, float]], None]


def attempt(what: str, measure: Measure, record: Record, errors: list[str]) -> dict[str, float] | None:
    """Run one measurement; a failure is written down (its figures stay missing) and the run goes on."""
    try:
        figures = measure()
    except (Timeout, RuntimeError, OSError, ApiException, HTTPError) as exc:
        errors.append(f"{what}: {str(exc).splitlines()[0][:300]}")
        print(f"  FAILED {what}: {exc}", flush=True)
        return None
    record(figures)
    return figures


def run_side(
    kube: Kube,
    pods: PodWatch,
    audit: AuditLog,
    side: Side,
    opts: Options,
    last: bool,
    meta: dict[str, Any],
    record: Record,
) -> None:
    """Every measurement of one side in one round, between its activation and deactivation."""
    errors: list[str] = meta.setdefault("errors", [])
    tag = f"{side.name}, round {meta['round']}"
    side.activate(kube, pods)
    try:
        steps: list[tuple[str, Measure]] = [
            ("RSS at 0 clusters", lambda: {"rss_0_mb": measures.operator_rss(kube, side)}),
            ("apply → Ready", lambda: measures.apply_to_ready(kube, pods, side, "ready")),
            ("scale", lambda: measures.scale_up_and_delete(kube, pods, side, "scale", opts.workers)),
            ("lifecycle", lambda: measures.lifecycle_requests(kube, pods, side, audit, "life")),
        ]
        for what, measure in steps:
            if attempt(f"{tag}: {what}", measure, record, errors) is None:
                clear(kube, pods)
        per_scheduler: list[float] = []

        def idle() -> dict[str, float]:
            figures, mean = measures.idle(kube, pods, side, audit, opts.clusters, opts.idle_window)
            per_scheduler.append(mean)
            return figures

        if attempt(f"{tag}: idle", idle, record, errors) is None:
            clear(kube, pods)
        if last:
            many = fits(opts.many, per_scheduler[0] if per_scheduler else 150.0)
            meta.setdefault("many_by_side", {})[side.name] = many
            meta["many"] = many if many == opts.many else f"{many} (of {opts.many} asked; what fits)"
            rss = functools.partial(measures.many_clusters_rss, kube, pods, side, many)
            if attempt(f"{tag}: RSS at {many} clusters", rss, record, errors) is None:
                clear(kube, pods)
    finally:
        side.deactivate(kube, pods)


def run(opts: Options, command: str) -> tuple[report.Samples, dict[str, Any]]:
    """Start a control plane with an audit log, install the sides, run the rounds; samples and facts."""
    started = time.monotonic()
    meta: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"{mem_available() / MB / 1024:.0f} GiB available, Python {platform.python_version()}",
        "load": list(os.getloadavg()),
        "command": command,
        "rounds": opts.rounds,
        "workers": opts.workers,
        "clusters": opts.clusters,
        "many": opts.many,
        "concurrency": floor.CONCURRENCY,
        "upstream_version": upstream.VERSION,
        "commit": commit(),
    }
    sessions = ROOT / ".cache" / "sessions"
    sessions.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="sidebyside-", dir=sessions))
    plane = ControlPlane(
        workdir, control_plane_binary(), network=free_network(), die_with_parent=True, audit=True
    )
    recorder = Recorder()
    try:
        plane.start()
        kube = Kube(plane.kubeconfig, plane.node_state_dir / "agent.sock")
        kube.kubectl("create", "namespace", BENCH_NS)
        with PodWatch(kube, BENCH_NS) as pods:
            audit = AuditLog(plane.audit_log)
            sides = [ours(kube)]
            if not opts.ours_only:
                sides.append(theirs(kube))
            for side in sides:
                meta[f"{side.name}_replicas"] = side.replicas
            meta.setdefault("upstream_replicas", "—")
            for index in range(opts.rounds):
                last = index == opts.rounds - 1
                recorder.round = index
                meta["round"] = index + 1
                print(f"round {index + 1} of {opts.rounds}", flush=True)
                errors = meta.setdefault("errors", [])
                tag = f"floor, round {index + 1}"
                floor_add = functools.partial(recorder.add, report.FLOOR)
                attempt(f"{tag}: start-up", lambda: floor.startup(kube, pods), floor_add, errors)
                attempt(f"{tag}: create latency", lambda: floor.create_latency(kube, pods), floor_add, errors)
                attempt(f"{tag}: by hand", lambda: floor.by_hand(kube, pods, opts.workers), floor_add, errors)
                floor.clear(kube, pods)
                for side in sides if index % 2 == 0 else reversed(sides):
                    record = functools.partial(recorder.add, side.name)
                    run_side(kube, pods, audit, side, opts, last, meta, record)
                if opts.json_path:  # after every round: a later failure loses nothing measured
                    opts.json_path.write_text(
                        json.dumps({"samples": recorder.samples, "meta": meta}, default=str)
                    )
    finally:
        plane.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    meta["duration_min"] = (time.monotonic() - started) / 60
    floor_medians = report.medians(recorder.samples).get(report.FLOOR, {})
    meta.update({k: floor_medians[k] for k in ("create_ms", "create_concurrent_ms") if k in floor_medians})
    sides_run = [report.FLOOR, report.OURS] + ([] if opts.ours_only else [report.UPSTREAM])
    meta["missing"] = report.missing(recorder.samples, sides_run)
    return recorder.samples, meta


def main(argv: Sequence[str] | None = None) -> int:
    """Run, print the table, write JSON and BENCHMARKS.md as asked; exit 1 if ours missed a figure."""
    argv = list(sys.argv[1:] if argv is None else argv)
    opts = parse(argv)
    # A SIGTERM (a timeout, a CI cancel) still stops the control plane and removes its files.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    command = shlex.join(["python", "benchmarks/operator_vs_upstream.py", *argv])
    samples, meta = run(opts, command)
    generated = report.section(samples, meta)
    print(generated)
    if opts.json_path:
        opts.json_path.write_text(json.dumps({"samples": samples, "meta": meta}, indent=2, default=str))
    if opts.write:
        DOCUMENT.write_text(report.splice(DOCUMENT.read_text(), generated, HEADING))
    # Upstream may fail to produce a figure (its status can stay Pending): that is a finding.
    ours_missing = [m for m in meta["missing"] if not m.startswith(f"{report.UPSTREAM}:")]
    if ours_missing:
        print(f"not produced: {', '.join(ours_missing)}", file=sys.stderr)
    return 1 if ours_missing else 0

"""Admission latency and throughput of one webhook process (one uvicorn worker), on loopback.

Not a test: it asserts nothing and prints numbers for BENCHMARKS.md.  It starts the
real entry point, ``dask-kubernetes webhook``, with a throw-away certificate and no
API access, then posts AdmissionReviews over TLS with keep-alive connections, as the
API server does:

1. latency: one connection, one request at a time (p50/p99 per route);
2. throughput: several connections at once, for the request rate one worker holds.

Both phases are bounded by a request count and a time limit, whichever comes first.
Usage: ``python benchmarks/webhook_latency.py [--requests 3000] [--seconds 30] [--connections 8]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from dask_kubernetes import pki, yamlio
from dask_kubernetes_dev.polling import wait_for

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _review(obj: dict[str, Any], plural: str) -> bytes:
    request = {
        "uid": str(uuid.uuid4()),
        "kind": {"group": "kubernetes.dask.org", "version": "v1", "kind": obj["kind"]},
        "resource": {"group": "kubernetes.dask.org", "version": "v1", "resource": plural},
        "name": obj["metadata"]["name"],
        "namespace": "bench",
        "operation": "CREATE",
        "userInfo": {"username": "bench"},
        "object": obj,
        "dryRun": False,
    }
    return json.dumps(
        {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}
    ).encode()


def _bodies() -> list[tuple[str, bytes]]:
    """A mix like a GitOps sync: valid objects with warnings, one denial, defaulting."""
    (cluster,) = yamlio.load_all((ROOT / "examples" / "cluster.yaml").read_text())
    (job,) = yamlio.load_all((ROOT / "examples" / "job.yaml").read_text())
    invalid = json.loads(json.dumps(cluster))
    invalid["spec"]["worker"]["spec"]["containers"][0]["resources"] = {
        "requests": {"cpu": "4"},
        "limits": {"cpu": "2"},
    }
    return [
        ("/validate", _review(cluster, "daskclusters")),
        ("/validate", _review(job, "daskjobs")),
        ("/validate", _review(invalid, "daskclusters")),
        ("/mutate", _review(job, "daskjobs")),
    ]


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


async def _worker(
    session: aiohttp.ClientSession,
    base: str,
    bodies: list[tuple[str, bytes]],
    budget: dict[str, float],
    samples: dict[str, list[float]],
) -> None:
    i = 0
    while budget["left"] > 0 and time.perf_counter() < budget["deadline"]:
        budget["left"] -= 1
        path, body = bodies[i % len(bodies)]
        i += 1
        started = time.perf_counter()
        async with session.post(base + path, data=body, headers={"Content-Type": "application/json"}) as resp:
            await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"{path} answered {resp.status}")
        samples.setdefault(path, []).append(time.perf_counter() - started)


async def _phase(base: str, ca: Path, *, connections: int, requests: int, seconds: float) -> dict[str, Any]:
    context = ssl.create_default_context(cafile=str(ca))
    connector = aiohttp.TCPConnector(ssl=context, limit=connections, force_close=False)
    samples: dict[str, list[float]] = {}
    budget = {"left": float(requests), "deadline": time.perf_counter() + seconds}
    async with aiohttp.ClientSession(connector=connector) as session:
        # Warm up: handshakes and first-call imports are not what the API server sees.
        for path, body in _bodies():
            async with session.post(base + path, data=body) as resp:
                await resp.read()
        started = time.perf_counter()
        await asyncio.gather(
            *(_worker(session, base, _bodies(), budget, samples) for _ in range(connections))
        )
        elapsed = time.perf_counter() - started
    every = [s for values in samples.values() for s in values]
    return {
        "connections": connections,
        "requests": len(every),
        "seconds": elapsed,
        "rate": len(every) / elapsed,
        "p50_ms": statistics.median(every) * 1000,
        "p99_ms": _percentile(every, 99) * 1000,
        "routes": {
            path: {
                "p50_ms": statistics.median(values) * 1000,
                "p99_ms": _percentile(values, 99) * 1000,
                "n": len(values),
            }
            for path, values in sorted(samples.items())
        },
    }


def _start(tmp: Path, port: int) -> tuple[subprocess.Popen[bytes], Path]:
    ca = pki.make_ca("bench-ca")
    serving = pki.issue(ca, "localhost", dns_names=["localhost"], ip_addresses=["127.0.0.1"])
    (tmp / "ca.crt").write_bytes(ca.cert)
    (tmp / "tls.crt").write_bytes(serving.cert)
    (tmp / "tls.key").write_bytes(serving.key)
    env = {**os.environ, "KUBECONFIG": str(tmp / "no-kubeconfig"), "KUBERNETES_SERVICE_HOST": ""}
    cmd = [
        sys.executable, "-m", "dask_kubernetes.cli", "webhook", "--host", "127.0.0.1", "--port", str(port),
        "--cert-file", str(tmp / "tls.crt"), "--key-file", str(tmp / "tls.key"),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=(tmp / "webhook.log").open("wb"))
    context = ssl.create_default_context(cafile=str(tmp / "ca.crt"))

    def serving() -> bool:
        if proc.poll() is not None:
            raise RuntimeError((tmp / "webhook.log").read_text())
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            with context.wrap_socket(sock, server_hostname="127.0.0.1"):
                return True

    try:
        wait_for(
            serving, timeout=60, interval=0.2, transient=(OSError,), what="the webhook", error=RuntimeError
        )
    except RuntimeError:
        proc.kill()
        raise
    return proc, tmp / "ca.crt"


def _report(latency: dict[str, Any], load: dict[str, Any]) -> str:
    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "",
        "| phase | connections | requests | p50 (ms) | p99 (ms) | requests/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, phase in (("latency", latency), ("throughput", load)):
        lines.append(
            f"| {name} | {phase['connections']} | {phase['requests']} | {phase['p50_ms']:.2f} "
            f"| {phase['p99_ms']:.2f} | {phase['rate']:.0f} |"
        )
    lines += ["", "| route (latency phase) | n | p50 (ms) | p99 (ms) |", "|---|---:|---:|---:|"]
    for path, route in latency["routes"].items():
        lines.append(f"| {path} | {route['n']} | {route['p50_ms']:.2f} | {route['p99_ms']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run both phases against a fresh webhook process and print a Markdown report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per phase (upper bound)")
    parser.add_argument("--seconds", type=float, default=30.0, help="time per phase (upper bound)")
    parser.add_argument("--connections", type=int, default=8, help="connections in the throughput phase")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="webhook-bench-") as tmp:
        port = _free_port()
        proc, ca = _start(Path(tmp), port)
        base = f"https://127.0.0.1:{port}"
        try:
            latency = asyncio.run(
                _phase(base, ca, connections=1, requests=args.requests, seconds=args.seconds)
            )
            load = asyncio.run(
                _phase(base, ca, connections=args.connections, requests=args.requests, seconds=args.seconds)
            )
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(_report(latency, load))
    return 0


if __name__ == "__main__":
    sys.exit(main())

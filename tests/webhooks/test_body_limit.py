"""A 500 MB request is refused with 413 before it is buffered, and the webhook's memory stays put.

The app runs under uvicorn in its own process, as in the chart, so its peak resident
memory (``VmHWM`` from ``/proc``) can be read and compared with the chart's memory
limit.  The client sends headers and then the body a chunk at a time, stopping as
soon as the server answers; it never needs to send all 500 MB.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dask_kubernetes import yamlio
from dask_kubernetes_dev.polling import wait_for
from tests.conftest import CHART

BODY = 500 * 1000 * 1000
CHUNK = 256 * 1024


def _memory_limit_bytes() -> int:
    """The webhook container's memory limit from the chart's values (``256Mi``)."""
    values = yamlio.load_all((CHART / "values.yaml").read_text())[0]
    limit = values["webhook"]["resources"]["limits"]["memory"]
    assert limit.endswith("Mi"), limit
    return int(limit[:-2]) * 1024 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc status")


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "dask_kubernetes.webhooks.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:

        def listening() -> bool:
            if proc.poll() is not None:
                raise AssertionError("the webhook app did not start: it exited")
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True

        wait_for(listening, timeout=60, interval=0.2, transient=(OSError,), what="the webhook app to start")
        yield proc, port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _post_huge(port: int, *, chunked: bool) -> tuple[bytes, int]:
    """POST a 500 MB body; return what the server answered and how many body bytes were sent."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {BODY}"
    head = f"POST /validate HTTP/1.1\r\nHost: webhook\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    chunk = b" " * CHUNK
    frame = (b"%x\r\n" % CHUNK + chunk + b"\r\n") if chunked else chunk
    answer, sent = b"", 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())
        sock.setblocking(False)
        pending = b""
        for _ in range(BODY // CHUNK * 4):  # bounded: each turn either sends or reads
            readable, writable, _ = select.select([sock], [sock] if sent < BODY else [], [], 30)
            if readable:
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    break
                if not data:
                    break  # the server answered and closed the connection
                answer += data
                continue
            if not writable:
                break
            if not pending:
                pending, sent = frame, sent + CHUNK
            try:
                pending = pending[sock.send(pending) :]
            except (BrokenPipeError, ConnectionResetError):
                break
    return answer, sent


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_500_mb_body_is_refused_and_memory_stays_under_the_limit(server, chunked):
    proc, port = server
    answer, sent = _post_huge(port, chunked=chunked)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b'"reason":"RequestEntityTooLarge"' in answer, answer
    assert sent < BODY, "the server let the whole body in before answering"
    assert proc.poll() is None, "the webhook process died"
    peak = _peak_rss(proc.pid)
    assert peak < _memory_limit_bytes(), f"peak RSS {peak / 2**20:.0f} MiB"
    kind = "chunked" if chunked else "Content-Length"
    print(f"\npeak RSS of the webhook after a 500 MB {kind} body: {peak / 2**20:.0f} MiB, {sent} bytes sent")

"""Find the host processes the node agent runs for a Pod, and measure their memory.

The local node agent runs each container as a host process and gives it the Pod's
name as ``POD_NAME``; the end-to-end tests kill a Pod's processes with that.  The
agent also answers, on its unix socket, which PID runs each container of any Pod:
the benchmarks read an operator Pod's resident memory with that.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
from pathlib import Path
from urllib.parse import quote

import psutil

PROC = Path("/proc")


def pids_of_pod(pod_name: str) -> list[int]:
    """PIDs of the processes the node agent runs for one Pod (they carry its name as POD_NAME)."""
    found = []
    needle = f"POD_NAME={pod_name}".encode()
    for proc in PROC.iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if needle in environ:
            found.append(int(proc.name))
    return found


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, socket_path: Path) -> None:
        super().__init__("node-agent", timeout=10)
        self.socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(10)
        sock.connect(str(self.socket_path))
        self.sock = sock


def container_pids(agent_socket: Path, namespace: str, pod: str) -> list[int]:
    """PIDs of a Pod's running containers, as the node agent reports them on its socket.

    Works for any Pod, whatever its environment (upstream's operator Pod has no
    ``POD_NAME``); an unknown Pod has none.
    """
    conn = _UnixConnection(agent_socket)
    try:
        conn.request("GET", f"/agent/v1/pods/{quote(namespace)}/{quote(pod)}")
        answer = conn.getresponse()
        body = answer.read()
    finally:
        conn.close()
    if answer.status != 200:
        return []
    containers = json.loads(body).get("containers") or {}
    return [int(c["pid"]) for c in containers.values() if c.get("pid")]


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):  # a child may exit meanwhile
            total += proc.memory_info().rss
    return total

"""Find the host processes the node agent runs for a Pod, and measure their memory.

The local node agent runs each container as a host process and gives it the Pod's
name as ``POD_NAME``; the end-to-end tests kill a Pod's processes with that, and
the benchmarks read an operator Pod's resident memory with it.
"""

from __future__ import annotations

from pathlib import Path

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


def rss_bytes(pid: int) -> int:
    """Resident memory of one process (``VmRSS``), 0 when it has exited."""
    try:
        status = (PROC / str(pid) / "status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def rss_of_pod(pod_name: str) -> int:
    """Resident memory of all of a Pod's processes together, in bytes."""
    return sum(rss_bytes(pid) for pid in pids_of_pod(pod_name))

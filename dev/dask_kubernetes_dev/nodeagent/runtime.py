"""Container processes of the node agent: spawn, log, signal, reap (test infrastructure only).

A "container" here is a process started through ``ip netns exec`` (which also gives it
a private mount namespace) and ``unshare --uts``, with a small ``sh`` prelude that sets
the hostname and bind-mounts the volumes before ``exec``-ing the real command, so the
command keeps the wrapper's pid.  Each container is its own session and process group,
which is what SIGTERM and SIGKILL are sent to.  ``setpriv --pdeathsig KILL`` makes the
process die with the agent should the agent itself be killed outright.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
import shlex
import shutil
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dask_kubernetes_dev.nodeagent.logs import LogWriter

HOSTNAME_MAX = 63

# Host directories that play the container image: the Python environment the
# commands come from and the source tree of an editable install.  A volume mounted
# over one of their ancestors (an emptyDir at /tmp while the checkout lives under
# /tmp) would hide them, so they are bound back on top after the volumes.
IMAGE_PATHS = tuple(sorted({sys.prefix, sys.base_prefix, str(Path(__file__).resolve().parents[3])}))
_FIRST_FD = 7  # sh only knows fds 0-9; at most three image paths are kept


def _covers(target: str, path: str) -> bool:
    target = target.rstrip("/") or "/"
    return path == target or path.startswith(target if target == "/" else target + "/")


@dataclass(frozen=True)
class Mount:
    """A bind mount of a host path at a path inside the container."""

    source: Path
    target: str
    read_only: bool = False


class StartError(Exception):
    """The command cannot be started at all (the kubelet reports StartError, exit code 128)."""


def mount_script(hostname: str | None, mounts: Sequence[Mount], workdir: str) -> str:
    """The ``sh`` prelude: hostname, bind mounts, working directory, then ``exec "$@"``."""
    q = shlex.quote
    lines = ["set -e"]
    if hostname:
        lines.append(f"hostname {q(hostname[:HOSTNAME_MAX].rstrip('.-'))}")
    hidden = [p for p in IMAGE_PATHS if any(_covers(m.target, p) for m in mounts)][: 10 - _FIRST_FD]
    for fd, path in enumerate(hidden, start=_FIRST_FD):
        lines.append(f"exec {fd}<{q(path)}")
    for mount in mounts:
        target = q(mount.target)
        if mount.source.is_dir():
            lines.append(f"mkdir -p {target}")
        else:
            lines.append(
                f"mkdir -p {q(os.path.dirname(mount.target) or '/')}; [ -e {target} ] || touch {target}"
            )
        lines.append(f"mount --bind {q(str(mount.source))} {target}")
        if mount.read_only:
            lines.append(f"mount -o remount,bind,ro {target}")
    for fd, path in enumerate(hidden, start=_FIRST_FD):
        # --no-canonicalize: mount would resolve the fd back to the (hidden) path.
        bind = f"mount --no-canonicalize --bind /proc/self/fd/{fd} {q(path)}"
        lines.append(f"mkdir -p {q(path)} && {bind} && exec {fd}<&-")
    lines.append(f"cd {q(workdir)}")
    lines.append('exec "$@"')
    return "\n".join(lines)


def wrapper_argv(
    netns: str,
    hostname: str,
    mounts: Sequence[Mount],
    workdir: str,
    argv: Sequence[str],
    script: str | None = None,
) -> list[str]:
    """The full command line that runs ``argv`` as a container of the Pod in ``netns``.

    ``script`` replaces the default prelude (image mode, see :mod:`.imagemode`).
    """
    script = script or mount_script(hostname, mounts, workdir)
    return [
        "setpriv", "--pdeathsig", "KILL",
        "ip", "netns", "exec", netns,
        "unshare", "--uts",
        "sh", "-c", script, "sh", *argv,
    ]  # fmt: skip


def host_network_argv(
    mounts: Sequence[Mount], workdir: str, argv: Sequence[str], script: str | None = None
) -> list[str]:
    """The command line for a ``hostNetwork`` Pod: the host's network, a private mount namespace."""
    script = script or mount_script(None, mounts, workdir)
    return [
        "setpriv", "--pdeathsig", "KILL",
        "unshare", "--mount", "--propagation", "slave",
        "sh", "-c", script, "sh", *argv,
    ]  # fmt: skip


def check_executable(argv: Sequence[str], env: Mapping[str, str]) -> None:
    """Raise :class:`StartError` when a bare command name is not on the container's PATH."""
    name = argv[0]
    if "/" not in name and shutil.which(name, path=env.get("PATH")) is None:
        raise StartError(f'exec: "{name}": executable file not found in $PATH')


def exit_code(returncode: int) -> int:
    """Translate Python's negative "killed by signal" codes into the 128+N a runtime reports."""
    return 128 - returncode if returncode < 0 else returncode


class ContainerProcess:
    """One run of a container: the process, its log pumps, and its exit."""

    def __init__(self, proc: asyncio.subprocess.Process, writer: LogWriter) -> None:
        self.proc = proc
        self.pid = proc.pid
        self.writer = writer
        self.started_at = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        self.finished = False
        assert proc.stdout is not None and proc.stderr is not None
        self._pumps = [
            asyncio.create_task(self._pump(proc.stdout, "stdout")),
            asyncio.create_task(self._pump(proc.stderr, "stderr")),
        ]
        self._done = asyncio.create_task(self._wait())

    @classmethod
    async def start(
        cls, argv: Sequence[str], env: Mapping[str, str], cwd: Path, log_path: Path
    ) -> ContainerProcess:
        """Spawn the process in its own session, its output piped into the CRI log file."""
        writer = LogWriter(log_path)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                env=dict(env),
                cwd=cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            writer.close()
            raise StartError(str(exc)) from exc
        return cls(proc, writer)

    async def _pump(self, stream: asyncio.StreamReader, name: str) -> None:
        while chunk := await stream.read(65536):
            self.writer.feed(name, chunk)

    async def _wait(self) -> int:
        code = await self.proc.wait()
        # Like a runtime tearing down the container: nothing of its group outlives the main process.
        self.signal(signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*self._pumps, return_exceptions=True), timeout=5)
        for pump in self._pumps:
            pump.cancel()
        self.writer.close()
        self.finished = True
        return exit_code(code)

    async def wait(self) -> int:
        """Wait for the exit; cancelling the caller does not cancel the bookkeeping."""
        return await asyncio.shield(self._done)

    @property
    def running(self) -> bool:
        """Whether the main process has not exited yet."""
        return self.proc.returncode is None

    def signal(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the container's process group."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    async def stop(self, grace: float) -> int:
        """SIGTERM the group, wait up to ``grace`` seconds, then SIGKILL; return the exit code."""
        if self.running:
            self.signal(signal.SIGTERM)
            try:
                return await asyncio.wait_for(self.wait(), timeout=max(0.0, grace))
            except TimeoutError:
                self.signal(signal.SIGKILL)
        return await self.wait()

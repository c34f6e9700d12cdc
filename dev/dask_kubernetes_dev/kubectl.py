"""The one way the harness, the tests and the benchmarks run the pinned kubectl.

:func:`run` runs it against a kubeconfig and, when asked, fails with kubectl's own
message; :func:`get_json` parses a ``-o json`` answer; :func:`popen` starts it in
the background (``port-forward``, ``logs -f``, ``exec``).  ``retries`` rides out an
overloaded API server, for callers whose commands are idempotent.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from dask_kubernetes_dev.tools import find

__all__ = [
    "TRANSIENT_MARKERS",
    "KubectlError",
    "TransientKubectl",
    "command",
    "env",
    "get_json",
    "popen",
    "run",
]

# What kubectl prints when a starved API server times out, refuses or drops a connection.
TRANSIENT_MARKERS = ("Timeout", "timeout", "deadline exceeded", "connection refused", "EOF", "etcdserver")


class KubectlError(AssertionError, RuntimeError):
    """kubectl exited non-zero.

    An AssertionError so that a test fails with kubectl's message, and a RuntimeError
    so that a script (a benchmark) can catch it as one failed step.
    """

    def __init__(self, args: tuple[str, ...], proc: subprocess.CompletedProcess[str]) -> None:
        out = f"\n{proc.stdout.strip()}" if proc.stdout.strip() else ""
        super().__init__(f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}{out}")
        self.proc = proc


class TransientKubectl(KubectlError):
    """kubectl failed the way an overloaded API server makes it fail."""


def command(*args: str) -> list[str]:
    """The command line of the pinned kubectl with ``args``."""
    return [find("kubectl"), *args]


def env(kubeconfig: Path | str) -> dict[str, str]:
    """This process's environment with ``KUBECONFIG`` pointing at ``kubeconfig``."""
    return {**os.environ, "KUBECONFIG": str(kubeconfig)}


def transient(proc: subprocess.CompletedProcess[str]) -> bool:
    """Whether a failed kubectl looks like an overloaded API server rather than a real error."""
    return proc.returncode != 0 and any(marker in proc.stderr for marker in TRANSIENT_MARKERS)


def run(
    kubeconfig: Path | str,
    *args: str,
    check: bool = True,
    input: str | None = None,
    retries: int = 0,
) -> subprocess.CompletedProcess[str]:
    """Run kubectl ``args`` against ``kubeconfig``; raise :class:`KubectlError` on failure when ``check``.

    With ``retries``, a transient failure (see :data:`TRANSIENT_MARKERS`) is tried again
    up to that many times, after 2, 4, 6... seconds; only for idempotent commands.
    A check that fails after a transient failure raises :class:`TransientKubectl`.
    """
    for attempt in range(1, retries + 2):
        proc = subprocess.run(
            command(*args), input=input, capture_output=True, text=True, env=env(kubeconfig)
        )
        if not transient(proc) or attempt > retries:
            break
        time.sleep(2 * attempt)
    if check and proc.returncode != 0:
        raise (TransientKubectl if transient(proc) else KubectlError)(args, proc)
    return proc


def get_json(kubeconfig: Path | str, *args: str, retries: int = 0) -> Any:
    """``kubectl get ARGS -o json``, parsed; raise :class:`KubectlError` when it fails."""
    return json.loads(run(kubeconfig, "get", *args, "-o", "json", retries=retries).stdout)


def popen(kubeconfig: Path | str, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
    """Start kubectl ``args`` in the background against ``kubeconfig`` (text mode)."""
    return subprocess.Popen(command(*args), env=env(kubeconfig), text=True, **kwargs)

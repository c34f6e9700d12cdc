"""The kubelet endpoint with exec, attach and port-forward (node agent, test infrastructure only).

``kubectl exec``, ``attach`` and ``port-forward`` reach a node through the API server,
which speaks the kubelet's streaming protocols (SPDY upgrades with several streams) to
the Node's kubelet endpoint.  Those protocols are served by the Kubernetes library that
the kubelet itself uses, in the Go ``kubelet-streaming`` component of the control-plane
binary (``controlplane/kubelet_streaming.go``).  :class:`StreamingEndpoint` starts that
component as a child of the agent; it becomes the HTTPS endpoint the Node publishes and
forwards every other kubelet path (``/containerLogs``, ``/healthz``) to the agent's own
HTTP server, which then listens on a unix socket only root can open.

For each request the Go side asks the agent, on that socket, where a Pod runs:
``GET /agent/v1/pods/{namespace}/{pod}`` answers with :func:`pod_info`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from dask_kubernetes_dev.nodeagent.pod import PodWorker

log = logging.getLogger(__name__)

NETNS_DIR = Path("/var/run/netns")  # where ``ip netns add`` keeps its namespaces
START_TIMEOUT = 120.0
STOP_TIMEOUT = 5.0
POD_INFO_PATH = "/agent/v1/pods/{namespace}/{pod}"


def pod_info(
    *,
    name: str,
    namespace: str,
    uid: str,
    host_network: bool,
    netns: str | None,
    containers: Mapping[str, tuple[int, str]],
) -> dict[str, Any]:
    """What the Go side needs to exec into or forward to a Pod.

    ``containers`` maps each container name to the pid of its running process (0 when
    it is not running) and the CRI log file of its current run ("" before the first).
    """
    return {
        "name": name,
        "namespace": namespace,
        "uid": uid,
        "hostNetwork": host_network,
        "netns": "" if host_network or not netns else str(NETNS_DIR / netns),
        "containers": {c: {"pid": pid, "logPath": path} for c, (pid, path) in containers.items()},
    }


def worker_info(worker: PodWorker) -> dict[str, Any]:
    """:func:`pod_info` of a running Pod worker."""
    containers = {}
    for name in [*worker.init_records, *worker.records]:
        proc = worker.procs.get(name)
        pid = proc.pid if proc is not None and proc.running else 0
        containers[name] = (pid, str(proc.writer.path) if proc is not None else "")
    return pod_info(
        name=worker.name,
        namespace=worker.namespace,
        uid=worker.uid,
        host_network=bool(worker.spec.get("hostNetwork")),
        netns=worker.net.netns if worker.net is not None else None,
        containers=containers,
    )


PodLookup = Callable[[str, str], dict[str, Any] | None]


def pod_routes(lookup: PodLookup) -> list[web.RouteDef]:
    """The agent's private API for the Go side, served next to the log endpoint."""

    async def handle(request: web.Request) -> web.Response:
        namespace, pod = request.match_info["namespace"], request.match_info["pod"]
        info = lookup(namespace, pod)
        if info is None:
            message = f'pod "{pod}" in namespace "{namespace}" is not on this node'
            return web.Response(status=404, text=message)
        return web.json_response(info)

    return [web.get(POD_INFO_PATH, handle)]


class StreamingError(RuntimeError):
    """The Go kubelet-streaming component did not start, or exited while the agent needed it."""


class StreamingEndpoint:
    """The ``controlplane kubelet-streaming`` child process: the Node's kubelet endpoint."""

    def __init__(
        self, binary: Path, host: str, *, cert: Path, key: Path, client_ca: Path, agent_socket: Path
    ) -> None:
        self.binary = binary
        self.host = host
        self.cert, self.key = cert, key
        self.client_ca = client_ca
        self.agent_socket = agent_socket
        self.port = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._stopping = False

    def argv(self) -> list[str]:
        """The command line; ``setpriv`` makes the child die with the agent, however it ends."""
        return [
            "setpriv", "--pdeathsig", "TERM",
            str(self.binary), "kubelet-streaming",
            f"--listen={self.host}:0",
            f"--tls-cert-file={self.cert}",
            f"--tls-private-key-file={self.key}",
            f"--client-ca-file={self.client_ca}",
            f"--agent-socket={self.agent_socket}",
        ]  # fmt: skip

    async def start(self) -> int:
        """Start the child and return the port it listens on (its first line of output)."""
        self._proc = await asyncio.create_subprocess_exec(
            *self.argv(), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE
        )
        assert self._proc.stdout is not None
        try:
            line = await asyncio.wait_for(self._proc.stdout.readline(), START_TIMEOUT)
        except TimeoutError:
            await self.stop()
            message = f"kubelet-streaming printed no address within {START_TIMEOUT:.0f}s"
            raise StreamingError(message) from None
        address = line.decode().strip()
        if not address:
            code = await self._proc.wait()
            raise StreamingError(f"kubelet-streaming exited with code {code} before listening (see its log)")
        self.port = int(address.rsplit(":", 1)[1])
        log.info("kubelet-streaming (pid %d) serves %s", self._proc.pid, address)
        return self.port

    async def watch(self) -> None:
        """Return never while the child runs; raise :class:`StreamingError` if it exits unasked."""
        assert self._proc is not None
        code = await self._proc.wait()
        if not self._stopping:
            raise StreamingError(f"kubelet-streaming exited with code {code}")

    async def stop(self) -> None:
        """SIGTERM the child (which kills the commands it exec'd), SIGKILL after a grace period."""
        self._stopping = True
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()

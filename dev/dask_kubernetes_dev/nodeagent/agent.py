"""The node agent's top level: wiring, watches and shutdown (test infrastructure only).

:class:`Agent` builds the bridge, starts the log server (behind the Go streaming endpoint
for exec and port-forward, :mod:`.streaming`, when given the binary), registers the Node, then
watches three things: the Pods bound to this node (one :class:`PodWorker` task each),
and Services and EndpointSlices (for the per-Pod hosts files).  On SIGTERM it kills
every Pod process and removes every namespace, veth and the bridge it created, so a
stopped control plane leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from dask_kubernetes_dev.image.store import ImageStore
from dask_kubernetes_dev.nodeagent.api import ApiError, KubeAPI
from dask_kubernetes_dev.nodeagent.config import AgentConfig
from dask_kubernetes_dev.nodeagent.hosts import HostsFiles, ServiceIndex
from dask_kubernetes_dev.nodeagent.image import install_shims
from dask_kubernetes_dev.nodeagent.logs import LogLookupError, LogServer, LogSource, write_serving_certificate
from dask_kubernetes_dev.nodeagent.network import Network
from dask_kubernetes_dev.nodeagent.node import CAPACITY, NodeAgentNode
from dask_kubernetes_dev.nodeagent.pod import PodWorker
from dask_kubernetes_dev.nodeagent.podcontext import PodContext
from dask_kubernetes_dev.nodeagent.status import TERMINAL_PHASES
from dask_kubernetes_dev.nodeagent.streaming import StreamingEndpoint, pod_routes, worker_info

log = logging.getLogger(__name__)

SETUP_CONCURRENCY = 16
SHUTDOWN_TIMEOUT = 10.0


def image_store(layout: Path | None) -> ImageStore | None:
    """The store of image mode; root filesystems are unpacked next to it and kept across runs."""
    if layout is None:
        return None
    log.info("image mode: Pods whose image is in %s run inside it", layout)
    return ImageStore.at(layout)


class Agent:
    """One node agent: a Node, its Pods, and their network."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.workers: dict[str, PodWorker] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.by_name: dict[tuple[str, str], PodWorker] = {}
        self.index = ServiceIndex()
        self.hosts = HostsFiles(str(config.gateway), self.index)
        self.network = Network(config)
        self.ctx: PodContext | None = None

    async def run(self) -> int:
        """Serve until SIGTERM or SIGINT, then clean up everything; return the exit status."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        api = KubeAPI.from_kubeconfig(self.config.kubeconfig)
        http = aiohttp.ClientSession()
        logs = LogServer(
            str(self.config.gateway), self.config.state_dir / "pki", self._log_source, pod_routes(self._pod)
        )
        streaming = self._streaming_endpoint()
        serve = asyncio.create_task(self._serve(api, http, logs, streaming))
        stopped = asyncio.create_task(stop.wait())
        failed = False
        try:
            await asyncio.wait({serve, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if serve.done() and serve.exception() is not None:
                log.error("node agent failed", exc_info=serve.exception())
                failed = True
        finally:
            serve.cancel()
            stopped.cancel()
            await asyncio.gather(serve, stopped, return_exceptions=True)
            await self._shutdown()
            if streaming is not None:
                await streaming.stop()
            await logs.stop()
            await http.close()
            await api.close()
        log.info("node agent stopped")
        return 1 if failed else 0

    def _streaming_endpoint(self) -> StreamingEndpoint | None:
        """The Go kubelet endpoint with exec and port-forward, when the agent was given the binary."""
        config = self.config
        if config.kubelet_binary is None:
            return None
        cert, key = write_serving_certificate(config.state_dir / "pki", str(config.gateway))
        return StreamingEndpoint(
            config.kubelet_binary,
            str(config.gateway),
            cert=cert,
            key=key,
            client_ca=config.ca_file,
            agent_socket=config.state_dir / "agent.sock",
        )

    async def _serve(
        self,
        api: KubeAPI,
        http: aiohttp.ClientSession,
        logs: LogServer,
        streaming: StreamingEndpoint | None,
    ) -> None:
        await self.network.setup_bridge()
        python_bin = os.path.dirname(sys.executable)
        search = f"{python_bin}:{os.environ.get('PATH', '')}"
        shims = install_shims(self.config.state_dir / "bin", sys.executable, search)
        if shims:
            log.info("image command shims: %s", ", ".join(shims))
        watches = []
        if streaming is None:
            port = await logs.start()
        else:
            await logs.start_unix(streaming.agent_socket)
            port = await streaming.start()
            watches.append(streaming.watch())
        node = NodeAgentNode(api, self.config)
        await node.register(port)
        self.ctx = PodContext(
            api=api,
            config=self.config,
            network=self.network,
            hosts=self.hosts,
            http=http,
            setup_slots=asyncio.Semaphore(SETUP_CONCURRENCY),
            allocatable=CAPACITY,
            images=image_store(self.config.image_store),
        )
        log.info(
            "node %s registered; kubelet endpoint %s:%d", self.config.node_name, self.config.gateway, port
        )
        pods = f"spec.nodeName={self.config.node_name}"
        await asyncio.gather(
            node.heartbeat(),
            self.hosts.run(),
            self._consume(
                api,
                "/api/v1/services",
                None,
                self._indexing(self.index.set_services, self.index.service_event),
            ),
            self._consume(
                api,
                "/apis/discovery.k8s.io/v1/endpointslices",
                None,
                self._indexing(self.index.set_slices, self.index.slice_event),
            ),
            self._consume(api, "/api/v1/pods", {"fieldSelector": pods}, self._on_pod),
            *watches,
        )

    async def _consume(
        self,
        api: KubeAPI,
        path: str,
        params: dict[str, str] | None,
        handle: Callable[[str, Any], Awaitable[None]],
    ) -> None:
        async for kind, obj in api.watch(path, params):
            try:
                await handle(kind, obj)
            except Exception:  # one bad event must not end the watch
                log.exception("handling %s event on %s failed", kind, path)

    def _indexing(
        self, set_all: Callable[[Any], None], event: Callable[[str, Any], None]
    ) -> Callable[[str, Any], Awaitable[None]]:
        """A watch handler keeping one part of the Service index current, and the hosts files with it."""

        async def handle(kind: str, obj: Any) -> None:
            if kind == "SYNC":
                set_all(obj)
            else:
                event(kind, obj)
            self.hosts.changed()

        return handle

    async def _on_pod(self, kind: str, obj: Any) -> None:
        if kind == "SYNC":
            listed = {pod["metadata"]["uid"] for pod in obj}
            for uid, stale in list(self.workers.items()):
                if uid not in listed:
                    stale.gone()
            for pod in obj:
                await self._on_pod("MODIFIED", pod)
            return
        uid = obj["metadata"]["uid"]
        worker = self.workers.get(uid)
        if kind == "DELETED":
            if worker is not None:
                worker.gone()
            return
        if worker is None:
            if (obj.get("status") or {}).get("phase") in TERMINAL_PHASES:
                await self._adopt_finished(obj)
                return
            worker = self._start_worker(obj)
        worker.update(obj)

    def _start_worker(self, pod: dict[str, Any]) -> PodWorker:
        assert self.ctx is not None
        worker = PodWorker(self.ctx, pod)
        self.workers[worker.uid] = worker
        self.by_name[worker.key] = worker
        self.tasks[worker.uid] = asyncio.create_task(self._run_worker(worker))
        return worker

    async def _run_worker(self, worker: PodWorker) -> None:
        try:
            await worker.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("pod worker %s/%s crashed", worker.namespace, worker.name)
        finally:
            self.workers.pop(worker.uid, None)
            self.tasks.pop(worker.uid, None)
            if self.by_name.get(worker.key) is worker:
                del self.by_name[worker.key]

    async def _adopt_finished(self, pod: dict[str, Any]) -> None:
        """A Pod that finished before this agent started: nothing runs; delete it once asked to."""
        meta = pod["metadata"]
        if not meta.get("deletionTimestamp"):
            return
        assert self.ctx is not None
        body = {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0,
                "preconditions": {"uid": meta["uid"]}}  # fmt: skip
        with contextlib.suppress(ApiError):
            await self.ctx.api.delete(f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}", body)

    def _log_source(self, namespace: str, pod: str, container: str, previous: bool) -> LogSource:
        worker = self.by_name.get((namespace, pod))
        if worker is None:
            raise LogLookupError(404, f'pod "{pod}" in namespace "{namespace}" is not on this node')
        return worker.log_source(container, previous)

    def _pod(self, namespace: str, pod: str) -> dict[str, Any] | None:
        worker = self.by_name.get((namespace, pod))
        return None if worker is None else worker_info(worker)

    async def _shutdown(self) -> None:
        """Stop every Pod's processes (briefly graceful), then remove all network devices."""
        for worker in list(self.workers.values()):
            worker.shutdown()
        tasks = list(self.tasks.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_TIMEOUT)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await self.network.teardown()
        except Exception:
            log.exception("network teardown failed")

"""One Pod's lifecycle on the node agent, as one asyncio task (test infrastructure only).

:class:`PodWorker` does what the kubelet's pod worker does, in miniature: sandbox
(network namespace, hosts file, volumes), init containers in order, then all
containers (each kept going by a :class:`.containers.ContainerRunner`), status
writes, and graceful deletion.  A failure in one Pod is reported in that Pod's status and
never takes the agent down.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import shutil
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from dask_kubernetes_dev.nodeagent import status as st
from dask_kubernetes_dev.nodeagent.api import ApiError, Backoff
from dask_kubernetes_dev.nodeagent.containers import ContainerRunner, PodFailed
from dask_kubernetes_dev.nodeagent.hosts import PodHosts, host_aliases, pod_hostnames
from dask_kubernetes_dev.nodeagent.logs import LogLookupError, LogSource
from dask_kubernetes_dev.nodeagent.network import NetworkError, PodNetwork, kill_namespace_processes
from dask_kubernetes_dev.nodeagent.podcontext import PodContext
from dask_kubernetes_dev.nodeagent.runtime import ContainerProcess
from dask_kubernetes_dev.nodeagent.volumes import PodVolumes, UnsupportedVolume, VolumeNotReady

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 3.0
FORCE_DELETE_GRACE = 2.0


class PodWorker:
    """Runs one Pod from its first sighting to its removal."""

    def __init__(self, ctx: PodContext, pod: dict[str, Any]) -> None:
        self.ctx = ctx
        self.pod = pod
        meta = pod["metadata"]
        self.uid: str = meta["uid"]
        self.name: str = meta["name"]
        self.namespace: str = meta["namespace"]
        self.spec: dict[str, Any] = pod.get("spec") or {}
        # Pod names may be 253 characters long; file names may not be much longer.
        self.dir = ctx.config.state_dir / "pods" / f"{self.namespace}_{self.name[:100]}_{self.uid}"
        self.host_ip = str(ctx.config.gateway)
        init = self.spec.get("initContainers") or []
        app_reason = "PodInitializing" if init else "ContainerCreating"
        self.init_records = {
            c["name"]: st.ContainerRecord(c["name"], c.get("image", ""), reason="PodInitializing")
            for c in init
        }
        self.records = {
            c["name"]: st.ContainerRecord(c["name"], c.get("image", ""), reason=app_reason)
            for c in self.spec.get("containers") or []
        }
        self.procs: dict[str, ContainerProcess] = {}
        self.net: PodNetwork | None = None
        self.hosts_key: str | None = None
        self.volumes = PodVolumes(
            ctx.api,
            pod,
            self.dir,
            ca_file=ctx.config.ca_file,
            host_ip=self.host_ip,
            allocatable=ctx.allocatable,
        )
        self.start_time: datetime.datetime | None = None
        self.sandbox = False
        self.initialized = False
        self.failure: tuple[str, str] | None = None
        self.final_phase: str | None = None
        self.clock = st.ConditionClock()
        self.done = asyncio.Event()
        self._dirty = asyncio.Event()
        self._stop = asyncio.Event()
        self._grace = 30.0
        self._delete_from_api = False
        self._quiet = False
        self._background: set[asyncio.Task[Any]] = set()
        self._sidecars: list[asyncio.Task[Any]] = []
        self._last_status: dict[str, Any] | None = None

    # Identity and small helpers ---------------------------------------------------
    @property
    def key(self) -> tuple[str, str]:
        """Namespace and name, how the log server looks Pods up."""
        return self.namespace, self.name

    @property
    def path(self) -> str:
        """API path of the Pod."""
        return f"/api/v1/namespaces/{self.namespace}/pods/{self.name}"

    @property
    def restart_policy(self) -> str:
        """The Pod's restartPolicy, defaulted as the API server does."""
        return self.spec.get("restartPolicy") or "Always"

    @property
    def pod_ip(self) -> str | None:
        """The Pod's IP once its sandbox exists."""
        if self.spec.get("hostNetwork"):
            return self.host_ip if self.sandbox else None
        return str(self.net.ip) if self.net else None

    @property
    def hostname(self) -> str:
        """The Pod's hostname: ``spec.hostname`` or its name."""
        return self.spec.get("hostname") or self.name

    def mark(self) -> None:
        """Ask for a status write; bursts of changes become one PATCH."""
        self._dirty.set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a helper task that ends with the Pod (token refresh, probe kills)."""
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    def log_path(self, name: str, run: int) -> Path:
        """Log file of one run of a container, numbered like the kubelet's restartCount."""
        return self.dir / "logs" / name / f"{run}.log"

    # Events from the agent ----------------------------------------------------------
    def update(self, pod: dict[str, Any]) -> None:
        """Take a newer version of the Pod; a deletionTimestamp starts graceful termination."""
        self.pod = pod
        meta = pod.get("metadata") or {}
        if meta.get("deletionTimestamp"):
            value = meta.get("deletionGracePeriodSeconds")
            grace = float(value if value is not None else self.termination_grace())
            if not self._stop.is_set():
                self._request_stop(grace, delete=True)
            elif grace < self._grace and self._delete_from_api:  # deleted again with a shorter grace period
                self._grace = grace
                self.spawn(self._kill_after(grace))
        self.mark()

    async def _kill_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        for proc in self.procs.values():
            proc.signal(signal.SIGKILL)

    def gone(self) -> None:
        """The Pod vanished from the API (force deletion): stop quickly, no API calls."""
        if not self._stop.is_set():
            self._quiet = True
            self._request_stop(FORCE_DELETE_GRACE, delete=False)

    def shutdown(self) -> None:
        """The agent stops: kill the Pod's processes soon, leave the API alone."""
        self._quiet = True
        self._grace = min(self._grace, SHUTDOWN_GRACE)
        self._request_stop(SHUTDOWN_GRACE, delete=False)

    def _request_stop(self, grace: float, *, delete: bool) -> None:
        self._grace = grace
        self._delete_from_api = delete
        self._stop.set()

    def termination_grace(self) -> float:
        """The Pod's terminationGracePeriodSeconds, 30 by default."""
        value = self.spec.get("terminationGracePeriodSeconds")
        return float(30 if value is None else value)

    # Logs ---------------------------------------------------------------------------
    def log_source(self, container: str, previous: bool) -> LogSource:
        """The log file ``kubectl logs`` asks for, or :class:`LogLookupError` as the kubelet would say."""
        record = self.records.get(container) or self.init_records.get(container)
        if record is None:
            raise LogLookupError(400, f"container {container} is not valid for pod {self.name}")
        if previous:
            path = self.log_path(container, record.restart_count - 1)
            if record.restart_count == 0 or not path.exists():
                raise LogLookupError(
                    400, f'previous terminated container "{container}" in pod "{self.name}" not found'
                )
            return LogSource(path, lambda: True)
        path = self.log_path(container, record.restart_count)
        if not path.exists():
            raise LogLookupError(
                400, f'container "{container}" in pod "{self.name}" is waiting to start: {record.reason}'
            )

        def finished() -> bool:
            proc = self.procs.get(container)
            return proc is None or proc.finished or proc.writer.path != path

        return LogSource(path, finished)

    # Main ---------------------------------------------------------------------------
    async def run(self) -> None:
        """Run the Pod until it is deleted (or the agent stops), then clean everything up."""
        writer = asyncio.create_task(self._status_writer())
        life = None if self._stop.is_set() else asyncio.create_task(self._lifecycle())
        deadline = self.spec.get("activeDeadlineSeconds")
        if deadline is not None and life is not None:
            self.spawn(self._deadline(float(deadline), life))
        try:
            await self._stop.wait()
            if life is not None:
                life.cancel()
                await asyncio.gather(life, return_exceptions=True)
            await self._stop_containers(self._grace)
            if self._delete_from_api and not self._quiet:
                await self._final_status(writer)
        finally:
            writer.cancel()
            for task in list(self._background):
                task.cancel()
            await self._teardown()
        if self._delete_from_api and not self._quiet:
            await self._delete()
        self.done.set()

    async def _lifecycle(self) -> None:
        try:
            await self._prepare()
            await self._run_init_containers()
            self.initialized = True
            self.mark()
            await self._run_containers()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bad Pod must never take the agent down
            while isinstance(exc, ExceptionGroup) and exc.exceptions:
                exc = exc.exceptions[0]
            if isinstance(exc, PodFailed):
                log.warning("pod %s/%s failed: %s", self.namespace, self.name, exc.message)
                self.failure = (exc.reason, exc.message)
            else:
                log.error("pod %s/%s: unexpected error", self.namespace, self.name, exc_info=exc)
                self.failure = ("NodeAgentError", f"{type(exc).__name__}: {exc}")
            await self._stop_containers(self.termination_grace())
            self._fail_waiting()
            self.mark()

    def _fail_waiting(self) -> None:
        """Show the failure on containers that never started, as ``kubectl get pods`` reads it there."""
        assert self.failure is not None
        for record in [*self.init_records.values(), *self.records.values()]:
            if record.state == "waiting":
                record.waiting(*self.failure)

    async def _deadline(self, seconds: float, life: asyncio.Task[None]) -> None:
        await asyncio.sleep(seconds)
        if life.done() or self._stop.is_set():
            return
        life.cancel()
        await asyncio.gather(life, return_exceptions=True)
        await self._stop_containers(self.termination_grace())
        self.failure = ("DeadlineExceeded", "Pod was active on the node longer than the specified deadline")
        self.mark()

    # Sandbox ------------------------------------------------------------------------
    async def _prepare(self) -> None:
        self.start_time = st.now()
        self.mark()
        try:
            self.volumes.check()
        except UnsupportedVolume as exc:
            raise PodFailed("UnsupportedVolume", str(exc)) from exc
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "cwd").mkdir(exist_ok=True)
        async with self.ctx.setup_slots:
            await self._create_sandbox()
        backoff = Backoff(1.0, 10.0)
        while True:
            try:
                await self.volumes.prepare(self.pod_ip)
                break
            except VolumeNotReady as exc:
                for record in [*self.init_records.values(), *self.records.values()]:
                    record.message = str(exc)
                self.mark()
                await asyncio.sleep(backoff.next())
            except UnsupportedVolume as exc:
                raise PodFailed("UnsupportedVolume", str(exc)) from exc
        for record in [*self.init_records.values(), *self.records.values()]:
            record.message = None
        if self.volumes.tokens:
            self.spawn(self.volumes.keep_tokens_fresh())
        if self.volumes.synced:
            self.spawn(self.volumes.keep_sources_fresh())

    async def _create_sandbox(self) -> None:
        hosts = self.ctx.hosts
        if self.spec.get("hostNetwork"):
            self.hosts_key = f"{self.ctx.config.netns_prefix}host-{self.uid[:8]}"
            hosts.add(
                self.hosts_key,
                PodHosts(self.namespace, self.host_ip, (self.hostname,), host_aliases(self.pod)),
            )
            self.sandbox = True
            self.mark()
            return
        backoff = Backoff(1.0, 8.0)
        for attempt in range(5):
            try:
                self.net = await self.ctx.network.create(self.uid)
                break
            except NetworkError as exc:
                log.warning(
                    "pod %s/%s: sandbox attempt %d failed: %s", self.namespace, self.name, attempt, exc
                )
                await asyncio.sleep(backoff.next())
        else:
            raise PodFailed("FailedCreatePodSandBox", "could not create the Pod's network namespace")
        self.hosts_key = self.net.netns
        hosts.add(
            self.net.netns,
            PodHosts(self.namespace, str(self.net.ip), pod_hostnames(self.pod), host_aliases(self.pod)),
        )
        self.sandbox = True
        self.mark()

    async def _teardown(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(Exception):
                await proc.stop(0)
        if self.hosts_key:
            self.ctx.hosts.remove(self.hosts_key)
        if self.net is not None:
            try:
                await self.ctx.network.destroy(self.net)
            except Exception:
                log.exception("pod %s/%s: network cleanup failed", self.namespace, self.name)
            self.net = None
        shutil.rmtree(self.dir, ignore_errors=True)

    # Containers ---------------------------------------------------------------------
    async def _run_init_containers(self) -> None:
        for container in self.spec.get("initContainers") or []:
            if container.get("restartPolicy") == "Always":  # a sidecar: start it and go on once started
                self._sidecars.append(
                    self.spawn(self._runner(container, init=True, sidecar=True).supervise())
                )
                record = self.init_records[container["name"]]
                while not record.started:
                    await asyncio.sleep(0.2)
                continue
            code = await self._runner(container, init=True).supervise()
            if code != 0:
                self.final_phase = st.FAILED
                self.mark()
                await asyncio.Event().wait()  # stay Failed until deleted

    async def _run_containers(self) -> None:
        async with asyncio.TaskGroup() as group:
            for container in self.spec.get("containers") or []:
                group.create_task(self._runner(container, init=False).supervise())
        for task in self._sidecars:  # sidecars end after the main containers, and do not restart
            task.cancel()
        await asyncio.gather(*self._sidecars, return_exceptions=True)
        await self._stop_containers(self.termination_grace())
        self.final_phase = st.pod_phase(
            self.restart_policy,
            list(self.init_records.values()),
            list(self.records.values()),
            initialized=True,
        )
        self.mark()

    def _runner(self, container: dict[str, Any], *, init: bool, sidecar: bool = False) -> ContainerRunner:
        record = (self.init_records if init else self.records)[container["name"]]
        return ContainerRunner(self, container, record, init=init, sidecar=sidecar)

    # Termination --------------------------------------------------------------------
    async def _stop_containers(self, grace: float) -> None:
        running = [(name, proc) for name, proc in self.procs.items() if proc.running]
        codes = await asyncio.gather(*(proc.stop(grace) for _, proc in running))
        for (name, _), code in zip(running, codes, strict=True):
            record = self.records.get(name) or self.init_records.get(name)
            if record is not None and record.state == "running":
                record.terminated(code, st.now())
        if self.net is not None:
            await kill_namespace_processes(self.net.netns)

    async def _final_status(self, writer: asyncio.Task[None]) -> None:
        """Publish the terminated containers once, as the kubelet does before deleting the Pod."""
        if self.final_phase is None and self.failure is None:
            codes = [r.exit_code for r in self.records.values()]
            ok = bool(codes) and all(code == 0 for code in codes)
            self.final_phase = st.SUCCEEDED if ok else st.FAILED
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
        with contextlib.suppress(ApiError):
            await self._patch_status(retry_for=10)

    async def _delete(self) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "gracePeriodSeconds": 0,
            "preconditions": {"uid": self.uid},
        }
        try:
            await self.ctx.api.delete(self.path, body)
        except ApiError as exc:
            if exc.status not in (404, 409):
                log.warning("pod %s/%s: final delete failed: %s", self.namespace, self.name, exc)

    # Status -------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """The Pod status as of now."""
        reason = message = None
        if self.failure is not None:
            phase = st.FAILED
            reason, message = self.failure
        elif self.final_phase is not None:
            phase = self.final_phase
        else:
            phase = st.pod_phase(
                self.restart_policy,
                list(self.init_records.values()),
                list(self.records.values()),
                initialized=self.initialized,
            )
        existing = (self.pod.get("status") or {}).get("conditions") or []
        own = st.pod_conditions(
            self.clock,
            phase,
            sandbox=self.sandbox,
            initialized=self.initialized or phase == st.SUCCEEDED,
            records=list(self.records.values()),
            unmet_gates=st.readiness_gates_met(self.spec, existing),
        )
        return st.pod_status(
            phase=phase,
            conditions=st.merge_conditions(own, existing),
            host_ip=self.host_ip,
            pod_ip=self.pod_ip,
            start_time=self.start_time,
            init_records=list(self.init_records.values()),
            records=list(self.records.values()),
            reason=reason,
            message=message,
            generation=(self.pod.get("metadata") or {}).get("generation"),
        )

    async def _patch_status(self, retry_for: float | None = None) -> None:
        body = {"status": self.status()}
        if body == self._last_status:
            return
        await self.ctx.api.merge_patch(self.path + "/status", body, retry_for=retry_for)
        self._last_status = body

    async def _status_writer(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            if self._quiet:
                continue
            try:
                await self._patch_status()
            except ApiError as exc:
                if exc.status == 404:
                    return
                log.warning("pod %s/%s: status update failed: %s", self.namespace, self.name, exc)
            await asyncio.sleep(0.05)

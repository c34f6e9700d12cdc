"""One container's runs on the node agent: start, probe, restart (test infrastructure only).

:class:`ContainerRunner` keeps one container going the way the kubelet does: it resolves
the environment and command, starts the process inside the Pod's sandbox, gates
readiness and liveness on the startup probe, and restarts per ``restartPolicy`` with
the kubelet's back-off and ``CrashLoopBackOff`` reason, which cluster managers look for.
The Pod-level order (init containers first, sidecars, deletion) stays in :mod:`.pod`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Coroutine, Mapping
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dask_kubernetes_dev.image.store import StoreError
from dask_kubernetes_dev.nodeagent import env as envmod
from dask_kubernetes_dev.nodeagent import imagemode
from dask_kubernetes_dev.nodeagent import status as st
from dask_kubernetes_dev.nodeagent.api import Backoff
from dask_kubernetes_dev.nodeagent.probes import ProbeTiming, make_check, run_probe
from dask_kubernetes_dev.nodeagent.runtime import (
    ContainerProcess,
    Mount,
    StartError,
    check_executable,
    host_network_argv,
    wrapper_argv,
)
from dask_kubernetes_dev.nodeagent.volumes import UnsupportedVolume, container_mounts

if TYPE_CHECKING:
    from dask_kubernetes_dev.nodeagent.network import PodNetwork
    from dask_kubernetes_dev.nodeagent.podcontext import PodContext
    from dask_kubernetes_dev.nodeagent.volumes import PodVolumes

log = logging.getLogger(__name__)


class PodFailed(Exception):
    """The Pod cannot run at all; it goes to phase Failed with this reason and message."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class CrashBackoff:
    """The kubelet's restart back-off: first restart at once, then 10 s doubling, capped.

    The cap is 30 s rather than the kubelet's 5 min so tests do not wait long; a run that
    lasted ``reset_after`` seconds starts the sequence again.
    """

    def __init__(self, initial: float = 10.0, cap: float = 30.0, reset_after: float = 60.0) -> None:
        self.initial, self.cap, self.reset_after = initial, cap, reset_after
        self.delay = 0.0

    def next(self, ran_for: float) -> float:
        """Delay before restarting a container whose last run lasted ``ran_for`` seconds."""
        if ran_for >= self.reset_after:
            self.delay = 0.0
        delay = self.delay
        self.delay = self.initial if delay == 0 else min(self.cap, delay * 2)
        return delay


def should_restart(policy: str, code: int) -> bool:
    """Whether a container that exited with ``code`` restarts under ``policy``."""
    return policy == "Always" or (policy == "OnFailure" and code != 0)


def container_policy(pod_policy: str, *, init: bool, sidecar: bool) -> str:
    """The restart policy one container follows: sidecars always, init containers until success."""
    if sidecar:
        return "Always"
    if init:
        return "Never" if pod_policy == "Never" else "OnFailure"
    return pod_policy


class PodHandle(Protocol):
    """What a container needs from its Pod worker (see :class:`.pod.PodWorker`)."""

    ctx: PodContext
    pod: dict[str, Any]
    spec: dict[str, Any]
    uid: str
    name: str
    namespace: str
    dir: Path
    host_ip: str
    net: PodNetwork | None
    hosts_key: str | None
    volumes: PodVolumes
    procs: dict[str, ContainerProcess]

    @property
    def pod_ip(self) -> str | None: ...  # noqa: D102

    @property
    def hostname(self) -> str: ...  # noqa: D102

    @property
    def restart_policy(self) -> str: ...  # noqa: D102

    def mark(self) -> None: ...  # noqa: D102

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]: ...  # noqa: D102

    def termination_grace(self) -> float: ...  # noqa: D102

    def log_path(self, name: str, run: int) -> Path: ...  # noqa: D102


@dataclass(eq=False, repr=False)
class ContainerRunner:
    """Runs one container of a Pod, again and again as its restart policy says."""

    pod: PodHandle
    container: dict[str, Any]
    record: st.ContainerRecord
    _: KW_ONLY
    init: bool
    sidecar: bool
    name: str = field(init=False)
    image_run: imagemode.ImageRun | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.name = self.container["name"]

    async def supervise(self) -> int:
        """Run until the container ends for good under its restart policy; return its last exit code."""
        pod, record = self.pod, self.record
        policy = container_policy(pod.restart_policy, init=self.init, sidecar=self.sidecar)
        backoff = CrashBackoff()
        loop = asyncio.get_running_loop()
        while True:
            began = loop.time()
            code = await self._run_once()
            if not should_restart(policy, code):
                return code
            delay = backoff.next(loop.time() - began)
            if delay:
                record.waiting(
                    "CrashLoopBackOff",
                    f"back-off {delay:.0f}s restarting failed container={self.name} "
                    f"pod={pod.name}_{pod.namespace}({pod.uid})",
                )
                pod.mark()
                await asyncio.sleep(delay)
            record.restart_count += 1

    async def _config(self) -> tuple[list[str], dict[str, str]]:
        pod = self.pod
        names, secret_names = envmod.referenced_names([self.container])
        configmaps = {n: await self._optional("configmaps", n) for n in names}
        secrets = {n: await self._optional("secrets", n) for n in secret_names}
        config = pod.ctx.config
        k8s_env = envmod.container_env(
            pod.pod,
            self.container,
            configmaps=configmaps,
            secrets=secrets,
            service_env=envmod.service_env(str(config.gateway), config.api_server_port),
            pod_ip=pod.pod_ip,
            host_ip=pod.host_ip,
            allocatable=pod.ctx.allocatable,
        )
        self.image_run = await self._image()
        if self.image_run is not None:
            argv = imagemode.command_line(self.container, self.image_run.config, k8s_env)
            return argv, {**imagemode.image_env(self.image_run, pod.hostname), **k8s_env}
        argv = envmod.command_line(self.container, k8s_env)
        shims = str(config.state_dir / "bin")
        image = envmod.image_env(os.environ, os.path.dirname(sys.executable), pod.hostname, shims)
        return argv, {**image, **k8s_env}

    async def _image(self) -> imagemode.ImageRun | None:
        """The image to run in (image mode), when the agent has a store that holds this image."""
        store = self.pod.ctx.images
        stored = store.find(self.container.get("image") or "") if store is not None else None
        if store is None or stored is None:
            return None
        bundle = await asyncio.to_thread(store.bundle, stored)
        config = store.config(stored)
        rootfs = bundle / "rootfs"
        uid, gid, groups = imagemode.identity(self.pod.pod, self.container, rootfs, config)
        read_only = bool((self.container.get("securityContext") or {}).get("readOnlyRootFilesystem"))
        return imagemode.ImageRun(stored, rootfs, config, uid, gid, groups, read_only)

    async def _optional(self, kind: str, name: str) -> dict[str, Any] | None:
        return await self.pod.ctx.api.get_optional(f"/api/v1/namespaces/{self.pod.namespace}/{kind}/{name}")

    def _argv(self, argv: list[str], env: Mapping[str, str]) -> list[str]:
        pod = self.pod
        volumes = pod.volumes
        mounts = container_mounts(
            self.container, volumes.paths, volumes.kinds, env, default_token=volumes.default_token
        )
        run = self.image_run
        if run is not None:
            assert pod.hosts_key is not None
            mounts = [*imagemode.etc_mounts(pod.ctx.hosts.directory(pod.hosts_key)), *mounts]
            workdir = imagemode.workdir(self.container, run.config)
            host_network = bool(pod.spec.get("hostNetwork"))
            script = imagemode.mount_script(
                run, pod.dir / "roots" / self.name, None if host_network else pod.hostname, mounts, workdir
            )
            if host_network:
                return host_network_argv([], workdir, argv, script=script)
            assert pod.net is not None
            return wrapper_argv(pod.net.netns, pod.hostname, [], workdir, argv, script=script)
        workdir = self.container.get("workingDir") or str(pod.dir / "cwd")
        if pod.spec.get("hostNetwork"):
            assert pod.hosts_key is not None
            etc = pod.ctx.hosts.directory(pod.hosts_key)
            return host_network_argv([Mount(etc / "hosts", "/etc/hosts", True), *mounts], workdir, argv)
        assert pod.net is not None
        return wrapper_argv(pod.net.netns, pod.hostname, mounts, workdir, argv)

    async def _prepare(self) -> tuple[list[str], dict[str, str]]:
        """The wrapped command and environment; config errors wait and retry, as the kubelet does."""
        backoff = Backoff(1.0, 10.0)
        while True:
            try:
                argv, env = await self._config()
                wrapped = self._argv(argv, env)
                if self.image_run is not None:
                    imagemode.check_executable(self.image_run, argv, env)
                else:
                    check_executable(argv, env)
                return wrapped, env
            except envmod.EnvError as exc:
                self.record.waiting("CreateContainerConfigError", str(exc))
                self.pod.mark()
                await asyncio.sleep(backoff.next())
            except UnsupportedVolume as exc:
                raise PodFailed("UnsupportedVolume", str(exc)) from exc
            except StoreError as exc:
                raise StartError(str(exc)) from exc

    async def _run_once(self) -> int:
        pod, record = self.pod, self.record
        try:
            wrapped, env = await self._prepare()
            proc = await ContainerProcess.start(
                wrapped, env, pod.dir / "cwd", pod.log_path(self.name, record.restart_count)
            )
        except StartError as exc:
            record.pid = None
            record.terminated(128, st.now(), "StartError", str(exc))
            pod.mark()
            return 128
        pod.procs[self.name] = proc
        record.running(proc.pid, proc.started_at)
        probes = asyncio.create_task(self._probe(proc, env))
        pod.mark()
        try:
            code = await proc.wait()
        finally:
            probes.cancel()
        record.terminated(code, st.now())
        record.ready = self.init and not self.sidecar and code == 0
        pod.mark()
        return code

    async def _probe(self, proc: ContainerProcess, env: Mapping[str, str]) -> None:
        """Gate on the startup probe, then run readiness and liveness until the process ends."""
        pod, record, container = self.pod, self.record, self.container
        regular_init = self.init and not self.sidecar

        def check(probe: Mapping[str, Any]) -> Any:
            return make_check(
                probe, container=container, pod_ip=pod.pod_ip or "127.0.0.1", pid=proc.pid, env=env,
                session=pod.ctx.http,
            )  # fmt: skip

        def kill(probe: Mapping[str, Any]) -> None:
            grace = probe.get("terminationGracePeriodSeconds")
            pod.spawn(proc.stop(float(grace if grace is not None else pod.termination_grace())))

        startup = container.get("startupProbe")
        if startup:

            def on_startup(ok: bool) -> None:
                if not ok and proc.running:
                    kill(startup)

            await run_probe(ProbeTiming.from_spec(startup), check(startup), on_startup, stop_on_success=True)
        if not proc.running:
            return
        record.started = True
        readiness = container.get("readinessProbe")
        liveness = container.get("livenessProbe")
        if not readiness and not regular_init:
            record.ready = True
        pod.mark()
        tasks = []
        if readiness and not regular_init:

            def on_ready(ok: bool) -> None:
                if proc.running and record.ready != ok:
                    record.ready = ok
                    pod.mark()

            tasks.append(run_probe(ProbeTiming.from_spec(readiness), check(readiness), on_ready))
        if liveness:

            def on_live(ok: bool) -> None:
                if not ok and proc.running:
                    log.info("pod %s/%s: liveness probe of %s failed", pod.namespace, pod.name, record.name)
                    kill(liveness)

            tasks.append(run_probe(ProbeTiming.from_spec(liveness), check(liveness), on_live))
        await asyncio.gather(*tasks)

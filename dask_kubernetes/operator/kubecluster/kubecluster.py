"""``KubeCluster``: create (or connect to) a DaskCluster through the operator, from Python.

The cluster manager only writes custom resources and reads their status: the
operator does the rest.  Everything a user can get wrong is checked before any
resource is written, and everything that can fail after is reported with an
error that says what to do (CRDs missing, no operator running, a crash-looping
scheduler with its logs).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
import uuid
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import dask.config
from distributed.core import Status, rpc
from distributed.deploy import Cluster
from distributed.utils import Logs, format_dashboard_link

import dask_kubernetes.config  # noqa: F401  (registers the kubernetes.* defaults)
from dask_kubernetes.api import constants, naming
from dask_kubernetes.exceptions import ValidationError
from dask_kubernetes.kubeapi import Kube
from dask_kubernetes.kubeconfig import api_client, current_namespace
from dask_kubernetes.operator.builders.spec import make_cluster_spec, make_worker_spec
from dask_kubernetes.operator.decisions import pods
from dask_kubernetes.operator.kubecluster import address, groups, reaper, resources, startup, suspension
from dask_kubernetes.operator.kubecluster.options import CreateMode, load_spec, template_name
from dask_kubernetes.operator.kubecluster.reaper import reap_clusters
from dask_kubernetes.validation import shared as common

__all__ = ["CreateMode", "KubeCluster", "reap_clusters"]

log = logging.getLogger(__name__)


class KubeCluster(Cluster):
    """Launch a Dask cluster on Kubernetes through the Dask operator.

    ``KubeCluster(**kwargs)`` is equivalent to
    ``KubeCluster(custom_cluster_spec=make_cluster_spec(**kwargs))``; pass
    ``custom_cluster_spec`` (a dict or a YAML path) for full control, or use
    :meth:`from_name` to attach to a cluster made with kubectl.

    A cluster this object created is deleted when it is closed, or at interpreter
    exit if it never was (``shutdown_on_close``), as upstream's.
    """

    _instances: ClassVar[weakref.WeakSet[reaper.Reapable]] = reaper.INSTANCES

    def __init__(
        self,
        *,
        name: str | None = None,
        namespace: str | None = None,
        image: str | None = None,
        n_workers: int | None = None,
        resources: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | Sequence[Mapping[str, Any]] | None = None,
        worker_command: str | Sequence[str] | None = None,
        port_forward_cluster_ip: bool | None = None,
        create_mode: CreateMode | str | None = None,
        shutdown_on_close: bool | None = None,
        idle_timeout: int | None = None,
        resource_timeout: int | None = None,
        scheduler_service_type: str | None = None,
        custom_cluster_spec: str | Mapping[str, Any] | None = None,
        scheduler_forward_port: int | None = None,
        jupyter: bool = False,
        loop: Any = None,
        asynchronous: bool = False,
        quiet: bool = False,
        **kwargs: Any,
    ) -> None:
        get = dask.config.get
        self.namespace = namespace or get("kubernetes.namespace")
        self.image = image or get("kubernetes.image")
        self.n_workers = get("kubernetes.count.start") if n_workers is None else n_workers
        self.resources = get("kubernetes.resources") if resources is None else resources
        self.env = get("kubernetes.env") if env is None else env
        self.worker_command = worker_command or get("kubernetes.worker-command")
        self.port_forward_cluster_ip = get(
            "kubernetes.port-forward-cluster-ip", override_with=port_forward_cluster_ip
        )
        self.create_mode = CreateMode(create_mode or get("kubernetes.create-mode"))
        self.shutdown_on_close = get("kubernetes.shutdown-on-close", override_with=shutdown_on_close)
        self.idle_timeout = get("kubernetes.idle-timeout") if idle_timeout is None else idle_timeout
        self.resource_timeout = float(resource_timeout or get("kubernetes.resource-timeout"))
        self.scheduler_service_type = scheduler_service_type or get("kubernetes.scheduler-service-type")
        self.scheduler_forward_port = scheduler_forward_port or get("kubernetes.scheduler-forward-port")
        self.jupyter = jupyter or bool(get("kubernetes.scheduler-jupyter"))
        name = self._resolve_name(name, custom_cluster_spec)
        self._kube: Kube | None = None
        self._endpoints: list[address.Endpoint] = []
        self._dashboard: address.Endpoint | None = None
        self._component_status: dict[str, str] = {}
        self.forwarded_dashboard_port: str | None = None
        self._instances.add(self)
        super().__init__(name=name, loop=loop, asynchronous=asynchronous, quiet=quiet, **kwargs)
        if not self.called_from_running_loop:
            self._loop_runner.start()
            self.sync(self._start)

    def _resolve_name(self, name: str | None, custom_cluster_spec: str | Mapping[str, Any] | None) -> str:
        """Load the custom spec (or generate one) and return the checked cluster name."""
        get = dask.config.get
        spec_source = custom_cluster_spec or get("kubernetes.custom-cluster-spec")
        self._custom_spec = load_spec(spec_source) if spec_source else None
        if self._custom_spec is not None:
            name = self._custom_spec.get("metadata", {}).get("name") or name
        name = template_name(name or get("kubernetes.name"))
        errors = common.cluster_name(name, "name")
        if errors:
            raise ValidationError("; ".join(str(e) for e in errors))
        if self._custom_spec is None and self.create_mode != CreateMode.CONNECT_ONLY:
            self._custom_spec = self._generated_spec(name)  # also checks resources (ValueError)
        return name

    def __await__(self) -> Any:
        """Start on ``await cluster`` (and ``async with``) when created with ``asynchronous=True``."""

        async def start() -> KubeCluster:
            if self.status == Status.created:
                await self._start()
            return self

        return start().__await__()

    def _generated_spec(self, name: str) -> dict[str, Any]:
        spec = make_cluster_spec(
            name=name,
            image=self.image,
            n_workers=self.n_workers,
            resources=self.resources,
            env=self.env,
            worker_command=self.worker_command,
            scheduler_service_type=self.scheduler_service_type,
            idle_timeout=self.idle_timeout,
            jupyter=self.jupyter,
        )
        # kubernetes.worker-template-path belongs to the classic KubeCluster; as upstream's,
        # the operator's spec never reads it (a leftover setting must not replace workers).
        return spec

    # Lifecycle -------------------------------------------------------------
    @property
    def kube(self) -> Kube:
        """The API facade; available once the cluster manager has started."""
        if self._kube is None:
            raise RuntimeError("the cluster manager has not started")
        return self._kube

    async def _start(self) -> None:
        self._kube = Kube(await api_client())
        self.namespace = self.namespace or current_namespace()
        await resources.ensure_crds(self.kube)
        existing = await self.kube.get(constants.PLURAL_CLUSTER, self.namespace, self.name)
        if existing is not None and self.create_mode == CreateMode.CREATE_ONLY:
            raise ValueError(
                f"cluster {self.name} already exists and create_mode is {CreateMode.CREATE_ONLY.value}"
            )
        if existing is None and self.create_mode == CreateMode.CONNECT_ONLY:
            raise ValueError(
                f"cluster {self.name} does not exist and create_mode is {CreateMode.CONNECT_ONLY.value}"
            )
        created = False
        if existing is None:
            self._log(f"Creating DaskCluster {self.name!r} in namespace {self.namespace!r}")
            body = copy.deepcopy(self._custom_spec or {})
            body.setdefault("metadata", {}).update(name=self.name, namespace=self.namespace)
            created = (
                await resources.create(self.kube, constants.PLURAL_CLUSTER, self.namespace, body) is not None
            )
        else:
            self._log(f"Connecting to existing DaskCluster {self.name!r}")
            self._adopt_worker_defaults(existing)
        if self.shutdown_on_close is None:
            self.shutdown_on_close = created
        try:
            await startup.wait_for_operator(
                self.kube, self.name, self.namespace, self.resource_timeout, self._status
            )
            if suspension.is_suspended(existing):  # nothing to connect to until resume()
                self._log(f"DaskCluster {self.name!r} is suspended (spec.suspend): call resume() to run it")
                self.status = Status.running
                return
            await self._connect_scheduler()
        except BaseException:
            if created:
                await self.kube.delete(constants.PLURAL_CLUSTER, self.namespace, self.name)
            await self._close_connections()
            raise
        self._log(f"Ready, dashboard at {self.dashboard_link}")

    async def _connect_scheduler(self) -> None:
        """Wait for the scheduler Pod, reach its comm and dashboard, and start watching its workers."""
        await startup.wait_for_scheduler(
            self.kube, self.name, self.namespace, self.resource_timeout, self._status, self._log
        )
        endpoint = await address.resolve(
            self.kube, self.name, self.namespace, port_forward_cluster_ip=self.port_forward_cluster_ip
        )
        self._endpoints.append(endpoint)
        self.scheduler_comm = comm = rpc(f"tcp://{endpoint.host}:{endpoint.port}")
        await startup.wait_for_comm(comm, self.resource_timeout)
        self._dashboard = await address.resolve(
            self.kube,
            self.name,
            self.namespace,
            port_name=constants.PORT_NAME_DASHBOARD,
            default_port=constants.DASHBOARD_PORT,
            port_forward_cluster_ip=self.port_forward_cluster_ip,
            local_port=self.scheduler_forward_port,
        )
        self._endpoints.append(self._dashboard)
        self.forwarded_dashboard_port = str(self._dashboard.port)
        await super()._start()

    def _adopt_worker_defaults(self, cluster: Mapping[str, Any]) -> None:
        """Take the image, env and resources of a cluster we connect to, for ``add_worker_group``."""
        containers = (((cluster.get("spec") or {}).get("worker") or {}).get("spec") or {}).get("containers")
        if not containers:
            return
        container = containers[0]
        self.image = container.get("image") or self.image
        self.env = container.get("env") or {}
        self.resources = container.get("resources") or None

    def _status(self, component: str, value: str) -> None:
        if self._component_status.get(component) != value:
            self._component_status[component] = value
            self._log(f"{component}: {value}")

    async def _close_connections(self) -> None:
        for endpoint in self._endpoints:
            endpoint.close()
        self._endpoints.clear()
        if self._kube is not None:
            await self._kube.api_client.close()
            self._kube = None

    def close(self, timeout: float | None = 3600) -> Any:
        """Close the connection; delete the cluster if this object created it (``shutdown_on_close``).

        ``timeout`` (seconds, upstream's default 3600) bounds the wait for the cluster
        to be gone; TimeoutError if it is not.
        """
        return self.sync(self._close, timeout=timeout)

    async def _close(self, timeout: float | None = 3600) -> None:
        if self.status == Status.closed:
            return
        await super()._close()
        if self._kube is not None and self.shutdown_on_close:
            await self.kube.delete(constants.PLURAL_CLUSTER, self.namespace, self.name)
            deadline = None if timeout is None else time.monotonic() + timeout
            while await self.kube.get(constants.PLURAL_CLUSTER, self.namespace, self.name) is not None or (
                await self.kube.list_pods(self.namespace, naming.cluster_selector(self.name))
            ):
                if deadline is not None and time.monotonic() > deadline:
                    await self._close_connections()
                    raise TimeoutError(f"Timed out deleting cluster resource {self.name}")
                await asyncio.sleep(0.5)
        await self._close_connections()

    # Links -------------------------------------------------------------------
    @property
    def dashboard_link(self) -> str:
        """Where the dashboard is, formatted with ``distributed.dashboard.link``."""
        if self._dashboard is None:
            return ""
        link: str = format_dashboard_link(self._dashboard.host, self._dashboard.port)
        return link

    @property
    def jupyter_link(self) -> str:
        """Where Jupyter is, when the scheduler runs it (``jupyter=True``)."""
        return self.dashboard_link.rsplit("/", 1)[0] + "/jupyter/lab"

    # Scaling -----------------------------------------------------------------
    def scale(self, n: int, worker_group: str = "default") -> Any:
        """Scale a worker group to ``n`` workers; this also ends adaptive scaling."""
        return self.sync(self._scale, n, worker_group)

    async def _scale(self, n: int, worker_group: str = "default") -> None:
        await groups.scale(self.kube, self.name, self.namespace, n, worker_group)

    # Suspension ----------------------------------------------------------------
    def suspend(self) -> Any:
        """Suspend the cluster (``spec.suspend``): free its Pods, keep its Service and worker groups.

        What the workers hold in memory is lost.  Returns once the operator reports
        phase Suspended (no Pod left); TimeoutError after ``resource_timeout``.
        """
        return self.sync(self._suspend)

    async def _suspend(self) -> None:
        await suspension.set_suspend(self.kube, self.name, self.namespace, True)
        await suspension.disconnect(self, self._endpoints)
        self._dashboard = None
        await suspension.wait_suspended(self.kube, self.name, self.namespace, self.resource_timeout)
        self._log(f"DaskCluster {self.name!r} suspended")

    def resume(self) -> Any:
        """Resume a suspended cluster: the scheduler and each group's replicas come back.

        Waits for the scheduler as creating a cluster does, then reconnects to it.
        """
        return self.sync(self._resume)

    async def _resume(self) -> None:
        await suspension.set_suspend(self.kube, self.name, self.namespace, False)
        await suspension.disconnect(self, self._endpoints)
        await self._connect_scheduler()
        self._log(f"Resumed, dashboard at {self.dashboard_link}")

    # Upstream's signature (minimum, maximum), not distributed's Cluster.adapt(Adaptive, **kwargs).
    def adapt(self, minimum: int | None = None, maximum: int | None = None) -> Any:  # type: ignore[override]
        """Scale the default group adaptively between ``minimum`` and ``maximum`` workers."""
        return self.sync(self._adapt, minimum, maximum)

    async def _adapt(self, minimum: int | None = None, maximum: int | None = None) -> None:
        await groups.adapt(self.kube, self.name, self.namespace, minimum, maximum)

    def add_worker_group(
        self,
        name: str | None = None,
        n_workers: int = 3,
        image: str | None = None,
        resources: Mapping[str, Any] | None = None,
        worker_command: str | Sequence[str] | None = None,
        env: Mapping[str, str] | Sequence[Mapping[str, Any]] | None = None,
        custom_spec: Mapping[str, Any] | None = None,
    ) -> Any:
        """Create an additional worker group ``{cluster}-{name}``; returns once it is created."""
        return self.sync(
            self._add_worker_group, name, n_workers, image, resources, worker_command, env, custom_spec
        )

    async def _add_worker_group(
        self,
        name: str | None,
        n_workers: int,
        image: str | None,
        resources_: Mapping[str, Any] | None,
        worker_command: str | Sequence[str] | None,
        env: Mapping[str, str] | Sequence[Mapping[str, Any]] | None,
        custom_spec: Mapping[str, Any] | None,
    ) -> None:
        name = name or uuid.uuid4().hex[:8]
        if custom_spec is not None:
            worker = copy.deepcopy(dict(custom_spec))
        else:
            worker = make_worker_spec(
                image=image or self.image,
                n_workers=n_workers,
                resources=self.resources if resources_ is None else resources_,
                env=self.env if env is None else env,
                worker_command=worker_command or self.worker_command,
            )
        await groups.add(self.kube, self.name, self.namespace, name, worker)

    def delete_worker_group(self, name: str) -> Any:
        """Delete the worker group ``{cluster}-{name}`` and its workers."""
        return self.sync(self._delete_worker_group, name)

    async def _delete_worker_group(self, name: str) -> None:
        await groups.delete(self.kube, self.name, self.namespace, name)

    # Logs --------------------------------------------------------------------
    async def _get_logs(
        self, cluster: bool = True, scheduler: bool = True, workers: bool | list[str] = True
    ) -> Logs:
        logs = Logs()
        for pod in await self.kube.list_pods(self.namespace, naming.cluster_selector(self.name)):
            component = pod["metadata"]["labels"].get(constants.LABEL_COMPONENT)
            if (component == constants.COMPONENT_SCHEDULER and scheduler) or (
                component == constants.COMPONENT_WORKER and workers
            ):
                logs[pods.name(pod)] = await self.kube.pod_logs(self.namespace, pods.name(pod), tail=100_000)
        return logs

    @classmethod
    def from_name(cls, name: str, **kwargs: Any) -> KubeCluster:
        """Connect to an existing cluster by name; closing it leaves the cluster running.

        As upstream's, ``create_mode`` and ``shutdown_on_close`` may be overridden.
        """
        defaults: dict[str, Any] = {"create_mode": CreateMode.CONNECT_ONLY, "shutdown_on_close": False}
        return cls(name=name, **(defaults | kwargs))

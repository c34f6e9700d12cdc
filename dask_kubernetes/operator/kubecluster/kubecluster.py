"""``KubeCluster``: create (or connect to) a DaskCluster through the operator, from Python.

The cluster manager only writes custom resources and reads their status: the
operator does the rest.  Everything a user can get wrong is checked before any
resource is written, and everything that can fail after is reported with an
error that says what to do (CRDs missing, no operator running, a crash-looping
scheduler with its logs).
"""

from __future__ import annotations

import asyncio
import atexit
import copy
import errno
import getpass
import logging
import os
import time
import uuid
import weakref
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

import dask.config
from distributed.core import Status, rpc
from distributed.deploy import Cluster
from distributed.utils import Logs, format_dashboard_link
from ruamel.yaml import YAML

import dask_kubernetes.config  # noqa: F401  (registers the kubernetes.* defaults)
from dask_kubernetes.api import bodies, constants, naming
from dask_kubernetes.exceptions import CrashLoopBackOffError, SchedulerStartupError, ValidationError
from dask_kubernetes.kubeapi import Kube
from dask_kubernetes.kubeconfig import api_client, current_namespace
from dask_kubernetes.operator.builders.metadata import owner_reference
from dask_kubernetes.operator.builders.spec import make_cluster_spec, make_worker_spec
from dask_kubernetes.operator.decisions import pods
from dask_kubernetes.operator.kubecluster import address, diagnose, resources
from dask_kubernetes.validation import shared as common


class CreateMode(StrEnum):
    """What to do when a cluster of that name exists already, or does not."""

    CREATE_OR_CONNECT = "CREATE_OR_CONNECT"
    CREATE_ONLY = "CREATE_ONLY"
    CONNECT_ONLY = "CONNECT_ONLY"


log = logging.getLogger(__name__)


def _load_spec(spec: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(spec, Mapping):
        return copy.deepcopy(dict(spec))
    if not isinstance(spec, str | os.PathLike):
        raise TypeError(
            f"custom_cluster_spec must be a dict or the path of a YAML file, found {type(spec).__name__}"
        )
    path = Path(spec).expanduser()
    if not path.exists():
        # Upstream's open() raised this; users catch it.
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
    loaded = YAML(typ="safe").load(path.read_text())
    if not isinstance(loaded, Mapping) or loaded.get("kind") != constants.KIND_CLUSTER:
        raise ValueError(f"custom_cluster_spec file {str(path)!r} does not hold a DaskCluster")
    return dict(loaded)


def _template_name(template: str) -> str:
    return template.format(user=getpass.getuser(), uuid=uuid.uuid4().hex[:10], **os.environ)


class KubeCluster(Cluster):
    """Launch a Dask cluster on Kubernetes through the Dask operator.

    ``KubeCluster(**kwargs)`` is equivalent to
    ``KubeCluster(custom_cluster_spec=make_cluster_spec(**kwargs))``; pass
    ``custom_cluster_spec`` (a dict or a YAML path) for full control, or use
    :meth:`from_name` to attach to a cluster made with kubectl.

    A cluster this object created is deleted when it is closed, or at interpreter
    exit if it never was (``shutdown_on_close``), as upstream's.
    """

    _instances: ClassVar[weakref.WeakSet[KubeCluster]] = weakref.WeakSet()

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
        spec_source = custom_cluster_spec or get("kubernetes.custom-cluster-spec")
        self._custom_spec = _load_spec(spec_source) if spec_source else None
        if self._custom_spec is not None:
            name = self._custom_spec.get("metadata", {}).get("name") or name
        name = _template_name(name or get("kubernetes.name"))
        errors = common.cluster_name(name, "name")
        if errors:
            raise ValidationError("; ".join(str(e) for e in errors))
        if self._custom_spec is None and self.create_mode != CreateMode.CONNECT_ONLY:
            self._custom_spec = self._generated_spec(name)  # also checks resources (ValueError)
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
            await self._wait_for_operator()
            await self._wait_for_scheduler()
            endpoint = await address.resolve(
                self.kube, self.name, self.namespace, port_forward_cluster_ip=self.port_forward_cluster_ip
            )
            self._endpoints.append(endpoint)
            self.scheduler_comm = comm = rpc(f"tcp://{endpoint.host}:{endpoint.port}")
            await self._wait_for_comm(comm)
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
        except BaseException:
            if created:
                await self.kube.delete(constants.PLURAL_CLUSTER, self.namespace, self.name)
            await self._close_connections()
            raise
        self._log(f"Ready, dashboard at {self.dashboard_link}")

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

    async def _wait_for_operator(self) -> None:
        deadline = time.monotonic() + self.resource_timeout
        while time.monotonic() < deadline:
            obj = await self.kube.get(constants.PLURAL_CLUSTER, self.namespace, self.name)
            if obj is None:
                raise RuntimeError(f"DaskCluster {self.name} was deleted while starting")
            status = bodies.status_of(obj)
            if status.get("phase"):
                self._status("DaskCluster", status["phase"])
                if status["phase"] == "Error":
                    stalled = bodies.condition(obj, "Stalled")
                    raise ValidationError(
                        stalled["message"] if stalled else f"DaskCluster {self.name} is invalid"
                    )
                return
            await asyncio.sleep(0.25)
        raise TimeoutError(
            f"Dask Cluster resource not actioned after {self.resource_timeout:.0f} seconds, "
            f"is the Dask Operator running? (DaskCluster {self.name} in namespace {self.namespace} "
            "has no status.phase: check the operator's Pod and logs)"
        )

    async def _scheduler_pod(self) -> dict[str, Any] | None:
        """The cluster's scheduler Pod, found by its labels.

        Upstream's operator runs the scheduler as a Deployment, whose Pod is not named
        ``{name}-scheduler``; the labels are the same for both operators.
        """
        found = [
            pod
            for pod in await self.kube.list_pods(self.namespace, naming.scheduler_selector(self.name))
            if not pods.is_terminating(pod)
        ]
        return max(found, key=pods.created) if found else None

    async def _wait_for_scheduler(self) -> None:
        """Wait until the scheduler Pod is Ready; fail only if it crash-loops.

        As upstream's, a scheduler that is merely slow (an image pull on a real
        cluster) is waited for past ``resource_timeout``, and the cluster is kept.
        """
        deadline = time.monotonic() + self.resource_timeout
        warned = False
        while True:
            pod = await self._scheduler_pod()
            if pod is not None:
                if pods.crash_looping(pod):
                    logs = await self.kube.pod_logs(self.namespace, pods.name(pod), tail=200)
                    self._status("Scheduler Pod", "CrashLoopBackOff")
                    raise SchedulerStartupError(
                        "Scheduler failed to start.",
                        "Scheduler Pod logs:",
                        diagnose.startup_failure_detail(pod, logs),
                    ) from CrashLoopBackOffError(logs)
                ready = pods.is_ready(pod)
                self._status("Scheduler Pod", "Ready" if ready else pods.phase(pod))
                if ready:
                    return
            if not warned and time.monotonic() > deadline:
                warned = True
                problems = diagnose.container_problems(pod or {})
                message = (
                    f"the scheduler of {self.name} is not Ready after {self.resource_timeout:.0f}s "
                    f"({'; '.join(problems) or (pods.phase(pod) if pod else 'no Pod yet')}); still waiting"
                )
                log.warning(message)
                self._log(message)
            await asyncio.sleep(0.5)

    async def _wait_for_comm(self, comm: rpc) -> None:
        deadline = time.monotonic() + self.resource_timeout
        while True:
            try:
                await comm.identity()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)

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
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        await self.kube.delete(constants.PLURAL_AUTOSCALER, self.namespace, self.name)
        group = f"{self.name}-{worker_group}"
        if await self.kube.get(constants.PLURAL_WORKER_GROUP, self.namespace, group) is None:
            raise ValueError(f"worker group {worker_group!r} does not exist in cluster {self.name}")
        await self.kube.patch(
            constants.PLURAL_WORKER_GROUP, self.namespace, group, {"spec": {"worker": {"replicas": n}}}
        )

    def adapt(self, minimum: int | None = None, maximum: int | None = None) -> Any:  # type: ignore[override]
        """Scale the default group adaptively between ``minimum`` and ``maximum`` workers."""
        return self.sync(self._adapt, minimum, maximum)

    async def _adapt(self, minimum: int | None = None, maximum: int | None = None) -> None:
        spec = {
            "cluster": self.name,
            "minimum": minimum or 0,
            "maximum": maximum if maximum is not None else 1000,
        }
        body: dict[str, Any] = {
            "apiVersion": constants.API_VERSION,
            "kind": constants.KIND_AUTOSCALER,
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": spec,
        }
        cluster = await self.kube.get(constants.PLURAL_CLUSTER, self.namespace, self.name)
        if cluster is not None:
            # Owned by its cluster: close() and `kubectl delete daskcluster` take it along.
            body["metadata"]["ownerReferences"] = [owner_reference(cluster)]
        resources.check(constants.PLURAL_AUTOSCALER, body)
        if not await resources.create(self.kube, constants.PLURAL_AUTOSCALER, self.namespace, body):
            await self.kube.patch(constants.PLURAL_AUTOSCALER, self.namespace, self.name, {"spec": spec})

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
        body = {
            "apiVersion": constants.API_VERSION,
            "kind": constants.KIND_WORKER_GROUP,
            "metadata": {"name": f"{self.name}-{name}", "namespace": self.namespace},
            "spec": {"cluster": self.name, "worker": worker},
        }
        if not await resources.create(self.kube, constants.PLURAL_WORKER_GROUP, self.namespace, body):
            raise ValueError(f"worker group {name!r} already exists in cluster {self.name}")

    def delete_worker_group(self, name: str) -> Any:
        """Delete the worker group ``{cluster}-{name}`` and its workers."""
        return self.sync(self._delete_worker_group, name)

    async def _delete_worker_group(self, name: str) -> None:
        if not await self.kube.delete(constants.PLURAL_WORKER_GROUP, self.namespace, f"{self.name}-{name}"):
            raise ValueError(f"worker group {name!r} does not exist in cluster {self.name}")

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


def _delete_at_exit(cluster: KubeCluster) -> None:
    """Delete one cluster at interpreter exit, with a synchronous client: its event loop may be gone."""
    from kubernetes import client as sync_client
    from kubernetes import config as sync_config
    from kubernetes.client.rest import ApiException

    from dask_kubernetes.kubeconfig import in_cluster

    if in_cluster():
        sync_config.load_incluster_config()
    else:
        sync_config.load_kube_config()
    with sync_client.ApiClient() as api:
        try:
            sync_client.CustomObjectsApi(api).delete_namespaced_custom_object(
                constants.GROUP,
                constants.VERSION,
                cluster.namespace,
                constants.PLURAL_CLUSTER,
                cluster.name,
                _request_timeout=10,
            )
        except ApiException as exc:
            if exc.status != 404:
                raise


@atexit.register
def reap_clusters() -> None:
    """Delete the clusters this process created and never closed, as upstream's atexit hook does.

    A notebook or script that ends without ``close()`` would otherwise leave a
    cluster running (and billing) until someone notices.
    """
    for cluster in list(KubeCluster._instances):
        if not cluster.shutdown_on_close or cluster.status == Status.closed or not cluster.namespace:
            continue
        try:
            if not cluster.asynchronous and cluster.loop is not None and cluster._loop_runner.is_started():
                cluster.close(timeout=10)
            else:
                _delete_at_exit(cluster)
        except Exception as exc:  # exiting anyway: say what was left behind
            try:
                _delete_at_exit(cluster)
            except Exception:
                log.warning("could not delete DaskCluster %s at exit: %s", cluster.name, exc)

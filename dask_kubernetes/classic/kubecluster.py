"""The classic KubeCluster: a scheduler in this process, workers as Pods from a template.

Workers reach the local scheduler at an address on this machine that the pod
network can route to (``kubernetes.scheduler-host``, or the local address on the
route to the API server's advertised endpoint).  Pods are deleted on ``close()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import socket
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dask.config
from distributed.core import Status
from distributed.deploy.spec import ProcessInterface, SpecCluster
from distributed.scheduler import Scheduler

import dask_kubernetes.config  # noqa: F401  (registers the kubernetes.* defaults)
from dask_kubernetes import yamlio
from dask_kubernetes.api import constants
from dask_kubernetes.classic.pod import clean_pod_template, worker_pod_name
from dask_kubernetes.kubeapi import Kube
from dask_kubernetes.kubeconfig import api_client, current_namespace

LABEL_APP = "app"


class WorkerPod(ProcessInterface):
    """One worker Pod, created on start and deleted on close."""

    def __init__(self, scheduler: str, name: str, *, cluster: KubeCluster, **kwargs: Any) -> None:
        super().__init__(scheduler=scheduler, name=name)
        self.cluster = cluster
        self.pod_name = worker_pod_name(dask.config.get("kubernetes.worker-name"))
        self.scheduler = scheduler

    def manifest(self) -> dict[str, Any]:
        """Build this worker's Pod from the cluster's template."""
        pod = copy.deepcopy(self.cluster.pod_template)
        meta = pod["metadata"]
        meta["name"] = self.pod_name
        meta["labels"] = {
            **(meta.get("labels") or {}),
            LABEL_APP: "dask",
            constants.LABEL_CLUSTER_NAME: self.cluster.name,
            constants.LABEL_COMPONENT: constants.COMPONENT_WORKER,
        }
        host, port = self.cluster.worker_scheduler_address()
        env = {
            constants.ENV_SCHEDULER_ADDRESS: f"tcp://{host}:{port}",
            constants.ENV_WORKER_NAME: self.pod_name,
        }
        for container in pod["spec"]["containers"]:
            existing = {e.get("name") for e in container.get("env") or []}
            container["env"] = list(container.get("env") or []) + [
                {"name": k, "value": v} for k, v in env.items() if k not in existing
            ]
        return pod

    async def start(self) -> None:
        """Create the Pod; the worker inside connects to the scheduler by itself."""
        await self.cluster.kube.create_pod(self.cluster.namespace, self.manifest())
        await super().start()

    async def close(self) -> None:
        """Delete the Pod."""
        with contextlib.suppress(Exception):
            await self.cluster.kube.delete_pod(self.cluster.namespace, self.pod_name)
        await super().close()


def _load_template(template: str | Mapping[str, Any] | None) -> dict[str, Any]:
    if template is None:
        path = dask.config.get("kubernetes.worker-template-path")
        if path:
            template = str(path)
        elif dask.config.get("kubernetes.worker-template"):
            template = dask.config.get("kubernetes.worker-template")
        else:
            raise ValueError(
                "KubeCluster needs a worker Pod template: pass one, use KubeCluster.from_yaml(path), "
                "or set the Dask config key kubernetes.worker-template-path"
            )
    if isinstance(template, str | Path):
        path = Path(template).expanduser()
        if not path.exists():
            raise ValueError(f"worker template file {str(path)!r} does not exist")
        template = yamlio.load(path.read_text())
        if not isinstance(template, Mapping):
            raise ValueError(f"worker template file {str(path)!r} does not hold a Pod template (a mapping)")
    if not isinstance(template, Mapping):
        raise ValueError(f"a worker Pod template must be a mapping, got {type(template).__name__}")
    return clean_pod_template(template)


class KubeCluster(SpecCluster):
    """Launch Dask workers as Pods, with the scheduler running in this Python process.

    >>> cluster = KubeCluster.from_yaml("worker-spec.yml")
    >>> cluster.scale_up(10)
    >>> cluster.adapt(minimum=1, maximum=100)
    """

    def __init__(
        self,
        pod_template: str | Mapping[str, Any] | None = None,
        name: str | None = None,
        namespace: str | None = None,
        n_workers: int = 0,
        host: str | None = None,
        port: int = 0,
        dashboard_address: str = ":0",
        asynchronous: bool = False,
        loop: Any = None,
        **kwargs: Any,
    ) -> None:
        self.pod_template = _load_template(pod_template)
        self.namespace = namespace or dask.config.get("kubernetes.namespace")
        self._kube: Kube | None = None
        self._scheduler_host = host or dask.config.get("kubernetes.scheduler-host")
        scheduler = {
            "cls": Scheduler,
            "options": {"host": "0.0.0.0", "port": port, "dashboard_address": dashboard_address},
        }
        worker = {"cls": WorkerPod, "options": {"cluster": self}}
        workers = {i: worker for i in range(n_workers)}
        name = name or f"dask-classic-{uuid.uuid4().hex[:8]}"
        super().__init__(
            workers=workers,
            scheduler=scheduler,
            worker=worker,
            asynchronous=asynchronous,
            loop=loop,
            name=name,
            **kwargs,
        )

    @classmethod
    def from_yaml(cls, yaml_path: str, **kwargs: Any) -> KubeCluster:
        """Create a cluster from a worker Pod template in a YAML file."""
        return cls(str(yaml_path), **kwargs)

    @classmethod
    def from_dict(cls, pod_spec: Mapping[str, Any], **kwargs: Any) -> KubeCluster:
        """Create a cluster from a worker Pod template given as a dict."""
        return cls(dict(pod_spec), **kwargs)

    @property
    def kube(self) -> Kube:
        """The API facade; available once the cluster manager has started."""
        if self._kube is None:
            raise RuntimeError("the cluster manager has not started")
        return self._kube

    def worker_scheduler_address(self) -> tuple[str, int]:
        """Where workers in Pods reach the scheduler running here."""
        if self.scheduler is None:
            raise RuntimeError("the scheduler has not started")
        port = int(self.scheduler.address.rsplit(":", 1)[1])
        return str(self._scheduler_host), port

    async def _detect_scheduler_host(self) -> str:
        """Pick the local address on the route to the API server's advertised endpoint."""
        try:
            endpoints = await self.kube.core.read_namespaced_endpoints("kubernetes", "default")
            target = endpoints.subsets[0].addresses[0].ip
        except Exception:  # no permission or no endpoint: fall back to the default route
            target = "8.8.8.8"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect((target, 443))
            return str(sock.getsockname()[0])

    async def _start(self) -> None:
        self._kube = Kube(await api_client())
        self.namespace = self.namespace or current_namespace()
        if not self._scheduler_host:
            self._scheduler_host = await self._detect_scheduler_host()
        await super()._start()

    async def _close(self) -> None:
        if self.status == Status.closed:
            return
        await super()._close()
        if self._kube is not None:
            leftover = await self._kube.list_pods(
                self.namespace, {constants.LABEL_CLUSTER_NAME: self.name, LABEL_APP: "dask"}
            )
            await asyncio.gather(
                *(self._kube.delete_pod(self.namespace, p["metadata"]["name"]) for p in leftover)
            )
            await self._kube.api_client.close()
            self._kube = None

"""The benchmark's own view of the cluster: kubectl, a Pod watch, and each scheduler's worker count.

Timings come from a watch, not from polling LISTs, so that measuring costs the API
server next to nothing and the figures are not quantised by a poll interval
coarser than the 50 ms at which the in-memory state is read.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import distributed
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from dask_kubernetes_dev import kubectl
from dask_kubernetes_dev.kubectl import TransientKubectl
from dask_kubernetes_dev.polling import wait_for

TICK = 0.05


class Timeout(RuntimeError):
    """A phase did not converge in time; the message says which."""


KUBECTL_TRIES = 5


# What a starved API server answers (a 504 after its 60 s deadline, a refused or reset
# connection): on 2 cores, 100 Dask processes starting at once do that.  Every wait and
# command of the benchmark rides it out, as a controller would.
TRANSIENT: tuple[type[BaseException], ...] = (ApiException, HTTPError, OSError, TransientKubectl)


def until(check: Callable[[], bool], what: str, timeout: float) -> float:
    """Wait until ``check`` is true; return when it first was (``time.monotonic``).

    A transient API error counts as "not yet"; the timeout's message names the last one.
    """

    def moment() -> float:
        return time.monotonic() if check() else 0.0

    return wait_for(moment, timeout=timeout, what=what, interval=TICK, transient=TRANSIENT, error=Timeout)


class Kube:
    """kubectl and the Python client on one kubeconfig, and the node agent's socket."""

    def __init__(self, kubeconfig: Path, agent_socket: Path) -> None:
        self.kubeconfig = kubeconfig
        self.agent_socket = agent_socket
        self.api_client = config.new_client_from_config(str(kubeconfig))
        self.core = client.CoreV1Api(self.api_client)
        self.custom = client.CustomObjectsApi(self.api_client)

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        """Run the pinned kubectl, again after a transient failure; raise with its error when ``check``.

        Every command the benchmark runs is idempotent (apply, scale, delete with
        ``--ignore-not-found`` or ``--all``), so running one again is safe.
        """
        return kubectl.run(self.kubeconfig, *args, input=stdin, check=check, retries=KUBECTL_TRIES - 1).stdout

    def get_json(self, *args: str) -> dict[str, Any]:
        """``kubectl get ... -o json``, parsed."""
        return dict(kubectl.get_json(self.kubeconfig, *args, retries=KUBECTL_TRIES - 1))

    def metrics(self) -> str:
        """The API server's ``/metrics`` text."""
        return self.kubectl("get", "--raw", "/metrics")


@dataclass
class PodState:
    """What the watch last saw of one Pod."""

    labels: dict[str, str]
    phase: str
    ip: str | None
    ready: bool
    deleting: bool


class PodWatch:
    """Every Pod of a namespace, kept current by a watch in a thread (relisting when it ends)."""

    def __init__(self, kube: Kube, namespace: str) -> None:
        self.kube, self.namespace = kube, namespace
        self.pods: dict[str, PodState] = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.watch = watch.Watch()
        self.thread = threading.Thread(target=self._run, daemon=True, name="pod-watch")

    @staticmethod
    def _state(pod: Any) -> PodState:
        status = pod.status
        return PodState(
            labels=dict(pod.metadata.labels or {}),
            phase=(status.phase if status else None) or "Pending",
            ip=status.pod_ip if status else None,
            ready=any(c.type == "Ready" and c.status == "True" for c in (status.conditions or []))
            if status
            else False,
            deleting=pod.metadata.deletion_timestamp is not None,
        )

    def _run(self) -> None:
        while not self.stopped.is_set():
            with contextlib.suppress(*TRANSIENT):
                listed = self.kube.core.list_namespaced_pod(self.namespace)
                with self.lock:
                    self.pods = {p.metadata.name: self._state(p) for p in listed.items}
                for event in self.watch.stream(
                    self.kube.core.list_namespaced_pod,
                    self.namespace,
                    resource_version=listed.metadata.resource_version,
                    timeout_seconds=300,
                ):
                    pod = event["object"]
                    with self.lock:
                        if event["type"] == "DELETED":
                            self.pods.pop(pod.metadata.name, None)
                        else:
                            self.pods[pod.metadata.name] = self._state(pod)
            if not self.stopped.is_set():
                self.watch = watch.Watch()
                time.sleep(0.5)

    def __enter__(self) -> PodWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.watch.stop()

    def select(self, **labels: str) -> list[PodState]:
        """The Pods carrying all of ``labels``."""
        with self.lock:
            return [p for p in self.pods.values() if all(p.labels.get(k) == v for k, v in labels.items())]

    def workers(self, cluster: str) -> list[PodState]:
        """The worker Pods of a DaskCluster that are not being deleted (both operators label them so)."""
        return [
            p
            for p in self.select(**{"dask.org/cluster-name": cluster, "dask.org/component": "worker"})
            if not p.deleting
        ]

    def running_ip(self, **labels: str) -> str | None:
        """The pod-network address of a running Pod with ``labels`` (a scheduler), once it has one."""
        for pod in self.select(**labels):
            if pod.ip and pod.phase == "Running" and not pod.deleting:
                return pod.ip
        return None


class Connected:
    """How many workers a scheduler has, asked over Dask's own protocol."""

    def __init__(self, address_of: Callable[[], str | None]) -> None:
        self.address_of = address_of
        self.client: distributed.Client | None = None

    def workers(self) -> int:
        """Workers connected now; 0 while the scheduler cannot be reached yet."""
        if self.client is not None and self.client.status in ("closing", "closed"):
            self.close()  # a starved scheduler dropped us: connect again
        if self.client is None:
            ip = self.address_of()
            if ip is None:
                return 0
            try:
                self.client = distributed.Client(f"tcp://{ip}:8786", timeout=30, set_as_default=False)
            except (OSError, TimeoutError):
                return 0
        try:
            info = self.client.scheduler_info(n_workers=-1)
        except (OSError, TimeoutError):
            return 0
        # An identity call that timed out leaves the client's last identity empty.
        return len(info.get("workers") or {})

    def up(self) -> bool:
        """Whether the scheduler answers (with or without workers)."""
        self.workers()
        return self.client is not None

    def close(self) -> None:
        """Disconnect (the cluster may be about to go)."""
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.close(timeout=5)
            self.client = None

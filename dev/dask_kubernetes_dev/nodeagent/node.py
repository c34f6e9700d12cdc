"""The Node object, its status heartbeat and its Lease (node agent, test infrastructure only).

The scheduler only binds Pods to a Ready Node with room, and the API server finds the
kubelet's log endpoint through ``status.daemonEndpoints`` and the InternalIP; this
module publishes both and keeps them fresh the way a kubelet does (status and Lease
every ~10 s).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import platform
import uuid
from collections.abc import Mapping
from typing import Any

from dask_kubernetes.api import times
from dask_kubernetes_dev.nodeagent.api import ApiError, KubeAPI
from dask_kubernetes_dev.nodeagent.config import AgentConfig
from dask_kubernetes_dev.nodeagent.status import now, timestamp

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10
LEASE_SECONDS = 40
LEASE_NAMESPACE = "kube-node-lease"
CAPACITY: Mapping[str, str] = {"cpu": "1000", "memory": "4Ti", "pods": "1000", "ephemeral-storage": "10Ti"}
CONDITION_TAINTS = frozenset({"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"})
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def node_object(config: AgentConfig) -> dict[str, Any]:
    """The Node as first created: labels a scheduler and ``nodeSelector`` users expect."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": config.node_name,
            "labels": {
                "kubernetes.io/hostname": config.node_name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": ARCH,
                "node.dask.org/local": "true",
            },
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"podCIDR": str(config.pod_cidr), "podCIDRs": [str(config.pod_cidr)]},
    }


def node_status(
    config: AgentConfig, *, kubelet_version: str, log_port: int, since: datetime.datetime
) -> dict[str, Any]:
    """The Node status: Ready, large capacity, the InternalIP and the log server's port."""
    heartbeat = timestamp(now())
    started = timestamp(since)

    def condition(kind: str, status: str, reason: str, message: str) -> dict[str, str | None]:
        return {
            "type": kind,
            "status": status,
            "reason": reason,
            "message": message,
            "lastHeartbeatTime": heartbeat,
            "lastTransitionTime": started,
        }

    return {
        "capacity": dict(CAPACITY),
        "allocatable": dict(CAPACITY),
        "conditions": [
            condition(
                "MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory"
            ),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            condition(
                "PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"
            ),
            condition("Ready", "True", "KubeletReady", "local node agent is posting ready status"),
        ],
        # Only the InternalIP: the API server would try a Hostname address first, and
        # nothing resolves the node's name.
        "addresses": [{"type": "InternalIP", "address": str(config.gateway)}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": log_port}},
        "nodeInfo": {
            "machineID": _machine_id(),
            "systemUUID": str(uuid.uuid5(uuid.NAMESPACE_DNS, config.node_name)),
            "bootID": _boot_id(),
            "kernelVersion": platform.release(),
            "osImage": "dask-kubernetes local node agent",
            "containerRuntimeVersion": "local://0.1.0",
            "kubeletVersion": kubelet_version,
            "kubeProxyVersion": "",
            "operatingSystem": "linux",
            "architecture": ARCH,
        },
    }


def _read(path: str, default: str) -> str:
    try:
        with open(path) as handle:
            return handle.read().strip() or default
    except OSError:
        return default


def _machine_id() -> str:
    return _read("/etc/machine-id", uuid.uuid4().hex)


def _boot_id() -> str:
    return _read("/proc/sys/kernel/random/boot_id", str(uuid.uuid4()))


def micro_time(value: datetime.datetime) -> str:
    """The MicroTime format a Lease's ``renewTime`` uses."""
    return times.format_datetime(value, micro=True)


class NodeAgentNode:
    """Registers the Node and keeps its status and Lease current."""

    def __init__(self, api: KubeAPI, config: AgentConfig) -> None:
        self.api = api
        self.config = config
        self.since = now()
        self.kubelet_version = "v0.0.0"
        self.log_port = 0
        self.uid: str | None = None

    @property
    def path(self) -> str:
        """API path of the Node."""
        return f"/api/v1/nodes/{self.config.node_name}"

    async def register(self, log_port: int) -> None:
        """Create the Node (or adopt an existing one) and publish a Ready status."""
        self.log_port = log_port
        version = await self.api.get("/version")
        self.kubelet_version = version.get("gitVersion", self.kubelet_version)
        try:
            node = await self.api.post("/api/v1/nodes", node_object(self.config))
        except ApiError as exc:
            if exc.status != 409:
                raise
            node = await self.api.merge_patch(self.path, node_object(self.config))
        self.uid = node["metadata"]["uid"]
        await self.update_status()
        await self.clear_condition_taints(node)
        await self.renew_lease()

    async def clear_condition_taints(self, node: Mapping[str, Any]) -> None:
        """Remove the not-ready taint the API server adds to new Nodes.

        On a real cluster the node lifecycle controller lifts it once the Node is Ready;
        the local control plane runs without that controller, so the agent does it.
        """
        taints = (node.get("spec") or {}).get("taints") or []
        kept = [t for t in taints if t.get("key") not in CONDITION_TAINTS]
        if len(kept) != len(taints):
            await self.api.merge_patch(self.path, {"spec": {"taints": kept or None}})

    async def update_status(self) -> None:
        """Post the status with a fresh heartbeat."""
        status = node_status(
            self.config, kubelet_version=self.kubelet_version, log_port=self.log_port, since=self.since
        )
        await self.api.merge_patch(self.path + "/status", {"status": status})

    def _lease(self) -> dict[str, Any]:
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": self.config.node_name,
                "namespace": LEASE_NAMESPACE,
                "ownerReferences": [
                    {"apiVersion": "v1", "kind": "Node", "name": self.config.node_name, "uid": self.uid}
                ],
            },
            "spec": {
                "holderIdentity": self.config.node_name,
                "leaseDurationSeconds": LEASE_SECONDS,
                "renewTime": micro_time(datetime.datetime.now(datetime.UTC)),
            },
        }

    async def renew_lease(self) -> None:
        """Renew the node Lease, creating it the first time."""
        path = f"/apis/coordination.k8s.io/v1/namespaces/{LEASE_NAMESPACE}/leases/{self.config.node_name}"
        lease = self._lease()
        try:
            await self.api.merge_patch(path, {"spec": lease["spec"]})
        except ApiError as exc:
            if exc.status != 404:
                raise
            await self.api.post(f"/apis/coordination.k8s.io/v1/namespaces/{LEASE_NAMESPACE}/leases", lease)

    async def heartbeat(self) -> None:
        """Every ~10 s renew the Lease and the Ready heartbeat; re-register if the Node vanished."""
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self.renew_lease()
                await self.update_status()
            except ApiError as exc:
                if exc.status == 404:
                    log.warning("Node %s is gone; registering it again", self.config.node_name)
                    await self.register(self.log_port)
                else:
                    log.warning("node heartbeat failed: %s", exc)

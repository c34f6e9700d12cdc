"""Find an address of the scheduler this process can reach.

Inside the cluster the Service's DNS name works.  Outside it, the scheduler Pod's
IP is tried first (it answers on a host that sits on the pod network, as with the
local control plane), then a NodePort or LoadBalancer, then ``kubectl
port-forward``.  The same code therefore works unchanged in both places.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dask_kubernetes.api import bodies, constants, naming
from dask_kubernetes.binaries import ToolNotFound, find
from dask_kubernetes.kubeapi import Kube
from dask_kubernetes.kubeconfig import in_cluster


@dataclass
class Endpoint:
    """A host and port, and the port-forward process that serves them, if any."""

    host: str
    port: int
    forwarder: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def close(self) -> None:
        """Stop the port-forward, if one serves this endpoint."""
        if self.forwarder is not None and self.forwarder.poll() is None:
            self.forwarder.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.forwarder.wait(5)


def _service_port(service: Mapping[str, Any], name: str, default: int) -> Mapping[str, Any]:
    ports: list[Mapping[str, Any]] = service["spec"].get("ports") or []
    for port in ports:
        if port.get("name") == name or port.get("port") == default:
            return port
    return {"port": default}


async def _reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _port_forward(namespace: str, service: str, remote: int, local: int | None) -> Endpoint:
    try:
        kubectl = find("kubectl")
    except ToolNotFound:
        kubectl = None
    if kubectl is None:
        raise RuntimeError(
            f"cannot reach service {service} from outside the cluster: its Pod IP is not routable here, "
            "it is not a NodePort or LoadBalancer, and kubectl (for port-forward) is not on PATH"
        )
    port = local or _free_port()
    proc = subprocess.Popen(
        [kubectl, "port-forward", "-n", namespace, f"svc/{service}", f"{port}:{remote}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        if await _reachable("127.0.0.1", port, 0.2):
            return Endpoint("127.0.0.1", port, proc)
        await asyncio.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"kubectl port-forward to {service}:{remote} did not start")


async def resolve(
    kube: Kube,
    cluster: str,
    namespace: str,
    *,
    port_name: str = constants.PORT_NAME_COMM,
    default_port: int = constants.SCHEDULER_PORT,
    port_forward_cluster_ip: bool | None = None,
    local_port: int | None = None,
) -> Endpoint:
    """Return a reachable endpoint of the scheduler's ``port_name`` port."""
    service_name = naming.scheduler_name(cluster)
    service = await kube.get_service(namespace, service_name)
    if service is None:
        raise RuntimeError(f"the scheduler Service {service_name} does not exist")
    port = _service_port(service, port_name, default_port)
    if in_cluster():
        return Endpoint(f"{service_name}.{namespace}.svc.cluster.local", int(port["port"]))
    if not port_forward_cluster_ip:
        # By labels, not by name: upstream's operator runs the scheduler as a Deployment.
        candidates = await kube.list_pods(namespace, naming.scheduler_selector(cluster))
        running = [p for p in candidates if bodies.status_of(p).get("phase") == "Running"]
        pod = running[0] if running else None
        ip = bodies.status_of(pod or {}).get("podIP")
        target = port.get("targetPort", port["port"])
        container_port = _container_port(pod or {}, target, default_port)
        if ip and await _reachable(ip, container_port):
            return Endpoint(ip, container_port)
        kind = service["spec"].get("type", "ClusterIP")
        if kind == "LoadBalancer":
            for ingress in bodies.status_of(service).get("loadBalancer", {}).get("ingress") or []:
                host = ingress.get("ip") or ingress.get("hostname")
                if host and await _reachable(host, int(port["port"])):
                    return Endpoint(host, int(port["port"]))
        if kind in ("NodePort", "LoadBalancer") and port.get("nodePort"):
            for node_ip in await _node_ips(kube):
                if await _reachable(node_ip, int(port["nodePort"])):
                    return Endpoint(node_ip, int(port["nodePort"]))
    return await _port_forward(namespace, service_name, int(port["port"]), local_port)


def _container_port(pod: Mapping[str, Any], target: Any, default: int) -> int:
    if isinstance(target, int):
        return target
    for container in pod.get("spec", {}).get("containers", []):
        for port in container.get("ports") or []:
            if port.get("name") == target:
                return int(port["containerPort"])
    return default


async def _node_ips(kube: Kube) -> list[str]:
    nodes = await kube.core.list_node()
    return [
        a.address
        for n in nodes.items
        for a in (n.status.addresses or [])
        if a.type in ("ExternalIP", "InternalIP")
    ]

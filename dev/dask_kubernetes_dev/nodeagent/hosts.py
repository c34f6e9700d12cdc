"""Service name resolution without a DNS server (node agent, test infrastructure only).

There is no CoreDNS and no kube-proxy on the local control plane.  Instead every Pod
gets ``/etc/netns/<netns>/hosts``, which ``ip netns exec`` bind-mounts over
``/etc/hosts``, listing each Service's names with its endpoint IPs.  The bind mount
pins the file's inode, so the files are rewritten in place, never replaced.
:class:`ServiceIndex` is pure; :class:`HostsFiles` does the writing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CLUSTER_DOMAIN = "cluster.local"
ETC_NETNS = Path("/etc/netns")
# A resolver that fails at once: without it, unknown names wait for the host's DNS,
# which a Pod network namespace cannot reach.
API_NAMES = (
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    f"kubernetes.default.svc.{CLUSTER_DOMAIN}",
)
RESOLV_CONF = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"


def service_names(name: str, namespace: str, *, own_namespace: bool) -> list[str]:
    """The names a Service answers to from a Pod; short names only within its namespace."""
    names = [f"{name}.{namespace}", f"{name}.{namespace}.svc", f"{name}.{namespace}.svc.{CLUSTER_DOMAIN}"]
    return [name, *names] if own_namespace else names


@dataclass
class ServiceIndex:
    """Which Services exist and which IPs their EndpointSlices list, kept from watch events."""

    services: set[tuple[str, str]] = field(default_factory=set)
    slices: dict[tuple[str, str], tuple[str, list[str], list[str]]] = field(default_factory=dict)

    def set_services(self, items: Iterable[Mapping[str, Any]]) -> None:
        """Replace the Service set after a (re-)list."""
        self.services = {_key(item) for item in items}

    def service_event(self, kind: str, obj: Mapping[str, Any]) -> None:
        """Apply one Service watch event."""
        if kind == "DELETED":
            self.services.discard(_key(obj))
        else:
            self.services.add(_key(obj))

    def set_slices(self, items: Iterable[Mapping[str, Any]]) -> None:
        """Replace the EndpointSlices after a (re-)list."""
        self.slices = {}
        for item in items:
            self.slice_event("ADDED", item)

    def slice_event(self, kind: str, obj: Mapping[str, Any]) -> None:
        """Apply one EndpointSlice watch event."""
        key = _key(obj)
        service = ((obj.get("metadata") or {}).get("labels") or {}).get("kubernetes.io/service-name")
        if kind == "DELETED" or not service:
            self.slices.pop(key, None)
            return
        ready: list[str] = []
        not_ready: list[str] = []
        for endpoint in obj.get("endpoints") or []:
            is_ready = (endpoint.get("conditions") or {}).get("ready") is not False
            (ready if is_ready else not_ready).extend(endpoint.get("addresses") or [])
        self.slices[key] = (service, ready, not_ready)

    def endpoints(self) -> dict[tuple[str, str], list[str]]:
        """IPs per existing Service: the ready ones, or the not-ready ones when none is ready."""
        ready: dict[tuple[str, str], list[str]] = {}
        not_ready: dict[tuple[str, str], list[str]] = {}
        for (namespace, _), (service, ips, pending) in self.slices.items():
            key = (namespace, service)
            ready.setdefault(key, []).extend(ips)
            not_ready.setdefault(key, []).extend(pending)
        out = {}
        for key in sorted(ready):
            if key not in self.services:
                continue
            ips = sorted(set(ready[key])) or sorted(set(not_ready[key]))
            if ips:
                out[key] = ips
        return out


def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return meta.get("namespace", ""), meta.get("name", "")


@dataclass(frozen=True)
class PodHosts:
    """What one Pod's hosts file needs to know about the Pod itself."""

    namespace: str
    ip: str
    hostnames: tuple[str, ...]
    aliases: tuple[tuple[str, tuple[str, ...]], ...] = ()


def render_hosts(pod: PodHosts, gateway: str, endpoints: Mapping[tuple[str, str], list[str]]) -> str:
    """The hosts file of one Pod: localhost, itself, the API server and every Service."""
    lines = [
        "# Written by the dask-kubernetes node agent (test infrastructure).",
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        f"{pod.ip}\t{' '.join(pod.hostnames)}",
        f"{gateway}\t{' '.join(API_NAMES)}",
    ]
    lines.extend(f"{ip}\t{' '.join(names)}" for ip, names in pod.aliases)
    for (namespace, name), ips in endpoints.items():
        if (namespace, name) == ("default", "kubernetes"):
            continue
        names = " ".join(service_names(name, namespace, own_namespace=namespace == pod.namespace))
        lines.extend(f"{ip}\t{names}" for ip in ips)
    return "\n".join(lines) + "\n"


def pod_hostnames(pod: Mapping[str, Any]) -> tuple[str, ...]:
    """The Pod's own names: ``spec.hostname`` (or its name), plus the subdomain form."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    hostname = spec.get("hostname") or meta.get("name", "")
    subdomain = spec.get("subdomain")
    if subdomain:
        fqdn = f"{hostname}.{subdomain}.{meta.get('namespace')}.svc.{CLUSTER_DOMAIN}"
        return (fqdn, hostname)
    return (hostname,)


def host_aliases(pod: Mapping[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The Pod's ``spec.hostAliases``, which the kubelet appends to its hosts file."""
    aliases = (pod.get("spec") or {}).get("hostAliases") or []
    return tuple(
        (a["ip"], tuple(a.get("hostnames") or ())) for a in aliases if a.get("ip") and a.get("hostnames")
    )


def write_in_place(path: Path, content: str) -> bool:
    """Replace a file's content keeping its inode (bind mounts pin it); return whether it changed."""
    if not path.exists():
        path.write_text(content)
        return True
    with path.open("r+") as handle:
        if handle.read() == content:
            return False
        handle.seek(0)
        handle.write(content)
        handle.truncate()
    return True


class HostsFiles:
    """Keeps ``/etc/netns/<netns>/hosts`` of every Pod current as Services change."""

    def __init__(self, gateway: str, index: ServiceIndex, etc_netns: Path = ETC_NETNS) -> None:
        self.gateway = gateway
        self.index = index
        self.etc_netns = etc_netns
        self.pods: dict[str, PodHosts] = {}
        self._changed = asyncio.Event()

    def directory(self, netns: str) -> Path:
        """Where ``ip netns exec`` looks for the files it bind-mounts over ``/etc``."""
        return self.etc_netns / netns

    def add(self, netns: str, pod: PodHosts) -> None:
        """Write a new Pod's hosts and resolv.conf before its first process starts."""
        directory = self.directory(netns)
        directory.mkdir(parents=True, exist_ok=True)
        write_in_place(directory / "resolv.conf", RESOLV_CONF)
        write_in_place(directory / "hosts", render_hosts(pod, self.gateway, self.index.endpoints()))
        self.pods[netns] = pod

    def remove(self, netns: str) -> None:
        """Forget a Pod and delete its files."""
        self.pods.pop(netns, None)
        directory = self.directory(netns)
        for name in ("hosts", "resolv.conf"):
            (directory / name).unlink(missing_ok=True)
        try:
            directory.rmdir()
        except OSError:
            pass

    def changed(self) -> None:
        """Note that Services or endpoints changed; :meth:`run` rewrites the files soon after."""
        self._changed.set()

    def rewrite_all(self) -> None:
        """Rewrite every Pod's hosts file from the current index."""
        endpoints = self.index.endpoints()
        for netns, pod in list(self.pods.items()):
            path = self.directory(netns) / "hosts"
            try:
                write_in_place(path, render_hosts(pod, self.gateway, endpoints))
            except OSError as exc:
                log.warning("could not rewrite %s: %s", path, exc)

    async def run(self, debounce: float = 0.1) -> None:
        """Rewrite after changes, batching bursts of watch events into one pass."""
        while True:
            await self._changed.wait()
            await asyncio.sleep(debounce)
            self._changed.clear()
            self.rewrite_all()

"""Pod network of the node agent: a bridge, a netns and veth per Pod, and IPAM (test infrastructure only).

Each Pod gets its own network namespace so that, as on a real cluster, two schedulers
can both listen on 8786.  The host end of each veth sits on one Linux bridge whose
address is the gateway; the host (tests, the API server) reaches Pod IPs straight over
it, and Pods reach the API server at the gateway.  Everything is done with ``ip``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from dask_kubernetes_dev.nodeagent.config import AgentConfig

log = logging.getLogger(__name__)


class NetworkError(RuntimeError):
    """An ``ip`` command failed; the message carries its stderr."""


async def run(*argv: str, check: bool = True, stdin: bytes | None = None) -> str:
    """Run a command, return its stdout, raise :class:`NetworkError` when it fails and ``check``."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate(stdin)
    if check and proc.returncode != 0:
        raise NetworkError(
            f"{' '.join(argv)} failed ({proc.returncode}): {err.decode(errors='replace').strip()}"
        )
    return out.decode(errors="replace")


class Ipam:
    """Hands out Pod IPs from the pod CIDR, one file per address under the state dir.

    Files make the allocation visible and let an address be released by anyone who
    knows it; the in-memory set keeps allocation fast for hundreds of Pods.
    """

    def __init__(self, directory: Path, cidr: ipaddress.IPv4Network, gateway: ipaddress.IPv4Address) -> None:
        self.directory = directory
        self.cidr = cidr
        self.gateway = gateway
        directory.mkdir(parents=True, exist_ok=True)
        self.used = {ipaddress.IPv4Address(p.name) for p in directory.iterdir()}
        self._cursor = 0

    def allocate(self, owner: str) -> ipaddress.IPv4Address:
        """Take the next free address after the last one handed out, so a freed one is not reused at once."""
        hosts = self.cidr.num_addresses - 2
        for step in range(hosts):
            index = (self._cursor + step) % hosts
            address = self.cidr.network_address + 1 + index
            if address == self.gateway or address in self.used:
                continue
            try:
                fd = os.open(self.directory / str(address), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self.used.add(address)
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(owner)
            self.used.add(address)
            self._cursor = index + 1
            return address
        raise NetworkError(f"no free address left in {self.cidr}")

    def reset(self) -> None:
        """Forget every allocation, once the namespaces that held them are gone."""
        for path in self.directory.iterdir():
            path.unlink(missing_ok=True)
        self.used.clear()

    def release(self, address: ipaddress.IPv4Address) -> None:
        """Give an address back."""
        self.used.discard(address)
        (self.directory / str(address)).unlink(missing_ok=True)


@dataclass(frozen=True)
class PodNetwork:
    """One Pod's network: its namespace, the host end of its veth and its address."""

    netns: str
    host_veth: str
    ip: ipaddress.IPv4Address


class Network:
    """Creates and removes the bridge and the per-Pod namespaces of one agent."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.ipam = Ipam(config.state_dir / "ipam", config.pod_cidr, config.gateway)
        self.pods: dict[str, PodNetwork] = {}
        self._counter = 0

    def _names(self) -> tuple[str, str]:
        self._counter += 1
        netns = f"{self.config.netns_prefix}{self._counter}"
        veth = f"{self.config.bridge[:8]}v{self._counter}"[:15]
        return netns, veth

    async def setup_bridge(self) -> None:
        """Remove leftovers of an earlier run with the same bridge, then create the bridge."""
        await self.remove_stale()
        self.ipam.reset()
        bridge, gw = self.config.bridge, f"{self.config.gateway}/{self.config.prefixlen}"
        await run("ip", "link", "add", bridge, "type", "bridge")
        await run("ip", "addr", "add", gw, "dev", bridge)
        await run("ip", "link", "set", bridge, "up")

    async def remove_stale(self) -> None:
        """Kill processes in, and delete, every netns and bridge left by an agent that died."""
        for netns in await self._own_namespaces():
            await self._kill_and_delete(netns)
        for path in Path("/etc/netns").glob(f"{self.config.netns_prefix}*"):
            shutil.rmtree(path, ignore_errors=True)
        await run("ip", "link", "del", self.config.bridge, check=False)

    async def _own_namespaces(self) -> list[str]:
        listing = await run("ip", "netns", "list", check=False)
        names = [line.split()[0] for line in listing.splitlines() if line.strip()]
        return [name for name in names if name.startswith(self.config.netns_prefix)]

    async def _kill_and_delete(self, netns: str) -> None:
        await kill_namespace_processes(netns)
        await run("ip", "netns", "del", netns, check=False)

    async def create(self, owner: str) -> PodNetwork:
        """Make a netns with ``eth0`` on the bridge, an address, ``lo`` and a default route."""
        netns, veth = self._names()
        address = self.ipam.allocate(owner)
        pod = PodNetwork(netns, veth, address)
        self.pods[netns] = pod
        try:
            await run("ip", "netns", "add", netns)
            await run("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns)
            await run("ip", "link", "set", veth, "master", self.config.bridge, "up")
            batch = "\n".join(
                [
                    f"addr add {address}/{self.config.prefixlen} dev eth0",
                    "link set lo up",
                    "link set eth0 up",
                    f"route add default via {self.config.gateway}",
                ]
            )
            await run("ip", "-n", netns, "-batch", "-", stdin=batch.encode())
        except BaseException:
            await self.destroy(pod)
            raise
        return pod

    async def destroy(self, pod: PodNetwork) -> None:
        """Kill what still runs in the Pod's netns, delete it (and so its veth), free the IP."""
        await self._kill_and_delete(pod.netns)
        await run("ip", "link", "del", pod.host_veth, check=False)
        self.ipam.release(pod.ip)
        self.pods.pop(pod.netns, None)

    async def teardown(self) -> None:
        """Remove every Pod network and the bridge, as the agent stops."""
        for pod in list(self.pods.values()):
            await self.destroy(pod)
        await self.remove_stale()


async def kill_namespace_processes(netns: str) -> None:
    """SIGKILL every process inside ``netns``: a container's strays must not outlive its Pod."""
    for _ in range(5):
        pids = [int(p) for p in (await run("ip", "netns", "pids", netns, check=False)).split() if p.isdigit()]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        await asyncio.sleep(0.1)

"""Settings of one node agent run (test infrastructure only), parsed by ``__main__``."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AgentConfig:
    """Everything the harness tells the agent on its command line."""

    kubeconfig: Path
    node_name: str
    state_dir: Path
    bridge: str
    pod_cidr: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address
    ca_file: Path
    api_server_port: int
    # The control-plane binary; its ``kubelet-streaming`` component serves exec,
    # attach and port-forward (see :mod:`.streaming`).  Without it: logs only.
    kubelet_binary: Path | None = None
    image_store: Path | None = None  # an OCI layout: Pods whose image is in it run inside that image

    @property
    def prefixlen(self) -> int:
        """Prefix length of the pod network, used for the bridge and every Pod address."""
        return self.pod_cidr.prefixlen

    @property
    def netns_prefix(self) -> str:
        """Prefix of every netns this agent creates, so stale ones can be found and removed."""
        return f"{self.bridge}-"

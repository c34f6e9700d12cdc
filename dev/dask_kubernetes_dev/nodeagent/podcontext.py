"""What every Pod worker of the node agent shares, apart from the code that runs Pods.

:mod:`.pod` runs a Pod and :mod:`.containers` its containers; both take this
context, so it lives in a module of its own that neither imports back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from dask_kubernetes_dev.image.store import ImageStore
from dask_kubernetes_dev.nodeagent.api import KubeAPI
from dask_kubernetes_dev.nodeagent.config import AgentConfig
from dask_kubernetes_dev.nodeagent.hosts import HostsFiles
from dask_kubernetes_dev.nodeagent.network import Network


@dataclass
class PodContext:
    """What every Pod worker shares: the API, the network, hosts files, a probe session."""

    api: KubeAPI
    config: AgentConfig
    network: Network
    hosts: HostsFiles
    http: aiohttp.ClientSession
    setup_slots: asyncio.Semaphore
    allocatable: Mapping[str, str]
    images: ImageStore | None = None  # image mode (see .imagemode) when the agent has a store

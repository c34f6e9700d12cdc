"""Entry point of the node agent (test infrastructure only): parse arguments, run the agent."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
from pathlib import Path

from dask_kubernetes_dev.nodeagent.agent import Agent
from dask_kubernetes_dev.nodeagent.config import AgentConfig


def parse_args(argv: list[str] | None = None) -> AgentConfig:
    """Turn the harness's command line into an :class:`AgentConfig`."""
    parser = argparse.ArgumentParser(prog="python -m dask_kubernetes_dev.nodeagent")
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--node-name", required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--bridge", default="dk0")
    parser.add_argument(
        "--pod-cidr", type=ipaddress.IPv4Network, default=ipaddress.IPv4Network("10.244.0.0/16")
    )
    parser.add_argument("--gateway", type=ipaddress.IPv4Address, default=ipaddress.IPv4Address("10.244.0.1"))
    parser.add_argument("--ca-file", type=Path, required=True)
    parser.add_argument("--api-server-port", type=int, required=True)
    parser.add_argument("--kubelet-binary", type=Path, default=None)
    parser.add_argument("--image-store", type=Path, default=None, help="OCI layout to run images from")
    args = parser.parse_args(argv)
    return AgentConfig(
        kubeconfig=args.kubeconfig,
        node_name=args.node_name,
        state_dir=args.state_dir.resolve(),
        bridge=args.bridge,
        pod_cidr=args.pod_cidr,
        gateway=args.gateway,
        ca_file=args.ca_file.resolve(),
        api_server_port=args.api_server_port,
        kubelet_binary=args.kubelet_binary,
        image_store=args.image_store.resolve() if args.image_store else None,
    )


def main() -> None:
    """Run until SIGTERM, then clean up every process and network device the agent made."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    raise SystemExit(asyncio.run(Agent(parse_args()).run()))


if __name__ == "__main__":
    main()

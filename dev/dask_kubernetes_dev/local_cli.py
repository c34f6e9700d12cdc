"""``dask-kubernetes local up|down|status|env``: the local control plane as a command.

``up`` builds (or reuses) the binary, starts the control plane and node agent in
the background under ``.cache/local`` and prints how to point KUBECONFIG at it;
``down`` stops every process it started.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from dask_kubernetes_dev.tools import PROJECT_ROOT

WORKDIR = PROJECT_ROOT / ".cache" / "local"


def _up_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dask-kubernetes local up")
    parser.add_argument(
        "--image-store",
        type=Path,
        default=os.environ.get("DASK_K8S_IMAGE_STORE") or None,
        help="image mode: Pods whose image is in this OCI layout (e.g. .cache/image/store, written by "
        "`dask-kubernetes image build`) run inside that image; others run from this Python environment",
    )
    return parser


def main(action: str, extra: list[str]) -> int:
    """Run one action; return the exit code."""
    from dask_kubernetes_dev.controlplane import ControlPlane, Network, stop_from_state

    state_file = WORKDIR / "state.json"
    if action == "down":
        stopped = stop_from_state(state_file)
        print("local control plane stopped" if stopped else "no local control plane is running")
        return 0
    if action in ("status", "env"):
        if not state_file.exists():
            print("no local control plane is running", file=sys.stderr)
            return 1
        state = json.loads(state_file.read_text())
        if action == "env":
            print(f"export KUBECONFIG={WORKDIR / 'kubeconfig'}")
        else:
            print(f"running: {state['server']} (pids {state['pids']})")
        return 0
    if state_file.exists():
        print(f"already running; export KUBECONFIG={WORKDIR / 'kubeconfig'}")
        return 0
    from dask_kubernetes_dev.binary import control_plane_binary

    options = _up_parser().parse_args(extra)
    binary = control_plane_binary()
    # A different bridge and subnet than the test suite's, so both can run at once.
    plane = ControlPlane(
        WORKDIR,
        binary,
        network=Network(bridge="dkl0", pod_cidr="10.243.0.0/16", gateway="10.243.0.1"),
        image_store=options.image_store,
    )
    plane.start()
    print(f"local control plane is up at {plane.server}")
    print(f"export KUBECONFIG={plane.kubeconfig}")
    return 0

"""``dask-kubernetes local up|down|status|env``: the local control plane as a command.

``up`` builds (or reuses) the binary, starts the control plane and node agent in
the background under ``.cache/local`` and prints how to point KUBECONFIG at it;
``up --kueue`` starts it with workload-aware scheduling on and installs a real Kueue
(:mod:`dask_kubernetes_dev.kueue`), as the ``kueue_cluster`` test fixture does;
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
    parser.add_argument(
        "--kueue",
        action="store_true",
        help="start with workload-aware scheduling (PodGroup, gang scheduling) on and install Kueue v0.17.0 "
        "(built on first use, minutes); into a control plane that is already up, only install Kueue",
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
    options = _up_parser().parse_args(extra)
    if state_file.exists():
        print(f"already running; export KUBECONFIG={WORKDIR / 'kubeconfig'}")
        return _install_kueue(WORKDIR / "kubeconfig") if options.kueue else 0
    from dask_kubernetes_dev.binary import control_plane_binary

    binary = control_plane_binary()
    # A different bridge and subnet than the test suite's, so both can run at once.
    plane = ControlPlane(
        WORKDIR,
        binary,
        network=Network(bridge="dkl0", pod_cidr="10.243.0.0/16", gateway="10.243.0.1"),
        image_store=options.image_store,
        workload_scheduling=options.kueue,
    )
    plane.start()
    print(f"local control plane is up at {plane.server}")
    code = _install_kueue(plane.kubeconfig) if options.kueue else 0
    print(f"export KUBECONFIG={plane.kubeconfig}")
    return code


def _install_kueue(kubeconfig: Path) -> int:
    """Install Kueue into the local control plane; a failure leaves the control plane up."""
    from dask_kubernetes_dev import kueue
    from dask_kubernetes_dev.kubectl import KubectlError
    from dask_kubernetes_dev.kueue_manifests import NAMESPACE

    print("installing Kueue (the first build takes minutes)", flush=True)
    try:
        kueue.install(kubeconfig)
    except (kueue.KueueError, KubectlError) as exc:
        print(f"Kueue did not come up: {exc}", file=sys.stderr)
        return 1
    print(f"Kueue is up in namespace {NAMESPACE}")
    return 0

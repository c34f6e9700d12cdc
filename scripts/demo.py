"""The end-to-end demo behind `bash scripts/demo.sh` (see the README)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAMESPACE = "dask-demo"


def step(message: str) -> None:
    """Announce a step of the demo."""
    print(f"\n==> {message}", flush=True)


def sh(*cmd: str, input: str | None = None) -> str:
    """Run a command and return its output; stop the demo with its error if it fails."""
    proc = subprocess.run(cmd, input=input, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr}{proc.stdout}")
    return proc.stdout


def main() -> int:
    """Run the demo from start to clean-up."""
    from dask_kubernetes_dev import local_cli as local
    from dask_kubernetes_dev.install import install

    step("Starting the local control plane (etcd, kube-apiserver, controller-manager, scheduler, node agent)")
    local.main("up", [])
    kubeconfig = os.path.join(ROOT, ".cache", "local", "kubeconfig")
    os.environ["KUBECONFIG"] = kubeconfig
    try:
        step("Installing the operator and webhook: helm template | kubectl apply")
        from pathlib import Path

        install(Path(kubeconfig), "dask-operator")
        print(sh("kubectl", "get", "pods", "-n", "dask-operator"))
        sh("kubectl", "create", "namespace", NAMESPACE)

        step("Creating a Dask cluster from Python")
        import dask.array as da
        from distributed import Client

        from dask_kubernetes.operator import KubeCluster

        started = time.monotonic()
        with KubeCluster(name="demo", namespace=NAMESPACE, n_workers=2) as cluster:
            print(f"cluster up in {time.monotonic() - started:.0f}s; scaling to 3 workers")
            cluster.scale(3)
            with Client(cluster) as client:
                client.wait_for_workers(3, timeout=180)
                step("Computing da.ones((100, 100, 100), chunks=10).mean()")
                print(da.ones((100, 100, 100), chunks=10).mean().compute())
            step("kubectl get daskclusters")
            print(sh("kubectl", "get", "daskclusters", "-n", NAMESPACE))
        step("Cleaned up: the cluster is deleted")
        print(sh("kubectl", "get", "daskclusters,pods", "-n", NAMESPACE) or "no resources left")
    finally:
        step("Stopping the local control plane")
        local.main("down", [])
    return 0


if __name__ == "__main__":
    sys.exit(main())

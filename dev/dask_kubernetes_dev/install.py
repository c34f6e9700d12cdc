"""Install our chart into a test cluster the way users do: ``helm template | kubectl apply``.

The operator (and webhook) then run as Pods under the node agent with their real
RBAC, so a missing rule fails a test.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from dask_kubernetes_dev import kubectl
from dask_kubernetes_dev.polling import wait_for
from dask_kubernetes_dev.tools import PROJECT_ROOT, find

CHART = PROJECT_ROOT / "charts" / "dask-kubernetes-operator"
RELEASE = "dask-kubernetes-operator"


def render_chart(namespace: str, values: Sequence[str] = ()) -> str:
    """Render the chart with ``--set`` values."""
    cmd = [find("helm"), "template", RELEASE, str(CHART), "--namespace", namespace]
    for value in values:
        cmd += ["--set", value]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"helm template failed:\n{proc.stderr}")
    return proc.stdout


def install(kubeconfig: Path, namespace: str, values: Sequence[str] = (), *, timeout: float = 180) -> None:
    """Apply the chart and wait until the operator Deployment is available."""
    kubectl.run(kubeconfig, "create", "namespace", namespace, check=False)
    kubectl.run(kubeconfig, "apply", "--server-side", "-f", "-", input=render_chart(namespace, values))
    kubectl.run(kubeconfig, "wait", "--for=condition=Established", "crd", "--all", "--timeout=120s")

    def available() -> bool:
        deployments = kubectl.get_json(kubeconfig, "deployment", "-n", namespace)["items"]
        return bool(deployments) and all(
            (d.get("status") or {}).get("availableReplicas", 0) >= d["spec"].get("replicas", 1)
            for d in deployments
        )

    wait_for(available, timeout=timeout, what=f"the chart's Deployments in {namespace} to be available")


def uninstall(kubeconfig: Path, namespace: str, values: Sequence[str] = ()) -> None:
    """Delete what :func:`install` applied (CRDs are kept, as the chart's keep policy says)."""
    rendered = render_chart(namespace, [*values, "crds.enabled=false"])
    kubectl.run(
        kubeconfig, "delete", "--ignore-not-found", "--wait=false", "-f", "-", input=rendered, check=False
    )

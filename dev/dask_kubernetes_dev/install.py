"""Install our chart into a test cluster the way users do: ``helm template | kubectl apply``.

The operator (and webhook) then run as Pods under the node agent with their real
RBAC, so a missing rule fails a test.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from dask_kubernetes_dev.tools import PROJECT_ROOT, find

CHART = PROJECT_ROOT / "charts" / "dask-kubernetes-operator"
RELEASE = "dask-kubernetes-operator"
T = TypeVar("T")


def wait_for(check: Callable[[], T], *, timeout: float, what: str, interval: float = 0.5) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``.

    The timeout only bounds a failing test; no test asserts how long anything took.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last seen: {last!r})")


def _env(kubeconfig: Path) -> dict[str, str]:
    return {**os.environ, "KUBECONFIG": str(kubeconfig)}


def _run(cmd: Sequence[str], kubeconfig: Path, stdin: str | None = None) -> str:
    proc = subprocess.run(
        list(cmd),
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(kubeconfig),
    )
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd[:3])} failed:\n{proc.stderr}{proc.stdout}")
    return proc.stdout


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
    kubectl = find("kubectl")
    subprocess.run([kubectl, "create", "namespace", namespace], capture_output=True, env=_env(kubeconfig))
    _run([kubectl, "apply", "--server-side", "-f", "-"], kubeconfig, render_chart(namespace, values))
    _run([kubectl, "wait", "--for=condition=Established", "crd", "--all", "--timeout=120s"], kubeconfig)

    def available() -> bool:
        out = _run([kubectl, "get", "deployment", "-n", namespace, "-o", "json"], kubeconfig)
        deployments = json.loads(out)["items"]
        return bool(deployments) and all(
            (d.get("status") or {}).get("availableReplicas", 0) >= d["spec"].get("replicas", 1)
            for d in deployments
        )

    wait_for(available, timeout=timeout, what=f"the chart's Deployments in {namespace} to be available")


def uninstall(kubeconfig: Path, namespace: str, values: Sequence[str] = ()) -> None:
    """Delete what :func:`install` applied (CRDs are kept, as the chart's keep policy says)."""
    kubectl = find("kubectl")
    rendered = render_chart(namespace, [*values, "crds.enabled=false"])
    subprocess.run(
        [kubectl, "delete", "--ignore-not-found", "--wait=false", "-f", "-"],
        input=rendered,
        capture_output=True,
        text=True,
        env=_env(kubeconfig),
    )

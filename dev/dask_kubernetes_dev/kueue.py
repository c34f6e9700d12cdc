"""Install a real Kueue (v0.17.0, ``kueue/``) into a cluster, its manager a Pod under the node agent.

Kueue decides when a DaskJob or DaskCluster may start; testing against the real
controller, rather than a stand-in, is what shows the operator and Kueue agree on
Workloads, suspension and admission.  :func:`kueue_build` builds (or reuses) the
binary and Kueue's shipped manifests; :func:`install` renders them
(:mod:`.kueue_manifests`), applies them server-side and waits until Kueue answers.
``python -m dask_kubernetes_dev.kueue KUBECONFIG`` installs into a running cluster.
"""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dask_kubernetes import yamlio
from dask_kubernetes_dev import binary, kubectl
from dask_kubernetes_dev.kueue_manifests import (
    API_VERSION,
    CONFIG_MAP,
    DEPLOYMENT,
    EXTERNAL_FRAMEWORKS,
    NAMESPACE,
    WaitForPodsReady,
    render,
)
from dask_kubernetes_dev.polling import TimedOut, wait_for
from dask_kubernetes_dev.tools import PROJECT_ROOT

__all__ = [
    "BUILD_SCRIPT",
    "KueueError",
    "install",
    "kueue_build",
    "manifests",
    "read_config",
    "uninstall",
    "wait_ready",
]

BUILD_SCRIPT = PROJECT_ROOT / "kueue" / "build.sh"
# A ResourceFlavor that is never stored: its server-side dry run passes Kueue's
# mutating and validating webhooks only once they serve with an injected CA.
_PROBE_FLAVOR = {
    "apiVersion": API_VERSION,
    "kind": "ResourceFlavor",
    "metadata": {"name": "dask-kubernetes-install-probe"},
}


class KueueError(RuntimeError):
    """Kueue could not be built or did not come up; the message carries the manager's log tail."""


@functools.cache
def kueue_build() -> Path:
    """The folder holding the ``kueue`` binary and Kueue's manifests (``config/``), built when needed.

    ``DASK_K8S_KUEUE`` points at a prebuilt folder and skips the build.  A cold build
    takes minutes; afterwards the folder is reused until ``kueue/`` changes.
    """
    return binary.cached_build(BUILD_SCRIPT, "DASK_K8S_KUEUE", KueueError)


def read_config(folder: Path) -> dict[str, str]:
    """Every YAML file below ``folder/config`` by relative path, and ``VERSION``: :func:`render`'s input."""
    root = folder / "config"
    files = {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*.yaml") if p.is_file()}
    if not files:
        raise KueueError(f"{root} holds no manifests; rerun kueue/build.sh")
    version = root / "VERSION"
    files["VERSION"] = version.read_text() if version.exists() else ""
    return files


def manifests(
    folder: Path | None = None,
    *,
    wait_for_pods_ready: WaitForPodsReady | None = None,
    external_frameworks: Iterable[str] = EXTERNAL_FRAMEWORKS,
) -> list[dict[str, Any]]:
    """Kueue's install for this node: the build's manifests, its binary as the manager's command."""
    folder = folder or kueue_build()
    return render(
        read_config(folder),
        (folder / "kueue").resolve(),
        wait_for_pods_ready=wait_for_pods_ready,
        external_frameworks=external_frameworks,
    )


def _manager_report(kubeconfig: Path) -> str:
    """The manager Pods' states and the tail of the manager's log, for an error message."""
    pods = kubectl.run(kubeconfig, "get", "pods", "-n", NAMESPACE, "-o", "json", check=False)
    lines = []
    if pods.returncode == 0:
        for pod in json.loads(pods.stdout)["items"]:
            for status in (pod.get("status") or {}).get("containerStatuses") or []:
                state = status.get("state") or {}
                lines.append(
                    f"pod {pod['metadata']['name']}: {json.dumps(state)} ready={status.get('ready')}"
                )
            if not (pod.get("status") or {}).get("containerStatuses"):
                lines.append(f"pod {pod['metadata']['name']}: {json.dumps(pod.get('status') or {})[:400]}")
    logs = kubectl.run(
        kubeconfig, "logs", "-n", NAMESPACE, f"deployment/{DEPLOYMENT}", "--tail=40", check=False
    )
    tail = logs.stdout.strip() or logs.stderr.strip()
    return "\n".join([*lines, "manager log (last 40 lines):", tail])


def wait_ready(kubeconfig: Path, *, timeout: float = 300, crds: Iterable[str] = ()) -> None:
    """Wait until the CRDs are Established, the manager is Ready and the webhooks answer.

    Raises :class:`KueueError` with the manager's state and log tail when it does not.
    """
    names = [f"crd/{crd}" for crd in crds]
    try:
        if names:
            established = kubectl.run(
                kubeconfig,
                "wait",
                "--for=condition=Established",
                *names,
                f"--timeout={int(timeout)}s",
                check=False,
            )
            if established.returncode != 0:
                raise TimedOut(f"Kueue's CRDs were not Established: {established.stderr.strip()}")

        def available() -> bool:
            deployment = kubectl.get_json(kubeconfig, "deployment", DEPLOYMENT, "-n", NAMESPACE, retries=2)
            return int((deployment.get("status") or {}).get("availableReplicas") or 0) >= 1

        wait_for(available, timeout=timeout, interval=1, what=f"the Deployment {NAMESPACE}/{DEPLOYMENT}")

        def webhooks_answer() -> bool:
            probe = yamlio.dump(_PROBE_FLAVOR)
            answer = kubectl.run(
                kubeconfig, "create", "--dry-run=server", "-f", "-", input=probe, check=False
            )
            return answer.returncode == 0

        wait_for(
            webhooks_answer, timeout=timeout, interval=1, what="Kueue's webhooks to admit a ResourceFlavor"
        )
    except TimedOut as exc:
        raise KueueError(f"Kueue did not come up: {exc}\n{_manager_report(kubeconfig)}") from None


def install(
    kubeconfig: Path,
    *,
    wait_for_pods_ready: WaitForPodsReady | None = None,
    external_frameworks: Iterable[str] = EXTERNAL_FRAMEWORKS,
    folder: Path | None = None,
    timeout: float = 300,
) -> list[dict[str, Any]]:
    """Install Kueue (server-side apply) and wait until it serves; return what was applied.

    Applying again with other options updates the Configuration; the manager reads it
    only at start, so the Deployment's Pod is then replaced (a rollout restart).
    """
    docs = manifests(folder, wait_for_pods_ready=wait_for_pods_ready, external_frameworks=external_frameworks)
    previous = kubectl.run(
        kubeconfig, "get", "configmap", "-n", NAMESPACE, CONFIG_MAP, "-o", "json", check=False
    )
    kubectl.run(
        kubeconfig,
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        "-",
        input=yamlio.dump_all(docs),
        retries=2,
    )
    if previous.returncode == 0:
        (config,) = [d for d in docs if d["kind"] == "ConfigMap"]
        if json.loads(previous.stdout).get("data") != config["data"]:
            kubectl.run(kubeconfig, "rollout", "restart", "-n", NAMESPACE, f"deployment/{DEPLOYMENT}")
            kubectl.run(
                kubeconfig, "rollout", "status", "-n", NAMESPACE, f"deployment/{DEPLOYMENT}",
                f"--timeout={int(timeout)}s", check=False,
            )  # fmt: skip
    crds = [d["metadata"]["name"] for d in docs if d["kind"] == "CustomResourceDefinition"]
    wait_ready(kubeconfig, timeout=timeout, crds=crds)
    return docs


def uninstall(kubeconfig: Path, folder: Path | None = None) -> None:
    """Delete what :func:`install` applied, CRDs (and so every Kueue object) included."""
    docs = manifests(folder)
    kubectl.run(
        kubeconfig,
        "delete",
        "--ignore-not-found",
        "--wait=false",
        "-f",
        "-",
        input=yamlio.dump_all(docs),
        check=False,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m dask_kubernetes_dev.kueue KUBECONFIG [--wait-for-pods-ready SECONDS]``."""
    parser = argparse.ArgumentParser(prog="python -m dask_kubernetes_dev.kueue")
    parser.add_argument("kubeconfig", type=Path)
    parser.add_argument("--wait-for-pods-ready", type=float, default=None, metavar="SECONDS")
    options = parser.parse_args(argv)
    ready = WaitForPodsReady(options.wait_for_pods_ready) if options.wait_for_pods_ready else None
    try:
        install(options.kubeconfig, wait_for_pods_ready=ready)
    except (KueueError, kubectl.KubectlError, subprocess.SubprocessError) as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Kueue is up in {NAMESPACE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run upstream dask-kubernetes' operator in a test cluster, from its PyPI release.

Migration tests and benchmarks need the real thing side by side with ours: this
installs ``dask-kubernetes==VERSION`` into its own virtualenv under
``.cache/upstream/VERSION`` (once; later runs reuse it) and renders upstream's own
Helm chart from that install, with its own RBAC.  The node agent ignores images,
so the operator container's command is the virtualenv's absolute ``kopf`` path,
running upstream's image entrypoint (``kopf run -m dask_kubernetes.operator.controller``).

``python -m dask_kubernetes_dev.upstream`` prepares the virtualenv ahead of time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dask_kubernetes import yamlio
from dask_kubernetes_dev import kubectl
from dask_kubernetes_dev.polling import wait_for
from dask_kubernetes_dev.tools import PROJECT_ROOT, find

VERSION = "2026.3.0"
RELEASE = "dask-upstream"
CHART_SUBDIR = Path("dask_kubernetes/operator/deployment/helm/dask-kubernetes-operator")
# Upstream's image: ENTRYPOINT ["/usr/local/bin/kopf", "run", "-m", "dask_kubernetes.operator.controller"].
ENTRYPOINT_MODULE = "dask_kubernetes.operator.controller"


@dataclass(frozen=True)
class Upstream:
    """One installed upstream release: its virtualenv, package directory and chart."""

    version: str
    venv: Path

    @property
    def python(self) -> Path:
        """The virtualenv's interpreter."""
        return self.venv / "bin" / "python"

    @property
    def kopf(self) -> Path:
        """The virtualenv's ``kopf`` executable, which upstream's image runs."""
        return self.venv / "bin" / "kopf"

    @property
    def site_packages(self) -> Path:
        """Where upstream's ``dask_kubernetes`` package is installed."""
        (found,) = sorted(self.venv.glob("lib/python*/site-packages"))
        return found

    @property
    def chart(self) -> Path:
        """Upstream's Helm chart, as shipped in its wheel."""
        return self.site_packages / CHART_SUBDIR

    @property
    def crd_files(self) -> list[Path]:
        """Upstream's four CRDs (its chart's ``crds/`` folder, which Helm never tracks)."""
        return sorted((self.chart / "crds").glob("*.yaml"))


def ensure(version: str = VERSION, root: Path = PROJECT_ROOT) -> Upstream:
    """Install upstream ``version`` into ``.cache/upstream/VERSION/venv`` unless already there."""
    venv = root / ".cache" / "upstream" / version / "venv"
    stamp = venv / ".installed"
    if not stamp.exists():
        venv.parent.mkdir(parents=True, exist_ok=True)
        python = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([python, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"dask-kubernetes=={version}"],
            check=True,
        )
        stamp.touch()
    return Upstream(version=version, venv=venv)


def render_operator(
    upstream: Upstream, namespace: str, kopf_args: Sequence[str] = ("--all-namespaces",)
) -> list[dict[str, Any]]:
    """Render upstream's chart (without its CRDs) and point its container at the virtualenv's kopf."""
    cmd = [find("helm"), "template", RELEASE, str(upstream.chart), "--namespace", namespace]
    cmd += ["--set", "image.tag=" + upstream.version, "--set-json", "kopfArgs=" + json.dumps(list(kopf_args))]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"helm template of upstream's chart failed:\n{proc.stderr}")
    docs = [d for d in yamlio.load_all(proc.stdout) if d]
    for doc in docs:
        doc.setdefault("metadata", {})["namespace"] = namespace
        if doc["kind"] == "Deployment":
            container = doc["spec"]["template"]["spec"]["containers"][0]
            container["command"] = [str(upstream.kopf), "run", "-m", ENTRYPOINT_MODULE]
            # The node agent runs the command directly; the user must be able to read the virtualenv.
            container.get("securityContext", {}).pop("runAsUser", None)
    return docs


def _kubectl(kubeconfig: Path, *args: str, stdin: str | None = None, check: bool = True) -> str:
    return kubectl.run(kubeconfig, *args, input=stdin, check=check).stdout


def apply_crds(upstream: Upstream, kubeconfig: Path) -> None:
    """Apply upstream's CRDs with plain kubectl, as its chart's ``crds/`` leaves them (no Helm labels)."""
    names = []
    for path in upstream.crd_files:
        out = _kubectl(
            kubeconfig, "apply", "--server-side", "--force-conflicts", "-f", str(path), "-o", "name"
        )
        names.append(out.strip())

    def established() -> bool:
        # Not `kubectl wait`: it fails on a CRD whose status the API server has not written yet.
        for name in names:
            conditions = (kubectl.get_json(kubeconfig, name).get("status") or {}).get("conditions") or []
            if not any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                return False
        return True

    wait_for(established, timeout=120, what="upstream's CRDs to be established")


def install_operator(
    upstream: Upstream,
    kubeconfig: Path,
    namespace: str,
    kopf_args: Sequence[str] = ("--all-namespaces",),
    *,
    timeout: float = 180,
) -> None:
    """Run upstream's operator in ``namespace`` as a Pod with upstream's RBAC; wait until it is available."""
    _kubectl(kubeconfig, "create", "namespace", namespace, check=False)
    docs = render_operator(upstream, namespace, kopf_args)
    _kubectl(kubeconfig, "apply", "-f", "-", stdin=yamlio.dump_all(docs))

    def available() -> bool:
        items = kubectl.get_json(kubeconfig, "deployment", "-n", namespace)["items"]
        return bool(items) and all((d.get("status") or {}).get("availableReplicas", 0) >= 1 for d in items)

    wait_for(available, timeout=timeout, what=f"upstream's operator in {namespace} to be available")


def uninstall_operator(upstream: Upstream, kubeconfig: Path, namespace: str) -> None:
    """Delete upstream's operator Deployment and RBAC (its CRDs and clusters stay)."""
    docs = render_operator(upstream, namespace)
    _kubectl(
        kubeconfig, "delete", "--ignore-not-found", "--wait=true", "-f", "-", stdin=yamlio.dump_all(docs)
    )


if __name__ == "__main__":
    print(ensure().venv)

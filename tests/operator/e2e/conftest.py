"""Fixtures for operator tests against the local control plane, with the chart installed."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from dask_kubernetes import yamlio
from dask_kubernetes_dev import install
from dask_kubernetes_dev.polling import wait_for
from dask_kubernetes_dev.pytest_plugin import KubeTarget
from tests.conftest import CHART, ROOT

OPERATOR_NAMESPACE = "dask-operator"


def chart_values() -> list[str]:
    """Values for the operator tests: the defaults, plus a short autoscaler scale-down delay."""
    values = []
    if "webhook:" in (CHART / "values.yaml").read_text():
        values.append("webhook.enabled=false")
    return values


@pytest.fixture(scope="session")
def dask_operator(k8s_cluster: KubeTarget) -> Iterator[KubeTarget]:
    """The chart installed with `helm template | kubectl apply`; the operator runs as a Pod."""
    install.install(k8s_cluster.kubeconfig, OPERATOR_NAMESPACE, chart_values())
    yield k8s_cluster
    install.uninstall(k8s_cluster.kubeconfig, OPERATOR_NAMESPACE, chart_values())


class Kubectl:
    """kubectl in one namespace, with JSON reads."""

    def __init__(self, target: KubeTarget, namespace: str) -> None:
        self.target = target
        self.namespace = namespace

    def __call__(
        self, *args: str, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self.target.kubectl("-n", self.namespace, *args, check=check, input=input)

    def get(self, kind: str, name: str | None = None, selector: str | None = None) -> Any:
        args = ["get", kind, "-o", "json"]
        if name:
            args.insert(2, name)
        if selector:
            args += ["-l", selector]
        proc = self(*args, check=False)
        if proc.returncode != 0:
            return None
        return json.loads(proc.stdout)

    def items(self, kind: str, selector: str | None = None) -> list[dict[str, Any]]:
        data = self.get(kind, selector=selector)
        return [] if data is None else data["items"]

    def apply(self, obj_or_path: Any) -> subprocess.CompletedProcess[str]:
        if isinstance(obj_or_path, dict | list):
            docs = obj_or_path if isinstance(obj_or_path, list) else [obj_or_path]
            return self("apply", "-f", "-", input=yamlio.dump_all(docs))
        return self("apply", "-f", str(obj_or_path))


@pytest.fixture
def k(dask_operator: KubeTarget, namespace: str) -> Kubectl:
    return Kubectl(dask_operator, namespace)


def example(name: str) -> list[dict[str, Any]]:
    """Load an example manifest, without a hard-coded namespace, ready to apply in a test namespace."""
    docs = yamlio.load_all((ROOT / "examples" / name).read_text())
    for doc in docs:
        doc["metadata"].pop("namespace", None)
    return docs


def condition(obj: dict[str, Any] | None, type_: str) -> dict[str, Any] | None:
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond["type"] == type_:
            return cond
    return None


def is_ready(obj: dict[str, Any] | None) -> bool:
    cond = condition(obj, "Ready")
    return bool(
        cond
        and cond["status"] == "True"
        and obj is not None
        and obj["status"].get("observedGeneration") == obj["metadata"]["generation"]
    )


def wait_ready(k: Kubectl, kind: str, name: str, timeout: float = 240) -> dict[str, Any]:
    return wait_for(
        lambda: (lambda o: o if is_ready(o) else None)(k.get(kind, name)),
        timeout=timeout,
        what=f"{kind}/{name} Ready",
    )


def worker_pods(k: Kubectl, group: str) -> list[dict[str, Any]]:
    return [
        p
        for p in k.items("pods", f"dask.org/workergroup-name={group}")
        if not p["metadata"].get("deletionTimestamp")
    ]


def operator_pods(k: Kubectl) -> list[str]:
    """Names of the operator's Pods (the chart's Deployment, not the webhook's)."""
    out = k.target.kubectl(
        "-n",
        OPERATOR_NAMESPACE,
        "get",
        "pods",
        "-l",
        "app.kubernetes.io/name=dask-kubernetes-operator",
        "-o",
        "name",
    ).stdout
    return [line.split("/", 1)[1] for line in out.split()]


def wait_condition(k: Kubectl, kind: str, name: str, type_: str, timeout: float = 240) -> dict[str, Any]:
    """Wait until an object's condition ``type_`` is True; return the object."""

    def check() -> dict[str, Any] | None:
        obj = k.get(kind, name)
        cond = condition(obj, type_)
        return obj if cond and cond["status"] == "True" else None

    return wait_for(check, timeout=timeout, what=f"{kind}/{name} {type_}=True")

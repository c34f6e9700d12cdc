"""The chart's webhook installed in a real control plane, for tests through kubectl.

The webhook runs as its own Deployment under the node agent, with its real RBAC and
its self-managed CA.  Its namespaceSelector is narrowed (with the chart's own
``matchExpressions`` value) to namespaces labelled for this session, so it never
judges what other tests create, even while it is scaled to zero.  The operator
Deployment is left out: it is tested on its own, and here it would only turn the
test objects into Pods.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dask_kubernetes import yamlio
from dask_kubernetes_dev import kubectl
from dask_kubernetes_dev import tools as _tools
from dask_kubernetes_dev.polling import wait_for
from dask_kubernetes_dev.pytest_plugin import KubeTarget
from tests.conftest import CHART, ROOT, run

pytestmark = pytest.mark.cluster

SELECTOR_LABEL = "dask.org/webhook-e2e"
DENIED = 'admission webhook "validate.kubernetes.dask.org" denied the request'


@dataclass
class Webhook:
    """One install of the chart's webhook, and how to reach it."""

    cluster: KubeTarget
    namespace: str
    fullname: str
    selector_value: str
    manifests: list[dict[str, Any]]

    def kubectl(
        self, *args: str, check: bool = False, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self.cluster.kubectl(*args, check=check, input=input)

    def get(self, *args: str) -> Any:
        return kubectl.get_json(self.cluster.kubeconfig, *args)

    def configurations(self) -> list[dict[str, Any]]:
        return [
            self.get(kind, self.fullname)
            for kind in ("validatingwebhookconfiguration", "mutatingwebhookconfiguration")
        ]

    def ca_bundles_patched(self) -> bool:
        return all(
            hook["clientConfig"].get("caBundle") for c in self.configurations() for hook in c["webhooks"]
        )

    def available(self) -> bool:
        deploy = self.get("deployment", self.fullname, "-n", self.namespace)
        return (deploy.get("status") or {}).get("availableReplicas", 0) == deploy["spec"]["replicas"]


@pytest.fixture(scope="session")
def webhook_cluster(request: pytest.FixtureRequest) -> KubeTarget:
    """The session's control plane; ``DASK_WEBHOOK_E2E_KUBECONFIG`` points at a running one instead.

    The override is a development shortcut for iterating on these tests against a
    control plane already up (``dask-kubernetes local up``).
    """
    kubeconfig = os.environ.get("DASK_WEBHOOK_E2E_KUBECONFIG")
    if kubeconfig:
        return KubeTarget(kubeconfig=Path(kubeconfig), backend="local")
    target: KubeTarget = request.getfixturevalue("k8s_cluster")
    return target


def render(namespace: str, release: str, selector_value: str, tmp: Path) -> list[dict[str, Any]]:
    values = tmp / "values.yaml"
    values.write_text(
        yamlio.dump(
            {
                "webhook": {
                    "namespaceSelector": {
                        "matchExpressions": [
                            {"key": SELECTOR_LABEL, "operator": "In", "values": [selector_value]}
                        ]
                    }
                }
            }
        )
    )
    proc = run(
        [
            _tools.find("helm"),
            "template",
            release,
            str(CHART),
            "--namespace",
            namespace,
            "--values",
            str(values),
        ]
    )
    if proc.returncode != 0:  # pragma: no cover - the chart tests catch this first
        raise AssertionError(proc.stderr)
    objs = yamlio.load_all(proc.stdout)
    return [o for o in objs if not (o["kind"] == "Deployment" and "webhook" not in o["metadata"]["name"])]


@pytest.fixture(scope="session")
def webhook(webhook_cluster: KubeTarget, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Webhook]:
    """Install the chart's webhook with ``helm template | kubectl apply`` and wait until it serves."""
    suffix = uuid.uuid4().hex[:6]
    namespace, release = f"dask-webhook-{suffix}", f"dwh-{suffix}"
    manifests = render(namespace, release, suffix, tmp_path_factory.mktemp("webhook"))
    hook = Webhook(
        webhook_cluster, namespace, f"{release}-dask-kubernetes-operator-webhook", suffix, manifests
    )
    hook.kubectl("create", "namespace", namespace, check=True)
    hook.kubectl("apply", "--server-side", "-f", "-", input=yamlio.dump_all(manifests), check=True)
    hook.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=120s", check=True)
    try:
        wait_for(hook.available, timeout=240, what="the webhook Deployment to be available")
        wait_for(
            hook.ca_bundles_patched, timeout=60, what="the webhook to patch caBundle into both configurations"
        )
        yield hook
    finally:
        logs = hook.kubectl("logs", "-n", namespace, "-l", "app.kubernetes.io/component=webhook", "--tail=40")
        print(f"\n--- webhook logs ---\n{logs.stdout}{logs.stderr}")
        cluster_scoped = [
            o
            for o in manifests
            if o["kind"] != "CustomResourceDefinition" and "namespace" not in o["metadata"]
        ]
        hook.kubectl(
            "delete", "--ignore-not-found", "--wait=false", "-f", "-", input=yamlio.dump_all(cluster_scoped)
        )
        hook.kubectl("delete", "namespace", namespace, "--wait=false")


@pytest.fixture
def dask_namespace(webhook: Webhook) -> Iterator[str]:
    """A fresh namespace that this session's webhook judges, deleted afterwards.

    Made here rather than with the plugin's ``namespace`` fixture, which would start
    the session control plane even when ``DASK_WEBHOOK_E2E_KUBECONFIG`` points elsewhere.
    """
    name = f"t-{uuid.uuid4().hex[:10]}"
    webhook.kubectl("create", "namespace", name, check=True)
    webhook.kubectl("label", "namespace", name, f"{SELECTOR_LABEL}={webhook.selector_value}", check=True)
    yield name
    webhook.kubectl("delete", "namespace", name, "--wait=false")


def example(name: str) -> list[dict[str, Any]]:
    """An example manifest without its namespace, ready to apply in a test namespace."""
    docs = yamlio.load_all((ROOT / "examples" / name).read_text())
    for doc in docs:
        doc["metadata"].pop("namespace", None)
    return docs


def apply(webhook: Webhook, namespace: str, objs: Any, *args: str) -> subprocess.CompletedProcess[str]:
    """``kubectl apply`` objects (or one object) into ``namespace``."""
    docs = objs if isinstance(objs, list) else [objs]
    return webhook.kubectl("apply", "-n", namespace, *args, "-f", "-", input=yamlio.dump_all(docs))

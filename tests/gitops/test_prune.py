"""Prune-safe chart: turning the webhook off and re-applying with ``--prune`` leaves nothing behind.

kubectl's default prune allowlist leaves out webhook configurations; left behind, the
fail-closed ValidatingWebhookConfiguration would refuse every Dask create.  The README
gives the allowlist; this test uses exactly that list, read from the README.  The CA
Secret the webhook makes is owned by its Deployment, so garbage collection removes it.
"""

from __future__ import annotations

import re
import uuid

import pytest

from dask_kubernetes import yamlio
from dask_kubernetes_dev import tools as _tools
from dask_kubernetes_dev.polling import wait_for
from tests.conftest import CHART, ROOT, run
from tests.operator.e2e.conftest import example

pytestmark = pytest.mark.cluster


def documented_allowlist() -> list[str]:
    """The ``--prune-allowlist`` values of the README's prune command."""
    found = re.findall(r"--prune-allowlist=(\S+)", (ROOT / "README.md").read_text())
    assert found, "README.md gives no --prune-allowlist"
    return found


def _render(release: str, namespace: str, *values: str, only: str | None = None) -> list[dict]:
    """The chart without CRDs (shared by the session); ``only`` narrows the webhook to one namespace."""
    cmd = [_tools.find("helm"), "template", release, str(CHART), "--namespace", namespace]
    cmd += ["--set", "crds.enabled=false", "--set", "kopfArgs={--namespace=nowhere}"]
    for value in values:
        cmd += ["--set", value]
    narrow = {"key": "kubernetes.io/metadata.name", "operator": "In", "values": [only]}
    selector = {"webhook": {"namespaceSelector": {"matchExpressions": [narrow]}}} if only else None
    proc = run(
        [*cmd, "--values", "-"] if selector else cmd, input=yamlio.dump(selector) if selector else None
    )
    assert proc.returncode == 0, proc.stderr
    return yamlio.load_all(proc.stdout)


def test_allowlist_covers_every_kind_the_chart_makes() -> None:
    allow = set(documented_allowlist())
    for obj in _render("x", "ns", "webhook.enabled=true"):
        group, _, version = obj["apiVersion"].rpartition("/")
        assert f"{group or 'core'}/{version}/{obj['kind']}" in allow, obj["kind"]


def test_webhook_off_and_prune_leaves_no_configuration(k8s_cluster, namespace) -> None:
    suffix = uuid.uuid4().hex[:6]
    release, ns = f"prune-{suffix}", f"prune-{suffix}"
    webhook = f"{release}-dask-kubernetes-operator-webhook"
    kubectl = k8s_cluster.kubectl
    for path in sorted((ROOT / "overlays" / "base" / "crds").glob("*.yaml")):
        kubectl("apply", "--server-side", "--force-conflicts", "-f", str(path))
    kubectl("create", "namespace", ns)
    selector = f"app.kubernetes.io/instance={release}"
    prune = ["apply", "--prune", "-l", selector, *(f"--prune-allowlist={a}" for a in documented_allowlist())]
    try:
        kubectl(*prune, "-f", "-", input=yamlio.dump_all(_render(release, ns, only=namespace)))

        def serving():
            proc = kubectl(
                "get",
                "deployment",
                webhook,
                "-n",
                ns,
                "-o",
                "jsonpath={.status.availableReplicas}",
                check=False,
            )
            return proc.stdout.strip() not in ("", "0")

        wait_for(serving, timeout=240, what="the webhook to serve")
        secret = wait_for(
            lambda: kubectl("get", "secret", f"{webhook}-ca", "-n", ns, "-o", "json", check=False).stdout,
            timeout=60,
            what="the CA Secret",
        )
        ca = yamlio.load_all(secret)[0]
        assert [o["kind"] for o in ca["metadata"]["ownerReferences"]] == ["Deployment"]
        assert ca["metadata"]["labels"]["app.kubernetes.io/instance"] == release

        kubectl(
            *prune,
            "-f",
            "-",
            input=yamlio.dump_all(_render(release, ns, "webhook.enabled=false", only=namespace)),
        )
        for kind in ("validatingwebhookconfiguration", "mutatingwebhookconfiguration"):
            assert kubectl("get", kind, webhook, check=False).returncode != 0, kind
        assert kubectl("get", "deployment", webhook, "-n", ns, check=False).returncode != 0
        wait_for(
            lambda: kubectl("get", "secret", f"{webhook}-ca", "-n", ns, check=False).returncode != 0,
            timeout=120,
            what="garbage collection to delete the CA Secret",
        )
        (cluster,) = example("cluster.yaml")
        kubectl("apply", "-n", namespace, "-f", "-", input=yamlio.dump(cluster))
    finally:
        rest = _render(release, ns, "webhook.enabled=false")
        kubectl(
            "delete",
            "--ignore-not-found",
            "--wait=false",
            "-f",
            "-",
            input=yamlio.dump_all(rest),
            check=False,
        )
        kubectl("delete", "namespace", ns, "--wait=false", check=False)

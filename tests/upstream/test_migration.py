"""Migrating a live installation of upstream dask-kubernetes 2026.3.0 to ours.

Upstream's released operator (from PyPI, in its own virtualenv) makes a cluster;
``KubeCluster.from_name`` connects to it; our chart takes the release over with the
documented CRD step; our operator then leaves the upstream cluster alone and says
how to migrate it.  The CRDs are swapped here, so this module has its own control
plane rather than the session's.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from distributed import Client

from dask_kubernetes.operator import KubeCluster
from dask_kubernetes_dev import upstream
from dask_kubernetes_dev.polling import wait_for
from dask_kubernetes_dev.pytest_plugin import KubeTarget, _start_local
from dask_kubernetes_dev.tools import find
from tests.conftest import CHART, ROOT

pytestmark = pytest.mark.cluster

APPS = "apps"
RELEASE = "dask-kubernetes-operator"
OPERATOR_NS = "dask-operator"
UPSTREAM_NS = "dask-upstream"
DOC = ROOT / "docs" / "migrating-from-upstream.md"


@pytest.fixture(scope="module")
def fresh(request) -> KubeTarget:
    """A control plane of this module's own: it installs upstream's CRDs, then ours."""
    yield from _start_local(request)


@pytest.fixture(scope="module")
def released() -> upstream.Upstream:
    return upstream.ensure()


def takeover_step() -> str:
    """The shell block the migration guide gives for the CRD takeover, verbatim."""
    text = DOC.read_text()
    match = re.search(r"<!-- crd-takeover[^>]*-->\s*```bash\n(.*?)```", text, re.S)
    assert match, "docs/migrating-from-upstream.md lost its crd-takeover block"
    return match.group(1)


def helm_upgrade(
    target: KubeTarget, *values: str, force_conflicts: bool = False
) -> subprocess.CompletedProcess[str]:
    cmd = [find("helm"), "upgrade", "--install", RELEASE, str(CHART)]
    if force_conflicts:  # as the guide says for Helm 4's server-side apply
        cmd.append("--force-conflicts")
    cmd += ["--namespace", OPERATOR_NS, "--create-namespace", "--set", "webhook.enabled=false"]
    for value in values:
        cmd += ["--set", value]
    return subprocess.run(cmd, capture_output=True, text=True, env=target.env())


def get(target: KubeTarget, *args: str) -> dict:
    proc = target.kubectl("get", *args, "-o", "json", check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else {}


def stalled(obj: dict) -> dict | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond["type"] == "Stalled" and cond["status"] == "True":
            return cond
    return None


def test_upstream_cluster_survives_the_takeover_and_is_reported(fresh, released, monkeypatch):
    kc = fresh.kubeconfig
    # Upstream as users run it: CRDs from its chart's crds/ folder (no Helm labels) and
    # its operator Deployment with its own RBAC.
    upstream.apply_crds(released, kc)
    upstream.install_operator(released, kc, UPSTREAM_NS)
    fresh.kubectl("create", "namespace", APPS)
    fresh.kubectl("-n", APPS, "apply", "-f", str(ROOT / "examples" / "cluster.yaml"))
    wait_for(
        lambda: (
            get(fresh, "-n", APPS, "deployment", "simple-scheduler").get("status", {}).get("readyReplicas")
        ),
        timeout=240,
        what="upstream's scheduler Deployment to be ready",
    )

    # KubeCluster.from_name reaches upstream's scheduler through its Service.
    monkeypatch.setenv("KUBECONFIG", str(kc))
    cluster = KubeCluster.from_name("simple", namespace=APPS, quiet=True, resource_timeout=120)
    try:
        with Client(cluster) as client:
            client.wait_for_workers(1, timeout=240)
            assert client.submit(lambda x: x + 1, 10).result(timeout=60) == 11
    finally:
        cluster.close()
    assert get(fresh, "-n", APPS, "daskcluster", "simple")  # from_name leaves it

    # Upstream's operator stops; our chart keeps its CRDs for now (crds.enabled=false) ...
    upstream.uninstall_operator(released, kc, UPSTREAM_NS)
    first = helm_upgrade(fresh, "crds.enabled=false")
    assert first.returncode == 0, first.stderr
    # ... and cannot take them over until they carry Helm's ownership metadata ...
    refused = helm_upgrade(fresh)
    assert refused.returncode != 0
    assert 'CustomResourceDefinition "dask' in refused.stderr, refused.stderr
    assert "invalid ownership metadata" in refused.stderr, refused.stderr
    # ... which the guide's step adds.
    env = {**fresh.env(), "RELEASE": RELEASE, "NAMESPACE": OPERATOR_NS}
    env["PATH"] = f"{Path(find('kubectl')).parent}{os.pathsep}{env['PATH']}"
    step = subprocess.run(["bash", "-euo", "pipefail", "-c", takeover_step()], env=env, capture_output=True)
    assert step.returncode == 0, step.stderr
    taken = helm_upgrade(fresh, force_conflicts=True)
    assert taken.returncode == 0, taken.stderr
    crd = get(fresh, "crd", "daskclusters.kubernetes.dask.org")
    assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert "status" in crd["spec"]["versions"][0]["subresources"]  # ours, not upstream's

    # Our operator leaves the upstream cluster alone and names the migration step.
    wait_for(
        lambda: stalled(get(fresh, "-n", APPS, "daskcluster", "simple")),
        timeout=240,
        what="the upstream cluster to be Stalled",
    )
    message = stalled(get(fresh, "-n", APPS, "daskcluster", "simple"))["message"]
    assert "upstream" in message and "kubectl delete daskcluster simple -n apps" in message
    wait_for(
        lambda: stalled(get(fresh, "-n", APPS, "daskworkergroup", "simple-default")),
        timeout=120,
        what="the upstream worker group to be Stalled",
    )
    schedulers = get(fresh, "-n", APPS, "pods", "-l", "dask.org/component=scheduler")["items"]
    assert len(schedulers) == 1
    assert schedulers[0]["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
    workers = get(fresh, "-n", APPS, "pods", "-l", "dask.org/component=worker")["items"]
    assert all(p["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet" for p in workers)

"""The local control plane's API server: version, CRDs, CEL rules and the scale subresource."""

from __future__ import annotations

import json

import pytest

from dask_kubernetes import yamlio
from tests.conftest import CRD_DIR, ROOT

pytestmark = pytest.mark.cluster


def test_version_is_the_pinned_release(k8s_cluster):
    out = json.loads(k8s_cluster.kubectl("version", "-o", "json").stdout)
    assert out["serverVersion"]["gitVersion"] == "v1.36.3"


@pytest.fixture(scope="module")
def crds_installed(k8s_cluster):
    k8s_cluster.kubectl("apply", "-f", str(CRD_DIR))
    k8s_cluster.kubectl("wait", "--for=condition=Established", "-f", str(CRD_DIR), "--timeout=120s")
    return k8s_cluster


def test_crds_apply_client_side_and_become_established(crds_installed):
    names = json.loads(crds_installed.kubectl("get", "-f", str(CRD_DIR), "-o", "json").stdout)
    for crd in names["items"]:
        established = [c for c in crd["status"]["conditions"] if c["type"] == "Established"]
        assert established and established[0]["status"] == "True", crd["metadata"]["name"]
    assert len(names["items"]) == len(list(CRD_DIR.glob("*.yaml")))


def test_explain_shows_worker_fields(crds_installed):
    out = crds_installed.kubectl("explain", "daskcluster.spec.worker").stdout
    for field in ("replicas", "spec", "metadata"):
        assert f"\n  {field}\t" in out, out


def test_cel_rule_refuses_minimum_above_maximum(crds_installed, namespace):
    autoscaler = {
        "apiVersion": "kubernetes.dask.org/v1",
        "kind": "DaskAutoscaler",
        "metadata": {"name": "bad"},
        "spec": {"cluster": "simple", "minimum": 5, "maximum": 2},
    }
    proc = crds_installed.kubectl(
        "apply", "-n", namespace, "-f", "-", input=json.dumps(autoscaler), check=False
    )
    assert proc.returncode != 0
    assert "spec.minimum must be less than or equal to spec.maximum" in proc.stderr


def test_cel_rule_refuses_long_cluster_name(crds_installed, namespace):
    (cluster,) = yamlio.load_all((ROOT / "examples" / "cluster.yaml").read_text())
    cluster["metadata"]["name"] = "c" * 54
    proc = crds_installed.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(cluster), check=False)
    assert proc.returncode != 0
    assert "at most 53 characters" in proc.stderr


def test_scale_changes_worker_replicas(crds_installed, namespace):
    crds_installed.kubectl("apply", "-n", namespace, "-f", str(ROOT / "examples" / "highmemworkers.yaml"))
    crds_installed.kubectl("scale", "daskworkergroup", "simple-highmem", "--replicas=5", "-n", namespace)
    out = crds_installed.kubectl(
        "get", "daskworkergroup", "simple-highmem", "-n", namespace, "-o", "jsonpath={.spec.worker.replicas}"
    )
    assert out.stdout == "5"

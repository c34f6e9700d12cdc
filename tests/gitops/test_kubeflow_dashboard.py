"""The Kubeflow dashboard PodDefault: valid for the PodDefault CRD, and honoured by dashboard_link."""

from __future__ import annotations

import dask.config
import pytest

from dask_kubernetes import yamlio
from dask_kubernetes.operator.kubecluster.address import Endpoint
from dask_kubernetes.operator.kubecluster.kubecluster import KubeCluster
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "kubeflow" / "dask-dashboard-poddefault.yaml"
CRD = ROOT / "tests" / "gitops" / "data" / "poddefault-crd.yaml"


def _docs() -> dict[str, dict]:
    return {doc["kind"]: doc for doc in yamlio.load_all(EXAMPLE.read_text())}


def _env() -> dict[str, str]:
    return {e["name"]: e["value"] for e in _docs()["PodDefault"]["spec"]["env"]}


def test_dashboard_link_honours_the_poddefault(monkeypatch: pytest.MonkeyPatch) -> None:
    # The environment the PodDefault gives a notebook, read as dask reads its environment.
    config = dask.config.collect_env({k: v for k, v in _env().items() if k.startswith("DASK_")})
    monkeypatch.setenv("NB_PREFIX", "/notebook/team-a/nb-1")
    cluster = object.__new__(KubeCluster)
    cluster._dashboard = Endpoint("simple-scheduler.team-a.svc.cluster.local", 8787)
    with dask.config.set({"distributed.dashboard.link": config["distributed"]["dashboard"]["link"]}):
        link = cluster.dashboard_link
    assert link == "/notebook/team-a/nb-1/proxy/simple-scheduler.team-a.svc.cluster.local:8787/status"


def test_proxy_allowlist_admits_only_scheduler_services() -> None:
    script = _docs()["ConfigMap"]["data"]["jupyter_server_config.py"]

    class Config:
        class ServerProxy:
            host_allowlist = None

    scope = {"c": Config}
    exec(compile(script, "jupyter_server_config.py", "exec"), scope)
    allowed = Config.ServerProxy.host_allowlist
    assert allowed(None, "simple-scheduler.team-a.svc.cluster.local")
    assert not allowed(None, "simple-scheduler")
    assert not allowed(None, "kubernetes.default.svc.cluster.local")
    assert not allowed(None, "example.com")


@pytest.mark.cluster
def test_poddefault_is_valid_for_the_crd(k8s_cluster, namespace) -> None:
    k8s_cluster.kubectl("apply", "--server-side", "-f", str(CRD))
    k8s_cluster.kubectl(
        "wait", "--for=condition=Established", "crd/poddefaults.kubeflow.org", "--timeout=60s"
    )
    proc = k8s_cluster.kubectl(
        "apply", "-n", namespace, "--dry-run=server", "--validate=strict", "-f", str(EXAMPLE), check=False
    )
    assert proc.returncode == 0, proc.stderr
    # The same check refuses a field the CRD does not know: it is a real check.
    bad = _docs()["PodDefault"]
    bad["spec"]["notAField"] = True
    proc = k8s_cluster.kubectl(
        "apply",
        "-n",
        namespace,
        "--dry-run=server",
        "--validate=strict",
        "-f",
        "-",
        input=yamlio.dump(bad),
        check=False,
    )
    assert proc.returncode != 0 and "notAField" in proc.stderr

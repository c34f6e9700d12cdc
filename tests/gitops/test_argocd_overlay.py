"""overlays/argocd and the Argo CD examples: health entries, sync waves, ignore rules, paths."""

from __future__ import annotations

import pytest

from dask_kubernetes import yamlio
from dask_kubernetes_dev.generator import argocd, helm
from dask_kubernetes_dev.luahealth import SCRIPT
from tests.conftest import CHART, ROOT, run

WAVE = "argocd.argoproj.io/sync-wave"
APPS = sorted((ROOT / "examples" / "argocd").glob("*.yaml"))


def _wave(obj: dict) -> int:
    return int(obj["metadata"].get("annotations", {}).get(WAVE, "0"))


def test_argocd_cm_holds_the_wildcard_health_check_verbatim_for_each_kind() -> None:
    # One key per kind, not the wildcard key `kubernetes.dask.org_*`: every Argo CD reads these.
    (cm,) = yamlio.load_all((ROOT / "overlays" / "argocd" / "argocd-cm.yaml").read_text())
    health = {k: v for k, v in cm["data"].items() if k.startswith("resource.customizations.health.")}
    assert health == {argocd.health_key(kind): SCRIPT.read_text() for kind in argocd.KINDS}
    assert set(health) == {
        f"resource.customizations.health.kubernetes.dask.org_{kind}"
        for kind in ("DaskCluster", "DaskWorkerGroup", "DaskJob", "DaskAutoscaler")
    }


def test_sync_waves_order_crds_webhook_configurations_then_resources() -> None:
    objs = helm.template(CHART)
    crds = [o for o in objs if o["kind"] == "CustomResourceDefinition"]
    hook = [o for o in objs if o["kind"] in ("Deployment", "Service") and "webhook" in o["metadata"]["name"]]
    configs = [o for o in objs if o["kind"].endswith("WebhookConfiguration")]
    assert crds and len(hook) == 2 and len(configs) == 2
    assert max(map(_wave, crds)) < min(map(_wave, hook))
    assert max(map(_wave, hook)) < min(map(_wave, configs))
    # Custom resources have no annotation: wave 0, after everything the chart makes.
    assert max(_wave(o) for o in objs) < 0


def test_overlay_builds_and_applies_crds_server_side(kubectl) -> None:
    proc = run([kubectl, "kustomize", str(ROOT / "overlays" / "argocd")])
    assert proc.returncode == 0, proc.stderr
    objs = yamlio.load_all(proc.stdout)
    for crd in (o for o in objs if o["kind"] == "CustomResourceDefinition"):
        assert crd["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] == "ServerSideApply=true"


@pytest.mark.parametrize("path", APPS, ids=lambda p: p.name)
def test_application_example_points_at_this_repository(path) -> None:
    (app,) = yamlio.load_all(path.read_text())
    assert (app["apiVersion"], app["kind"]) == ("argoproj.io/v1alpha1", "Application")
    spec = app["spec"]
    assert (ROOT / spec["source"]["path"]).is_dir()
    assert spec["destination"]["namespace"]
    assert app["metadata"]["annotations"]["argocd.argoproj.io/compare-options"] == "ServerSideDiff=true"
    assert "RespectIgnoreDifferences=true" in spec["syncPolicy"]["syncOptions"]
    for rule in spec.get("ignoreDifferences", []):
        assert rule.get("jqPathExpressions") or rule.get("jsonPointers")


def test_operator_application_ignores_the_ca_bundle_of_both_configurations() -> None:
    (app,) = yamlio.load_all((ROOT / "examples" / "argocd" / "operator-application.yaml").read_text())
    ignored = {
        r["kind"]
        for r in app["spec"]["ignoreDifferences"]
        if ".webhooks[]?.clientConfig.caBundle" in r["jqPathExpressions"]
    }
    kinds = {
        o["kind"]
        for o in helm.template(ROOT / app["spec"]["source"]["path"])
        if o["kind"].endswith("WebhookConfiguration")
    }
    assert ignored == kinds == {"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}

"""Chart properties GitOps tools rely on: instance labels everywhere, readiness, aggregated roles."""

from __future__ import annotations

import pytest

from dask_kubernetes_dev.generator import helm
from tests.conftest import CHART

CI_VALUES = sorted((CHART / "ci").glob("*.yaml"))
EDIT, VIEW = "rbac.authorization.k8s.io/aggregate-to-edit", "rbac.authorization.k8s.io/aggregate-to-view"
KF_EDIT, KF_VIEW = (
    "rbac.authorization.kubeflow.org/aggregate-to-kubeflow-edit",
    "rbac.authorization.kubeflow.org/aggregate-to-kubeflow-view",
)


@pytest.mark.parametrize("values", [None, *CI_VALUES], ids=lambda p: p.stem if p else "default")
def test_every_object_carries_the_instance_labels(values) -> None:
    objs = helm.template(CHART, value_files=[values] if values else [], release="rel")
    for obj in objs:
        labels = obj["metadata"].get("labels") or {}
        assert labels.get("app.kubernetes.io/instance") == "rel", (obj["kind"], obj["metadata"]["name"])
        assert labels.get("app.kubernetes.io/name"), (obj["kind"], obj["metadata"]["name"])


def test_operator_deployment_has_a_readiness_probe() -> None:
    (deploy,) = [
        o
        for o in helm.template(CHART)
        if o["kind"] == "Deployment" and "webhook" not in o["metadata"]["name"]
    ]
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    probe = container["readinessProbe"]["httpGet"]
    assert probe["path"] == "/healthz"
    assert probe["port"] in {p["name"] for p in container["ports"]}
    assert "--liveness=http://0.0.0.0:8080/healthz" in container["args"]


def _user_roles(values: dict) -> dict[str, dict]:
    objs = helm.template(CHART, values=values)
    return {
        o["metadata"]["name"].rsplit("-", 1)[1]: o["metadata"]["labels"]
        for o in objs
        if o["kind"] == "ClusterRole" and o["metadata"]["name"].endswith(("-edit", "-view"))
    }


def test_builtin_aggregation_is_on_and_kubeflow_off_by_default() -> None:
    roles = _user_roles({})
    assert roles["edit"][EDIT] == "true" and roles["view"][VIEW] == "true"
    assert KF_EDIT not in roles["edit"] and KF_VIEW not in roles["view"]


def test_kubeflow_aggregation_is_a_value() -> None:
    roles = _user_roles({"rbac": {"aggregate": {"kubeflow": True, "defaultRoles": False}}})
    assert roles["edit"][KF_EDIT] == "true" and roles["view"][KF_VIEW] == "true"
    assert EDIT not in roles["edit"] and VIEW not in roles["view"]
    assert _user_roles({"rbac": {"aggregate": {"defaultRoles": False}}}) == {}

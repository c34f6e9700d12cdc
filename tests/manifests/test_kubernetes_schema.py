"""Every rendered object validates against the schema of the pinned Kubernetes version.

Core objects are checked with kubernetes-validate (strict: unknown fields fail);
Prometheus monitors and cert-manager Issuers and Certificates with cloudcoil's models,
strictly by round-tripping; our custom resources (examples) with the generated CRD
schemas.
"""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest
from cloudcoil.models.cert_manager import v1 as cert_manager
from cloudcoil.models.prometheus_operator import v1 as monitoring

from dask_kubernetes_dev.generator import vendor
from tests.chart.test_helm_render import CI_VALUES, template
from tests.conftest import ROOT, load_docs, run

K8S_VERSION = vendor.KUBERNETES_VERSION.lstrip("v")
OVERLAYS = sorted(p.parent.name for p in (ROOT / "overlays").glob("*/kustomization.yaml"))
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.yaml") if p.name != "kustomization.yaml")


def _strip_none(value):
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


def validate_object(obj, validators=None):
    """Validate one object; return a list of readable problems."""
    api = obj["apiVersion"]
    for prefix, models, project in (
        ("monitoring.coreos.com/", monitoring, "prometheus-operator"),
        ("cert-manager.io/", cert_manager, "cert-manager"),
    ):
        if api.startswith(prefix):
            model = getattr(models, obj["kind"])
            parsed = model.model_validate(obj)
            dumped = _strip_none(parsed.model_dump(by_alias=True, exclude_unset=True, mode="json"))
            return [] if dumped == obj else [f"{obj['kind']} has fields the {project} schema does not know"]
    if api.startswith("kubernetes.dask.org/"):
        return [str(e) for e in validators[obj["kind"]].errors(obj)]
    try:
        kubernetes_validate.validate(copy.deepcopy(obj), K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{obj['kind']}/{obj['metadata'].get('name')}: {exc.message} at {list(exc.path)}"]
    return []


@pytest.mark.parametrize("values", [None, *CI_VALUES], ids=["default", *[p.stem for p in CI_VALUES]])
def test_chart_objects_validate(helm, values):
    proc, objs = template(helm, *(["--values", str(values)] if values else []))
    assert proc.returncode == 0, proc.stderr
    assert objs
    problems = [p for obj in objs for p in validate_object(obj)]
    assert problems == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_objects_validate(kubectl, overlay):
    proc = run([kubectl, "kustomize", str(ROOT / "overlays" / overlay)])
    assert proc.returncode == 0, proc.stderr
    from dask_kubernetes import yamlio

    objs = yamlio.load_all(proc.stdout)
    # Every overlay installs the operator, but the webhook-free policy bundle, which is all policy.
    main_kind = "ValidatingAdmissionPolicy" if overlay == "admission-policy" else "Deployment"
    assert any(o["kind"] == main_kind for o in objs)
    problems = [p for obj in objs for p in validate_object(obj)]
    assert problems == []


def test_overlays_exist():
    assert {"base", "namespaced", "prometheus", "cert-manager"} <= set(OVERLAYS)


@pytest.mark.parametrize(
    ("api_version", "kind", "spec"),
    [
        (
            "apps/v1",
            "Deployment",
            {"selector": {}, "template": {"spec": {"containers": [{"name": "c", "imagee": "x"}]}}},
        ),
        (
            "cert-manager.io/v1",
            "Certificate",
            {"secretName": "x", "issuerRef": {"name": "i"}, "dnsName": ["a"]},
        ),
        ("monitoring.coreos.com/v1", "PodMonitor", {"selector": {}, "podTargetLabel": ["a"]}),
    ],
    ids=["broken-core-object", "unknown-certificate-field", "unknown-monitor-field"],
)
def test_validator_catches_a_broken_object(api_version, kind, spec):
    bad = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, "spec": spec}
    assert validate_object(bad)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples_validate_against_our_crds(validators, path):
    for obj in load_docs(path):
        assert obj["apiVersion"] == "kubernetes.dask.org/v1"
        assert validate_object(obj, validators) == []


def test_classic_worker_spec_is_a_valid_pod(validators):
    (pod,) = load_docs(ROOT / "examples" / "classic" / "worker-spec.yml")
    pod = {"apiVersion": "v1", **pod, "metadata": {"name": "w", **pod["metadata"]}}
    assert validate_object(pod) == []


def _cluster():
    (obj,) = load_docs(ROOT / "examples" / "cluster.yaml")
    return obj


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda o: o["spec"]["worker"].update(replicas="two"),
            "spec.worker.replicas: 'two' is not of type 'integer'",
        ),
        (
            lambda o: o["spec"]["scheduler"].pop("service"),
            "spec.scheduler.service: required field is missing",
        ),
        (
            lambda o: o["spec"]["worker"]["spec"]["containers"][0].update(imagePullPolcy="Always"),
            "spec.worker.spec.containers[0].imagePullPolcy: unknown field",
        ),
        (
            lambda o: o["spec"]["scheduler"]["spec"]["containers"][0].pop("name"),
            "spec.scheduler.spec.containers[0].name: required field is missing",
        ),
        (lambda o: o["spec"].update(idleTimout=5), "spec.idleTimout: unknown field"),
    ],
    ids=[
        "wrong-type",
        "missing-required",
        "unknown-podspec-field",
        "missing-container-name",
        "unknown-spec-field",
    ],
)
def test_invalid_examples_are_rejected_naming_the_field(validators, mutate, expected):
    obj = _cluster()
    mutate(obj)
    assert expected in validate_object(obj, validators)

"""The admission-policy bundle: Deny rules in one policy per kind, Warn rules in a second one."""

from __future__ import annotations

import pytest

from dask_kubernetes import yamlio
from dask_kubernetes.validation import lifecycle
from dask_kubernetes_dev.generator import policies
from tests.conftest import ROOT


def _bundle() -> list[dict]:
    return yamlio.load_all((ROOT / "overlays" / "admission-policy" / "policies.yaml").read_text())


def test_each_binding_enforces_its_policy_with_its_action():
    docs = _bundle()
    bound = {
        d["spec"]["policyName"]: d["spec"]["validationActions"]
        for d in docs
        if d["kind"] == "ValidatingAdmissionPolicyBinding"
    }
    names = [d["metadata"]["name"] for d in docs if d["kind"] == "ValidatingAdmissionPolicy"]
    assert sorted(bound) == sorted(names)
    for name, actions in bound.items():
        assert actions == (["Warn"] if name.endswith("-warnings") else ["Deny"]), name


def test_the_deny_policies_keep_their_names_and_the_warnings_get_their_own():
    names = {d["metadata"]["name"] for d in _bundle() if d["kind"] == "ValidatingAdmissionPolicy"}
    assert names == {
        "dask-kubernetes-daskclusters",
        "dask-kubernetes-daskworkergroups",
        "dask-kubernetes-daskautoscalers",
        "dask-kubernetes-daskjobs",
        "dask-kubernetes-daskjobs-warnings",
    }


def test_build_puts_only_the_given_rules_in_a_policy_of_that_action():
    rule = {"expression": "true", "message": "spec.x: y", "action": "Warn"}
    policy, binding = policies.build("daskjobs", [rule], policies.WARN)
    assert policy["metadata"]["name"] == "dask-kubernetes-daskjobs-warnings"
    assert policy["spec"]["validations"] == [{"expression": "true", "message": "spec.x: y"}]
    assert binding["spec"] == {
        "policyName": "dask-kubernetes-daskjobs-warnings",
        "validationActions": ["Warn"],
    }


def test_an_unknown_action_is_refused():
    with pytest.raises(ValueError, match="action must be one of"):
        policies.action_of({"expression": "true", "message": "m", "action": "Audit"})


def test_the_delete_self_warning_looks_for_every_key_the_webhook_does():
    """The CEL rule spells the keys again; this keeps it in step with lifecycle.py."""
    (policy,) = [
        d
        for d in _bundle()
        if d["kind"] == "ValidatingAdmissionPolicy" and d["metadata"]["name"].endswith("-warnings")
    ]
    (rule,) = policy["spec"]["validations"]
    for key in (*lifecycle.GITOPS_LABELS, *lifecycle.GITOPS_ANNOTATIONS):
        assert f"'{key}'" in rule["expression"], key
    assert "'DeleteSelf'" in rule["expression"]
    assert rule["message"].startswith("spec.deletionPolicy: DeleteSelf")

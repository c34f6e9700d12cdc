"""The batch lifecycle rules as pure functions: each refusal names its field; the DeleteSelf warning.

The same rules live in the CRD (schema bounds and CEL); the parity tests here read the
generated CRD so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dask_kubernetes.api import constants
from dask_kubernetes.validation import lifecycle, registry
from dask_kubernetes.validation import warning_texts as texts
from tests.conftest import ROOT, load_docs

JOBS = constants.PLURAL_JOB
CLUSTERS = constants.PLURAL_CLUSTER


def _job(**spec: Any) -> dict[str, Any]:
    (obj,) = load_docs(ROOT / "examples" / "job.yaml")
    obj["spec"].update(copy.deepcopy(spec))
    return obj


def _cluster(**spec: Any) -> dict[str, Any]:
    (obj,) = load_docs(ROOT / "examples" / "cluster.yaml")
    obj["spec"].update(spec)
    return obj


def _job_cluster(**spec: Any) -> dict[str, Any]:
    obj = _job()
    obj["spec"]["cluster"]["spec"].update(spec)
    return obj


def _errors(plural: str, obj: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e.path, e.message) for e in registry.validate(plural, obj)]


def _job_spec_schema(crds: dict[str, Any]) -> dict[str, Any]:
    return crds["DaskJob"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]


REFUSED = {
    "backoff-limit-beyond-int32": (
        _job(backoffLimit=2**31),
        ("spec.backoffLimit", "Invalid value: 2147483648: must be less than or equal to 2147483647"),
    ),
    "ttl-beyond-int32": (
        _job(ttlSecondsAfterFinished=2**31),
        (
            "spec.ttlSecondsAfterFinished",
            "Invalid value: 2147483648: must be less than or equal to 2147483647",
        ),
    ),
    "active-deadline-beyond-int64": (
        _job(activeDeadlineSeconds=2**63),
        (
            "spec.activeDeadlineSeconds",
            f"Invalid value: {2**63}: must be less than or equal to {2**63 - 1}",
        ),
    ),
    "negative-backoff-limit": (
        _job(backoffLimit=-1),
        ("spec.backoffLimit", "Invalid value: -1: must be greater than or equal to 0"),
    ),
    "zero-pre-running-deadline": (
        _job(preRunningDeadlineSeconds=0),
        ("spec.preRunningDeadlineSeconds", "Invalid value: 0: must be greater than or equal to 1"),
    ),
    "boolean-deadline": (
        _job(activeDeadlineSeconds=True),
        ("spec.activeDeadlineSeconds", "Invalid value: True: must be an integer"),
    ),
    "policy-not-an-object": (
        _job(deletionPolicy="DeleteSelf"),
        ("spec.deletionPolicy", "Invalid value: must be an object with onSuccess and onFailure"),
    ),
    "job-cluster-suspend-not-a-boolean": (
        _job_cluster(suspend="yes"),
        ("spec.cluster.spec.suspend", "Invalid value: 'yes': must be a boolean (true or false)"),
    ),
    "job-suspend-a-number": (
        _job(suspend=1),
        ("spec.suspend", "Invalid value: 1: must be a boolean (true or false)"),
    ),
}


@pytest.mark.parametrize(("obj", "expected"), REFUSED.values(), ids=REFUSED.keys())
def test_each_refusal_names_its_field(obj, expected):
    assert _errors(JOBS, obj) == [expected]


def test_a_suspended_cluster_in_a_job_is_forbidden_at_its_own_field():
    (error,) = registry.validate(JOBS, _job_cluster(suspend=True))
    assert (error.path, error.cause) == ("spec.cluster.spec.suspend", "FieldValueForbidden")
    assert "set the DaskJob's spec.suspend instead" in error.message


def test_every_wrong_field_is_reported_at_once():
    obj = _job(backoffLimit=-1, activeDeadlineSeconds=0, deletionPolicy={"onSuccess": "x", "onFailure": "y"})
    assert [path for path, _ in _errors(JOBS, obj)] == [
        "spec.activeDeadlineSeconds",
        "spec.backoffLimit",
        "spec.deletionPolicy.onFailure",
        "spec.deletionPolicy.onSuccess",
    ]


@pytest.mark.parametrize("value", ["true", 0, {}], ids=["text", "number", "object"])
def test_a_cluster_suspend_must_be_a_boolean(value):
    assert [path for path, _ in _errors(CLUSTERS, _cluster(suspend=value))] == ["spec.suspend"]


@pytest.mark.parametrize("value", [True, False, None], ids=["true", "false", "null"])
def test_a_cluster_may_be_suspended_or_not(value):
    assert _errors(CLUSTERS, _cluster(suspend=value)) == []


ADMITTED = {
    "none-of-the-new-fields": {},
    "every-field-at-its-least": {
        "suspend": True,
        "backoffLimit": 0,
        "activeDeadlineSeconds": 1,
        "preRunningDeadlineSeconds": 1,
        "ttlSecondsAfterFinished": 0,
        "deletionPolicy": {"onSuccess": "DeleteSelf", "onFailure": "DeleteWorkers"},
    },
    "every-field-at-its-largest": {
        "backoffLimit": 2**31 - 1,
        "ttlSecondsAfterFinished": 2**31 - 1,
        "activeDeadlineSeconds": 2**63 - 1,
        "preRunningDeadlineSeconds": 2**63 - 1,
    },
    "ttl-with-one-delete-none": {
        "ttlSecondsAfterFinished": 60,
        "deletionPolicy": {"onSuccess": "DeleteNone"},
    },
    "delete-none-on-both-without-ttl": {
        "deletionPolicy": {"onSuccess": "DeleteNone", "onFailure": "DeleteNone"}
    },
    "ttl-with-an-empty-policy": {"ttlSecondsAfterFinished": 60, "deletionPolicy": {}},
    "nulls-count-as-absent": {"suspend": None, "backoffLimit": None, "ttlSecondsAfterFinished": None},
}


@pytest.mark.parametrize("spec", ADMITTED.values(), ids=ADMITTED.keys())
def test_good_lifecycle_fields_are_admitted(spec):
    obj = _job(**spec)
    obj["spec"]["cluster"]["spec"]["suspend"] = False
    assert _errors(JOBS, obj) == []


# --- the CRD says the same --------------------------------------------------------


def test_the_policies_are_the_crds_enum(crds):
    policy = _job_spec_schema(crds)["properties"]["deletionPolicy"]["properties"]
    for outcome in ("onSuccess", "onFailure"):
        assert tuple(policy[outcome]["enum"]) == lifecycle.POLICIES


def test_the_bounds_are_the_crds_minimums_and_formats(crds):
    fields = _job_spec_schema(crds)["properties"]
    largest = {"int32": lifecycle.INT32_MAX, "int64": lifecycle.INT64_MAX}
    for key, minimum in lifecycle.MINIMUMS.items():
        assert fields[key]["minimum"] == minimum, key
        assert largest[fields[key]["format"]] == lifecycle.MAXIMUMS[key], key
    assert set(lifecycle.MAXIMUMS) == set(lifecycle.MINIMUMS)


def test_the_crd_declares_both_cel_rules_the_webhook_mirrors(crds):
    spec = _job_spec_schema(crds)
    (ttl,) = spec["x-kubernetes-validations"]
    (inner,) = spec["properties"]["cluster"]["properties"]["spec"]["x-kubernetes-validations"]
    assert ttl["fieldPath"] == ".ttlSecondsAfterFinished"
    assert inner["fieldPath"] == ".suspend"
    (ttl_error,) = registry.validate(
        JOBS,
        _job(
            ttlSecondsAfterFinished=1, deletionPolicy={"onSuccess": "DeleteNone", "onFailure": "DeleteNone"}
        ),
    )
    (inner_error,) = registry.validate(JOBS, _job_cluster(suspend=True))
    assert "needs a deletionPolicy that deletes something" in ttl["message"]
    assert "needs a deletionPolicy that deletes something" in ttl_error.message
    assert inner["message"] in inner_error.message


# --- updates: suspend and the new fields stay mutable ------------------------------


def _update(old: dict[str, Any], change) -> list[tuple[str, str]]:
    new = copy.deepcopy(old)
    change(new)
    return [(e.path, e.message) for e in registry.validate_update(JOBS, new, old)]


MUTABLE = {
    "suspend": lambda o: o["spec"].update(suspend=True),
    "resume": lambda o: o["spec"].update(suspend=False),
    "backoff-limit": lambda o: o["spec"].update(backoffLimit=5),
    "deadlines": lambda o: o["spec"].update(activeDeadlineSeconds=600, preRunningDeadlineSeconds=60),
    "deletion-policy": lambda o: o["spec"].update(deletionPolicy={"onSuccess": "DeleteWorkers"}),
    "ttl": lambda o: o["spec"].update(ttlSecondsAfterFinished=3600),
    "drop-them": lambda o: [o["spec"].pop(k) for k in ("suspend", "backoffLimit")],
}


@pytest.mark.parametrize("change", MUTABLE.values(), ids=MUTABLE.keys())
def test_the_lifecycle_fields_may_change_on_update(change):
    assert _update(_job(suspend=False, backoffLimit=1), change) == []


def test_an_update_to_a_bad_value_is_refused():
    assert _update(_job(), lambda o: o["spec"].update(backoffLimit=-1)) == [
        ("spec.backoffLimit", "Invalid value: -1: must be greater than or equal to 0")
    ]


def test_an_update_that_suspends_the_jobs_cluster_is_refused():
    found = _update(_job(), lambda o: o["spec"]["cluster"]["spec"].update(suspend=True))
    assert [path for path, _ in found] == ["spec.cluster.spec.suspend"]


def test_a_runner_change_is_still_refused_beside_a_suspend():
    def change(o):
        o["spec"]["suspend"] = True
        o["spec"]["job"]["spec"]["containers"][0]["args"] = ["python", "-c", "print(2)"]

    assert [path for path, _ in _update(_job(), change)] == ["spec.job"]


def test_a_cluster_may_be_suspended_and_resumed_on_update():
    old = _cluster()
    new = _cluster(suspend=True)
    assert registry.validate_update(CLUSTERS, new, old) == []
    assert registry.validate_update(CLUSTERS, old, new) == []


# --- the warning: DeleteSelf on a DaskJob that Argo CD or Flux applies ---------------

TRACKING = [("annotations", key) for key in lifecycle.GITOPS_ANNOTATIONS] + [
    ("labels", key) for key in lifecycle.GITOPS_LABELS
]


def _tracked(where: str, key: str, **policy: str) -> dict[str, Any]:
    obj = _job(deletionPolicy=policy)
    obj["metadata"][where] = {key: "dask-jobs"}
    return obj


def _gitops_warnings(obj: dict[str, Any]) -> list[str]:
    return [w for w in registry.warnings(JOBS, obj) if "DeleteSelf" in w]


def test_every_key_of_the_brief_is_tracked():
    assert set(TRACKING) == {
        ("annotations", "argocd.argoproj.io/tracking-id"),
        ("labels", "argocd.argoproj.io/instance"),
        ("labels", "app.kubernetes.io/instance"),
        ("labels", "kustomize.toolkit.fluxcd.io/name"),
        ("labels", "kustomize.toolkit.fluxcd.io/namespace"),
        ("labels", "helm.toolkit.fluxcd.io/name"),
        ("labels", "helm.toolkit.fluxcd.io/namespace"),
    }


@pytest.mark.parametrize(("where", "key"), TRACKING, ids=[key for _, key in TRACKING])
def test_delete_self_under_gitops_warns_and_is_admitted(where, key):
    obj = _tracked(where, key, onFailure="DeleteSelf")
    expected = texts.DELETE_SELF_UNDER_GITOPS.format(path="spec.deletionPolicy.onFailure", key=key)
    assert _gitops_warnings(obj) == [expected]
    assert len(expected) <= 256
    assert registry.validate(JOBS, obj) == []


def test_each_outcome_that_deletes_the_job_is_named():
    obj = _tracked("labels", "helm.toolkit.fluxcd.io/name", onSuccess="DeleteSelf", onFailure="DeleteSelf")
    assert [w.split(":", 1)[0] for w in _gitops_warnings(obj)] == [
        "spec.deletionPolicy.onSuccess",
        "spec.deletionPolicy.onFailure",
    ]


@pytest.mark.parametrize("policy", ["DeleteCluster", "DeleteWorkers", "DeleteNone"])
def test_other_policies_under_gitops_do_not_warn(policy):
    obj = _tracked("annotations", "argocd.argoproj.io/tracking-id", onSuccess=policy, onFailure=policy)
    assert _gitops_warnings(obj) == []


def test_delete_self_without_tracking_metadata_does_not_warn():
    obj = _job(deletionPolicy={"onSuccess": "DeleteSelf", "onFailure": "DeleteSelf"})
    obj["metadata"]["labels"] = {"app.kubernetes.io/name": "jobs", "team": "a"}
    obj["metadata"]["annotations"] = {"argocd.argoproj.io/sync-wave": "1"}
    assert _gitops_warnings(obj) == []


@pytest.mark.parametrize(
    "metadata",
    [
        {"name": "x", "labels": 5},
        {"name": "x", "annotations": "argocd.argoproj.io/tracking-id"},
        {"name": "x", "labels": ["app.kubernetes.io/instance"]},
        ["x"],
        None,
    ],
    ids=["labels-a-number", "annotations-a-string", "labels-a-list", "metadata-a-list", "no-metadata"],
)
def test_metadata_that_is_not_a_map_neither_warns_nor_fails(metadata):
    obj = _job(deletionPolicy={"onSuccess": "DeleteSelf"})
    obj["metadata"] = metadata
    assert _gitops_warnings(obj) == []


def test_a_job_without_the_new_fields_gets_no_new_warning():
    obj = _job()
    obj["metadata"]["labels"] = {"app.kubernetes.io/instance": "jobs"}
    before = registry.warnings(JOBS, _job())
    assert registry.warnings(JOBS, obj) == before
    assert not any("DeleteSelf" in w for w in before)

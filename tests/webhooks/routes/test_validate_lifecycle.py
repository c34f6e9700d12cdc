"""POST /validate for the batch lifecycle fields: suspend, retries, deadlines, clean-up policy."""

from __future__ import annotations

import copy

import pytest

from tests.webhooks.conftest import causes, example, pinned, response_of, review


def _job(**spec):
    obj = pinned(example("job.yaml"))
    obj["spec"].update(copy.deepcopy(spec))
    return obj


def post(client, obj, **kwargs):
    return response_of(client.post("/validate", json=review(obj, **kwargs)))


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        ({"backoffLimit": -1}, "spec.backoffLimit", "greater than or equal to 0"),
        ({"backoffLimit": "3"}, "spec.backoffLimit", "must be an integer"),
        ({"activeDeadlineSeconds": 0}, "spec.activeDeadlineSeconds", "greater than or equal to 1"),
        ({"preRunningDeadlineSeconds": -5}, "spec.preRunningDeadlineSeconds", "greater than or equal to 1"),
        ({"ttlSecondsAfterFinished": -1}, "spec.ttlSecondsAfterFinished", "greater than or equal to 0"),
        (
            {"deletionPolicy": {"onSuccess": "DeleteAll"}},
            "spec.deletionPolicy.onSuccess",
            "Unsupported value",
        ),
        (
            {"deletionPolicy": {"onFailure": "deletecluster"}},
            "spec.deletionPolicy.onFailure",
            "DeleteWorkers",
        ),
        (
            {
                "deletionPolicy": {"onSuccess": "DeleteNone", "onFailure": "DeleteNone"},
                "ttlSecondsAfterFinished": 60,
            },
            "spec.ttlSecondsAfterFinished",
            "deletes something",
        ),
        ({"suspend": "true"}, "spec.suspend", "must be a boolean"),
    ],
)
def test_bad_lifecycle_values_are_refused_naming_the_field(client, spec, field, words):
    response = post(client, _job(**spec))
    assert response["allowed"] is False
    found = causes(response)
    assert [f for f, _ in found] == [field], found
    assert words in found[0][1]


def test_a_suspended_cluster_inside_a_job_is_refused(client):
    obj = _job()
    obj["spec"]["cluster"]["spec"]["suspend"] = True
    response = post(client, obj)
    assert [f for f, _ in causes(response)] == ["spec.cluster.spec.suspend"]
    assert "set the DaskJob's spec.suspend" in causes(response)[0][1]


def test_valid_lifecycle_fields_are_admitted_and_a_ttl_with_one_deleting_policy_is_fine(client):
    obj = _job(
        suspend=True,
        backoffLimit=3,
        activeDeadlineSeconds=600,
        preRunningDeadlineSeconds=60,
        deletionPolicy={"onSuccess": "DeleteNone", "onFailure": "DeleteWorkers"},
        ttlSecondsAfterFinished=0,
    )
    response = post(client, obj)
    assert response["allowed"] is True and "warnings" not in response


def test_a_cluster_suspend_must_be_a_boolean(client):
    obj = pinned(example("cluster.yaml"))
    obj["spec"]["suspend"] = "yes"
    response = post(client, obj)
    assert [f for f, _ in causes(response)] == ["spec.suspend"]


def test_suspend_can_be_flipped_on_update(client):
    old = pinned(example("cluster.yaml"))
    new = copy.deepcopy(old)
    new["spec"]["suspend"] = True
    assert post(client, new, operation="UPDATE", old=old)["allowed"] is True
    old_job, new_job = _job(), _job(suspend=True, backoffLimit=2)
    assert post(client, new_job, operation="UPDATE", old=old_job)["allowed"] is True


@pytest.mark.parametrize(
    ("where", "key"),
    [
        ("annotations", "argocd.argoproj.io/tracking-id"),
        ("labels", "app.kubernetes.io/instance"),
        ("labels", "kustomize.toolkit.fluxcd.io/name"),
        ("labels", "helm.toolkit.fluxcd.io/name"),
    ],
)
def test_delete_self_under_gitops_is_admitted_with_a_warning_that_says_why(client, where, key):
    obj = _job(deletionPolicy={"onSuccess": "DeleteSelf"})
    obj["metadata"].setdefault(where, {})[key] = "team-a"
    response = post(client, obj)
    assert response["allowed"] is True
    (warning,) = response["warnings"]
    assert warning.startswith("spec.deletionPolicy.onSuccess: DeleteSelf")
    assert key in warning and "run it again" in warning
    assert len(warning) <= 256


def test_delete_self_without_gitops_metadata_gets_no_warning(client):
    response = post(client, _job(deletionPolicy={"onSuccess": "DeleteSelf", "onFailure": "DeleteSelf"}))
    assert response["allowed"] is True and "warnings" not in response


GARBAGE = {
    "policy-a-list": ({"deletionPolicy": ["DeleteSelf"]}, {"spec.deletionPolicy"}),
    "policy-values-not-strings": (
        {"deletionPolicy": {"onSuccess": 3, "onFailure": {"a": 1}}},
        {"spec.deletionPolicy.onSuccess", "spec.deletionPolicy.onFailure"},
    ),
    "policy-value-a-list": (
        {"deletionPolicy": {"onSuccess": ["DeleteSelf"]}},
        {"spec.deletionPolicy.onSuccess"},
    ),
    "float-limits": (
        {"backoffLimit": 1.5, "activeDeadlineSeconds": 2.0},
        {"spec.backoffLimit", "spec.activeDeadlineSeconds"},
    ),
    "huge-and-textual-numbers": (
        {"backoffLimit": -(2**70), "ttlSecondsAfterFinished": "x" * 300},
        {"spec.backoffLimit", "spec.ttlSecondsAfterFinished"},
    ),
    "beyond-int32": ({"backoffLimit": 2**31}, {"spec.backoffLimit"}),
    "suspend-an-object": ({"suspend": {"now": True}}, {"spec.suspend"}),
}


@pytest.mark.parametrize(("spec", "fields"), GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_in_the_new_fields_is_a_422_naming_them_never_a_500(client, spec, fields):
    response = post(client, _job(**spec))
    assert response["allowed"] is False
    assert response["status"]["code"] == 422
    assert {field for field, _ in causes(response)} == fields


@pytest.mark.parametrize(
    "metadata",
    [{"name": "j", "labels": 5}, {"name": "j", "annotations": ["argocd.argoproj.io/tracking-id"]}],
    ids=["labels-a-number", "annotations-a-list"],
)
def test_broken_metadata_beside_delete_self_is_answered_not_a_500(client, metadata):
    obj = _job(deletionPolicy={"onSuccess": "DeleteSelf"})
    obj["metadata"] = metadata
    response = post(client, obj)
    assert response.get("status", {}).get("code") != 500, response
    assert "warnings" not in response


def test_the_gitops_warning_rides_along_with_a_denial(client):
    obj = _job(deletionPolicy={"onSuccess": "DeleteSelf"}, backoffLimit=-1)
    obj["metadata"]["labels"] = {"helm.toolkit.fluxcd.io/namespace": "flux-system"}
    response = post(client, obj)
    assert response["allowed"] is False
    assert [field for field, _ in causes(response)] == ["spec.backoffLimit"]
    assert [w.split(":", 1)[0] for w in response["warnings"]] == ["spec.deletionPolicy.onSuccess"]

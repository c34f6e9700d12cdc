"""POST /mutate: defaults fill only absent fields, idempotently, and never block."""

from __future__ import annotations

import copy

import pytest

from dask_kubernetes.validation import defaults
from dask_kubernetes.webhooks import reviews
from tests.webhooks.conftest import PLURAL_OF, example, patch_of, response_of, review


def mutate(client, obj, **kwargs):
    return response_of(client.post("/mutate", json=review(obj, **kwargs)))


def _strip(obj, *paths):
    for path in paths:
        *parents, last = path.split(".")
        node = obj
        for part in parents:
            node = node[part]
        node.pop(last, None)
    return obj


CASES = {
    "job-runner-restart-policy": (
        "job.yaml",
        ["spec.cluster.spec.idleTimeout"],
        [
            {"op": "add", "path": "/spec/job/spec/restartPolicy", "value": "OnFailure"},
            {"op": "add", "path": "/spec/cluster/spec/idleTimeout", "value": 0},
        ],
    ),
    "autoscaler-minimum": (
        "autoscaler.yaml",
        ["spec.minimum"],
        [{"op": "add", "path": "/spec/minimum", "value": 0}],
    ),
    "cluster-idle-timeout-and-replicas": (
        "cluster.yaml",
        ["spec.worker.replicas"],
        [
            {"op": "add", "path": "/spec/idleTimeout", "value": 0},
            {"op": "add", "path": "/spec/worker/replicas", "value": 1},
        ],
    ),
    "worker-group-replicas": (
        "highmemworkers.yaml",
        ["spec.worker.replicas"],
        [{"op": "add", "path": "/spec/worker/replicas", "value": 1}],
    ),
}


@pytest.mark.parametrize(("name", "absent", "expected"), CASES.values(), ids=CASES.keys())
def test_absent_fields_are_filled(client, name, absent, expected):
    obj = _strip(example(name), *absent)
    response = mutate(client, obj)
    assert response["allowed"] is True
    assert patch_of(response) == expected


@pytest.mark.parametrize("name", ["job.yaml", "autoscaler.yaml", "cluster.yaml", "highmemworkers.yaml"])
def test_defaulting_is_idempotent_and_then_empty(client, name):
    obj = example(name)
    plural = PLURAL_OF[obj["kind"]]
    once = defaults.apply(plural, obj)
    assert defaults.patch(plural, once) == []
    response = mutate(client, once)
    assert response == {"uid": response["uid"], "allowed": True}
    assert patch_of(response) == []
    # On UPDATE too, so a re-apply from Git never drifts.
    again = mutate(client, once, operation="UPDATE", old=copy.deepcopy(once))
    assert patch_of(again) == []


def test_present_fields_are_never_changed(client):
    obj = example("job.yaml")
    obj["spec"]["job"]["spec"]["restartPolicy"] = "Never"
    obj["spec"]["cluster"]["spec"]["idleTimeout"] = 30
    obj["spec"]["cluster"]["spec"]["worker"]["replicas"] = 0
    assert patch_of(mutate(client, obj)) == []


def test_nothing_is_added_under_a_missing_parent(client):
    obj = example("autoscaler.yaml")
    del obj["spec"]
    assert patch_of(mutate(client, obj)) == []
    job = example("job.yaml")
    del job["spec"]["job"]
    assert patch_of(mutate(client, job)) == [
        {"op": "add", "path": "/spec/cluster/spec/idleTimeout", "value": 0}
    ]


def test_invalid_objects_are_still_admitted_by_the_mutating_route(client):
    obj = example("autoscaler.yaml")
    obj["spec"].update(minimum=9, maximum=1)
    response = mutate(client, obj)
    assert response["allowed"] is True
    assert patch_of(response) == []


def test_a_failure_while_defaulting_admits_unchanged(client, monkeypatch):
    def boom(plural, obj):
        raise RuntimeError("bug")

    monkeypatch.setattr(defaults, "patch", boom)
    response = mutate(client, example("job.yaml"))
    assert response["allowed"] is True
    assert patch_of(response) == []
    assert response["warnings"] == [reviews.DEFAULTING_FAILED]
    metrics = client.get("/metrics").text
    assert 'dask_webhook_internal_errors_total{route="mutate"} 1.0' in metrics

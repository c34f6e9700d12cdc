"""Both routes for objects Kueue queues: created suspended, the queue fixed while running, 8 PodSets."""

from __future__ import annotations

import copy

import pytest
from fastapi.testclient import TestClient

from dask_kubernetes.api import constants, kueue
from dask_kubernetes.settings import Settings
from dask_kubernetes.validation import defaults
from dask_kubernetes.validation.queueing import QueuedCluster
from dask_kubernetes.webhooks.app import create_app
from tests.webhooks.conftest import causes, example, patch_of, pinned, response_of, review

PATH = f"metadata.labels[{kueue.QUEUE_LABEL}]"


def _queued(name, queue="team-a", **spec):
    obj = pinned(example(name))
    obj["metadata"].setdefault("labels", {})[kueue.QUEUE_LABEL] = queue
    obj["spec"].update(spec)
    return obj


@pytest.fixture
def client(lookup):
    """The webhook with the Kueue integration on (the chart's kueue.enabled)."""
    with TestClient(create_app(Settings(kueue=True), kube=lookup)) as test_client:
        yield test_client


@pytest.fixture
def plain_client(lookup):
    """The webhook with the Kueue integration off: the queue label means nothing to it."""
    with TestClient(create_app(Settings(), kube=lookup)) as test_client:
        yield test_client


def mutate(client, obj, **kwargs):
    return response_of(client.post("/mutate", json=review(obj, **kwargs)))


def validate(client, obj, **kwargs):
    return response_of(client.post("/validate", json=review(obj, **kwargs)))


# --- /mutate ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["job.yaml", "cluster.yaml"])
def test_a_queued_object_is_created_suspended_and_then_admitted(client, name):
    obj = _queued(name)
    obj["spec"].pop("idleTimeout", None)
    response = mutate(client, obj)
    ops = patch_of(response)
    assert ops[-1] == {"op": "add", "path": "/spec/suspend", "value": True}
    assert ops[:-1] == defaults.patch(constants.PLURAL_JOB if name == "job.yaml" else "daskclusters", obj)
    # Mutation runs before validation: the patched object is admitted as it is.
    obj["spec"]["suspend"] = True
    assert validate(client, obj)["allowed"] is True


def test_suspend_false_is_overridden_on_create(client):
    response = mutate(client, _queued("job.yaml", suspend=False))
    assert {"op": "replace", "path": "/spec/suspend", "value": True} in patch_of(response)


def test_nothing_is_suspended_on_update_or_without_the_label(client):
    obj = _queued("cluster.yaml", idleTimeout=0)
    assert patch_of(mutate(client, obj, operation="UPDATE", old=copy.deepcopy(obj))) == []
    plain = pinned(example("cluster.yaml"))
    plain["spec"]["idleTimeout"] = 0
    assert patch_of(mutate(client, plain)) == []
    group = _queued("highmemworkers.yaml")
    assert patch_of(mutate(client, group)) == []


def test_a_jobs_own_cluster_is_not_suspended(client):
    obj = _queued("cluster.yaml", idleTimeout=0)
    obj["metadata"]["ownerReferences"] = [
        {"apiVersion": constants.API_VERSION, "kind": constants.KIND_JOB, "name": "simple", "uid": "u",
         "controller": True}
    ]  # fmt: skip
    assert patch_of(mutate(client, obj)) == []


# --- /validate: the queue label on update ----------------------------------------------


@pytest.mark.parametrize(("name", "kind"), [("job.yaml", "DaskJob"), ("cluster.yaml", "DaskCluster")])
def test_changing_the_queue_of_a_running_object_is_refused(client, name, kind):
    old = _queued(name, "team-a")
    new = _queued(name, "team-b")
    response = validate(client, new, operation="UPDATE", old=old)
    assert response["allowed"] is False
    assert causes(response) == [
        (
            PATH,
            f'Forbidden: cannot move a {kind} that is not suspended from the Kueue queue "team-a" to '
            '"team-b": Kueue admitted it from "team-a"; suspend it first, or in the same update '
            "(spec.suspend: true)",
        )
    ]
    assert response["status"]["details"]["causes"][0]["type"] == "FieldValueForbidden"
    new["spec"]["suspend"] = True
    assert validate(client, new, operation="UPDATE", old=old)["allowed"] is True


def test_a_bad_queue_name_is_refused_on_create(client):
    response = validate(client, _queued("job.yaml", "Team_A", suspend=True))
    ((field, message),) = causes(response)
    assert field == PATH
    assert message.startswith('Invalid value: "Team_A": a lowercase RFC 1123 subdomain')


# --- /validate: the PodSet limit -------------------------------------------------------


def _group(name="simple-extra"):
    obj = pinned(example("highmemworkers.yaml"))
    obj["metadata"]["name"] = name
    return obj


def _full(lookup, groups=7, runner=False):
    names = frozenset(["simple-default", *(f"simple-g{i}" for i in range(1, groups))])
    lookup.clusters.add(("team-a", "simple"))
    lookup.queued[("team-a", "simple")] = QueuedCluster("team-a", names, runner=runner)


def test_a_ninth_podset_is_refused(client, lookup):
    _full(lookup)
    response = validate(client, _group())
    assert response["allowed"] is False
    assert causes(response) == [
        (
            "spec.cluster",
            'Forbidden: DaskCluster "simple" is queued by Kueue (queue "team-a") and has 8 PodSets already '
            "(the scheduler and 7 worker groups); another worker group would make 9, over Kueue's limit of "
            "8 PodSets per Workload; add the workers to an existing group or queue a separate DaskCluster",
        )
    ]
    assert response["status"]["message"].startswith(
        'DaskWorkerGroup.kubernetes.dask.org "simple-extra" is invalid'
    )
    assert lookup.queued_calls == [("team-a", "simple")]


def test_the_eighth_podset_and_the_default_group_are_admitted(client, lookup):
    _full(lookup, groups=6)
    assert validate(client, _group())["allowed"] is True
    _full(lookup, groups=7)
    assert validate(client, _group("simple-default"))["allowed"] is True


def test_a_jobs_cluster_keeps_a_podset_for_the_runner(client, lookup):
    _full(lookup, groups=6, runner=True)
    assert validate(client, _group())["allowed"] is False


def test_the_limit_fails_open_and_asks_only_on_create(client, lookup):
    lookup.clusters.add(("team-a", "simple"))  # exists, not queued
    assert validate(client, _group())["allowed"] is True
    _full(lookup)
    lookup.broken = True  # the API could not say
    assert validate(client, _group())["allowed"] is True
    lookup.broken = False
    lookup.queued_calls.clear()
    group = _group()
    changed = copy.deepcopy(group)
    changed["spec"]["worker"]["replicas"] = 3
    assert validate(client, changed, operation="UPDATE", old=group)["allowed"] is True
    assert lookup.queued_calls == []
    # No namespace (the API server always sends one): no lookup at all.
    assert validate(client, _group(), namespace="")["allowed"] is True
    assert lookup.queued_calls == []


def test_with_the_integration_off_nothing_is_suspended_and_no_limit_applies(plain_client, lookup):
    obj = _queued("job.yaml")
    assert {"op": "add", "path": "/spec/suspend", "value": True} not in patch_of(mutate(plain_client, obj))
    _full(lookup)
    assert validate(plain_client, _group())["allowed"] is True
    assert lookup.queued_calls == []

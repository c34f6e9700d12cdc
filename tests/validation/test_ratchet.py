"""Ratcheting: an update is judged on what it changed, like Kubernetes' CRD validation."""

from __future__ import annotations

import copy

import pytest

from dask_kubernetes.api import constants
from dask_kubernetes.validation import registry
from dask_kubernetes.validation.ratchet import lookup
from tests.conftest import ROOT, load_docs

PORT = "spec.worker.spec.containers[0].ports[0].containerPort"


def _stored_with_bad_port() -> dict:
    """A DaskCluster stored before the static Pod rules existed: its worker port is out of range."""
    (obj,) = load_docs(ROOT / "examples" / "cluster.yaml")
    obj["spec"]["worker"]["spec"]["containers"][0]["ports"] = [{"containerPort": 99999, "name": "extra"}]
    return obj


def _worker(obj: dict) -> dict:
    return obj["spec"]["worker"]["spec"]["containers"][0]


def _paths(old: dict, new: dict) -> list[str]:
    return [e.path for e in registry.validate_update(constants.PLURAL_CLUSTER, new, old)]


UNRELATED = {
    "label": lambda o: o["metadata"].setdefault("labels", {}).update(team="a"),
    "replicas": lambda o: o["spec"]["worker"].update(replicas=7),
    "scheduler-image": lambda o: o["spec"]["scheduler"]["spec"]["containers"][0].update(image="dask:2"),
    "worker-env": lambda o: _worker(o).setdefault("env", []).append({"name": "A", "value": "1"}),
    "idle-timeout": lambda o: o["spec"].update(idleTimeout=60),
}


@pytest.mark.parametrize("change", UNRELATED.values(), ids=UNRELATED.keys())
def test_an_unrelated_edit_of_a_stored_object_passes(change):
    old = _stored_with_bad_port()
    assert [e.path for e in registry.validate(constants.PLURAL_CLUSTER, old)] == [PORT]
    new = copy.deepcopy(old)
    change(new)
    assert _paths(old, new) == []


CHANGED = {
    "to-another-bad-port": (lambda o: _worker(o)["ports"][0].update(containerPort=88888), [PORT]),
    "a-new-bad-field": (
        lambda o: _worker(o).setdefault("env", []).append({"name": "1 bad=x", "value": "1"}),
        ["spec.worker.spec.containers[0].env[0].name"],
    ),
    "a-cross-field-problem": (
        lambda o: _worker(o).update(volumeMounts=[{"name": "gone", "mountPath": "/g"}]),
        ["spec.worker.spec.containers[0].volumeMounts[0].name"],
    ),
    "fixed": (lambda o: _worker(o)["ports"][0].update(containerPort=9999), []),
}


@pytest.mark.parametrize(("change", "expected"), CHANGED.values(), ids=CHANGED.keys())
def test_what_the_update_changes_is_judged(change, expected):
    old = _stored_with_bad_port()
    new = copy.deepcopy(old)
    change(new)
    assert _paths(old, new) == expected


def test_a_problem_caused_by_a_change_elsewhere_is_reported():
    """The mount is unchanged, but the update removed its volume: the old object had no such error."""
    (old,) = load_docs(ROOT / "examples" / "cluster.yaml")
    _worker(old)["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    old["spec"]["worker"]["spec"]["volumes"] = [{"name": "data", "emptyDir": {}}]
    new = copy.deepcopy(old)
    del new["spec"]["worker"]["spec"]["volumes"]
    assert _paths(old, new) == ["spec.worker.spec.containers[0].volumeMounts[0].name"]


def test_immutable_fields_are_never_ratcheted():
    (old,) = load_docs(ROOT / "examples" / "highmemworkers.yaml")
    _worker(old)["ports"] = [{"containerPort": 99999}]
    new = copy.deepcopy(old)
    new["spec"]["cluster"] = "other"
    errors = registry.validate_update(constants.PLURAL_WORKER_GROUP, new, old)
    assert [e.path for e in errors] == ["spec.cluster"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("spec.a[1].b", 2),
        ("spec.m[example.com/gpu]", "1"),
        ("spec.a[5].b", None),
        ("spec.missing.x", None),
        ("spec.a.b", None),
    ],
    ids=["list-index", "map-key-with-dots", "index-out-of-range", "missing-key", "key-into-list"],
)
def test_lookup_follows_kubernetes_field_paths(path, expected):
    obj = {"spec": {"a": [{"b": 1}, {"b": 2}], "m": {"example.com/gpu": "1"}}}
    found = lookup(obj, path)
    if expected is None:
        assert found == lookup({}, "nothing") and found != lookup({"x": None}, "x")
    else:
        assert found == expected

"""Defaulting: absent fields only, idempotent, and the update validators agree with it."""

from __future__ import annotations

import pytest

from dask_kubernetes.validation import defaults, registry
from tests.conftest import ROOT, load_docs

EXAMPLES = [
    doc
    for path in sorted((ROOT / "examples").glob("*.yaml"))
    if path.name != "kustomization.yaml"
    for doc in load_docs(path)
]
PLURAL = {
    "DaskCluster": "daskclusters",
    "DaskWorkerGroup": "daskworkergroups",
    "DaskJob": "daskjobs",
    "DaskAutoscaler": "daskautoscalers",
}


@pytest.mark.parametrize("obj", EXAMPLES, ids=[f"{o['kind']}-{o['metadata']['name']}" for o in EXAMPLES])
def test_defaulting_twice_adds_nothing_the_second_time(obj):
    plural = PLURAL[obj["kind"]]
    once = defaults.apply(plural, obj)
    assert defaults.patch(plural, once) == []
    assert defaults.apply(plural, once) == once
    # A defaulted object is a valid update of the object as written, and the reverse.
    assert registry.validate_update(plural, once, obj) == registry.validate(plural, once)
    assert registry.validate_update(plural, obj, once) == registry.validate(plural, obj)


def test_keys_with_slashes_are_escaped_in_json_pointers():
    assert defaults._pointer(("spec", "a/b", "c~d")) == "/spec/a~1b/c~0d"


def test_null_counts_as_absent():
    obj = {"spec": {"cluster": "c", "maximum": 2, "minimum": None}}
    assert defaults.patch("daskautoscalers", obj) == [{"op": "add", "path": "/spec/minimum", "value": 0}]


def test_unknown_plurals_get_no_defaults():
    assert defaults.patch("pods", {"spec": {}}) == []

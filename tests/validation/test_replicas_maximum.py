"""The CRD schema refuses a worker count above ``crds.maxReplicas`` (10000 in the overlays)."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT, load_docs

FIELDS = {
    "DaskCluster": ("cluster.yaml", lambda o: o["spec"]["worker"], "replicas", "spec.worker.replicas"),
    "DaskWorkerGroup": (
        "highmemworkers.yaml",
        lambda o: o["spec"]["worker"],
        "replicas",
        "spec.worker.replicas",
    ),
    "DaskJob": (
        "job.yaml",
        lambda o: o["spec"]["cluster"]["spec"]["worker"],
        "replicas",
        "spec.cluster.spec.worker.replicas",
    ),
    "DaskAutoscaler": ("autoscaler.yaml", lambda o: o["spec"], "maximum", "spec.maximum"),
}


@pytest.mark.parametrize("kind", FIELDS)
def test_a_worker_count_above_the_maximum_is_refused_by_the_schema(validators, kind):
    name, parent, field, path = FIELDS[kind]
    (obj,) = load_docs(ROOT / "examples" / name)
    parent(obj)[field] = 1_000_000_000
    errors = validators[kind].errors(obj)
    assert [(e.path, e.message) for e in errors] == [
        (path, "1000000000 is greater than the maximum of 10000")
    ]
    parent(obj)[field] = 10000
    assert validators[kind].errors(obj) == []

"""The webhook's rules for ``spec.worker.rollout``, as for any other field."""

from __future__ import annotations

import pytest

from dask_kubernetes.operator.builders.spec import make_cluster_spec
from dask_kubernetes.validation import registry


def _cluster(rollout):
    obj = make_cluster_spec("c", n_workers=2)
    obj["metadata"]["namespace"] = "ns"
    obj["spec"]["worker"]["rollout"] = rollout
    return obj


@pytest.mark.parametrize(
    ("rollout", "message"),
    [
        ({"maxSurge": "25%", "maxUnavailable": 0}, None),
        ({"maxSurge": 2}, None),
        ({"maxSurge": 0, "maxUnavailable": "10%"}, None),
        ({"maxSurge": -1}, "spec.worker.rollout.maxSurge: must be a non-negative integer or a percentage"),
        ({"maxUnavailable": "half"}, "spec.worker.rollout.maxUnavailable: must be a non-negative integer"),
        (
            {"maxSurge": 0, "maxUnavailable": 0},
            "spec.worker.rollout.maxUnavailable: may not be 0 when maxSurge is 0",
        ),
        ({"maxSurge": "0%"}, "may not be 0 when maxSurge is 0"),
    ],
    ids=[
        "defaults",
        "surge-2",
        "unavailable-only",
        "negative",
        "not-a-percentage",
        "both-zero",
        "zero-percent",
    ],
)
def test_rollout_bounds(rollout, message):
    errors = [str(e) for e in registry.validate("daskclusters", _cluster(rollout))]
    if message is None:
        assert errors == []
    else:
        assert any(message in e for e in errors), errors


def test_a_worker_group_checks_its_rollout_too():
    group = {
        "metadata": {"name": "g", "namespace": "ns"},
        "spec": {
            "cluster": "c",
            "worker": {**_cluster(None)["spec"]["worker"], "rollout": {"maxSurge": "x"}},
        },
    }
    assert [e.path for e in registry.validate("daskworkergroups", group)] == ["spec.worker.rollout.maxSurge"]

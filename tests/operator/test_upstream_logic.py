"""Recognising clusters that upstream's operator made (pure)."""

from __future__ import annotations

from dask_kubernetes.operator.logic import upstream

CLUSTER = {"metadata": {"name": "simple", "namespace": "ns"}}


def deployment(name, **labels):
    return {"metadata": {"name": name, "labels": labels}}


def test_upstream_scheduler_deployment_is_recognised_and_the_message_names_the_step():
    deployments = [
        deployment("simple-default-worker-abc", **{"dask.org/component": "worker"}),
        deployment(
            "simple-scheduler", **{"dask.org/cluster-name": "simple", "dask.org/component": "scheduler"}
        ),
    ]
    message = upstream.stalled_message(CLUSTER, deployments)
    assert message is not None
    assert "simple-scheduler" in message
    assert "kubectl delete daskcluster simple -n ns" in message
    assert "docs/migrating-from-upstream.md" in message


def test_our_clusters_and_unrelated_deployments_are_not_upstream():
    assert upstream.stalled_message(CLUSTER, []) is None
    other = deployment(
        "other-scheduler", **{"dask.org/cluster-name": "other", "dask.org/component": "scheduler"}
    )
    assert upstream.stalled_message(CLUSTER, [other]) is None


def test_selector_lists_the_clusters_deployments():
    assert upstream.deployment_selector("simple") == "dask.org/cluster-name=simple"

"""Recognising clusters and worker groups that upstream's operator made (pure)."""

from __future__ import annotations

from dask_kubernetes.operator.decisions import upstream

CLUSTER = {"metadata": {"name": "simple", "namespace": "ns"}}
GROUP = {"metadata": {"name": "simple-default", "namespace": "ns"}, "spec": {"cluster": "simple"}}
SCHEDULER_LABELS = {"dask.org/cluster-name": "simple", "dask.org/component": "scheduler"}
WORKER_LABELS = {
    "dask.org/cluster-name": "simple",
    "dask.org/component": "worker",
    "dask.org/workergroup-name": "simple-default",
}


def deployment(name, labels):
    return {"metadata": {"name": name, "labels": labels}}


def test_upstream_scheduler_deployment_is_recognised_and_the_message_names_the_step():
    deployments = [
        deployment("simple-default-worker-abc", WORKER_LABELS),
        deployment("simple-scheduler", SCHEDULER_LABELS),
    ]
    message = upstream.stalled_message("daskclusters", CLUSTER, deployments)
    assert message is not None
    assert "scheduler Deployment simple-scheduler" in message
    assert "kubectl delete daskcluster simple -n ns" in message
    assert "docs/migrating-from-upstream.md" in message


def test_upstream_worker_deployment_is_recognised():
    deployments = [deployment("simple-default-worker-abc", WORKER_LABELS)]
    message = upstream.stalled_message("daskworkergroups", GROUP, deployments)
    assert message is not None and "worker Deployment simple-default-worker-abc" in message
    assert "kubectl delete daskcluster simple -n ns" in message


def test_our_clusters_and_unrelated_deployments_are_not_upstream():
    assert upstream.stalled_message("daskclusters", CLUSTER, []) is None
    other = deployment("other-scheduler", {**SCHEDULER_LABELS, "dask.org/cluster-name": "other"})
    assert upstream.stalled_message("daskclusters", CLUSTER, [other]) is None
    assert upstream.stalled_message("daskworkergroups", GROUP, [deployment("x", SCHEDULER_LABELS)]) is None


def test_selectors_list_the_objects_deployments():
    assert upstream.deployment_selector("daskclusters", CLUSTER) == "dask.org/cluster-name=simple"
    assert (
        upstream.deployment_selector("daskworkergroups", GROUP) == "dask.org/workergroup-name=simple-default"
    )

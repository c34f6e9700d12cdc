"""Argo CD's tracking label and annotation stay on the DaskCluster: its children never carry them.

Copied to a Pod or Service, ``app.kubernetes.io/instance`` (Argo CD's label tracking,
the default before 3.0) or the tracking-id annotation would make Argo CD show the child
as an extra resource of the Application, and prune it.
"""

from __future__ import annotations

import pytest

from dask_kubernetes.operator.builders.metadata import propagatable
from dask_kubernetes_dev.polling import wait_for
from tests.operator.e2e.conftest import example, wait_ready, worker_pods

TRACKING_LABEL = "app.kubernetes.io/instance"
TRACKING_ANNOTATION = "argocd.argoproj.io/tracking-id"


def test_tracking_keys_are_not_propagatable() -> None:
    values = {TRACKING_LABEL: "x", TRACKING_ANNOTATION: "app:/DaskCluster:ns/c", "team": "a"}
    assert propagatable(values) == {"team": "a"}


@pytest.mark.cluster
def test_children_of_a_tracked_cluster_do_not_carry_the_tracking_keys(k):
    (cluster,) = example("cluster.yaml")
    cluster["spec"]["worker"]["replicas"] = 1
    cluster["metadata"]["labels"] = {TRACKING_LABEL: "x", "team": "a"}
    cluster["metadata"]["annotations"] = {
        TRACKING_ANNOTATION: "dask:kubernetes.dask.org/DaskCluster:ns/simple"
    }
    k.apply(cluster)
    wait_ready(k, "daskcluster", "simple")
    pods = wait_for(lambda: worker_pods(k, "simple-default"), timeout=120, what="worker Pods")
    children = [
        k.get("pod", "simple-scheduler"),
        k.get("service", "simple-scheduler"),
        k.get("daskworkergroup", "simple-default"),
        *pods,
    ]
    for child in children:
        meta = child["metadata"]
        assert meta["labels"].get("team") == "a", (child["kind"], meta["labels"])
        assert TRACKING_LABEL not in meta["labels"], child["kind"]
        assert TRACKING_ANNOTATION not in (meta.get("annotations") or {}), child["kind"]

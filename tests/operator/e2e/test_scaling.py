"""kubectl scale on worker groups and clusters, and data kept through scale-down."""

from __future__ import annotations

from dask_kubernetes_dev.polling import wait_for
from tests.operator.e2e.conftest import example, is_ready, wait_ready, worker_pods


def _converged(k, kind, name, n):
    obj = k.get(kind, name)
    return is_ready(obj) and obj["status"]["readyReplicas"] == n and obj["status"]["replicas"] == n


def test_kubectl_scale_worker_group_and_cluster(k):
    k.apply(example("cluster.yaml"))
    wait_ready(k, "daskcluster", "simple")
    k("scale", "daskworkergroup", "simple-default", "--replicas=5")
    wait_for(lambda: _converged(k, "daskworkergroup", "simple-default", 5), timeout=240, what="5 workers")
    assert len(worker_pods(k, "simple-default")) == 5
    k("scale", "daskworkergroup", "simple-default", "--replicas=3")
    wait_for(lambda: _converged(k, "daskworkergroup", "simple-default", 3), timeout=240, what="3 workers")
    wait_for(lambda: len(worker_pods(k, "simple-default")) == 3, timeout=120, what="3 worker Pods")

    k("scale", "daskcluster", "simple", "--replicas=4")
    assert k.get("daskcluster", "simple")["spec"]["worker"]["replicas"] == 4
    wait_for(lambda: _converged(k, "daskworkergroup", "simple-default", 4), timeout=240, what="4 workers")
    wait_for(
        lambda: (lambda c: is_ready(c) and c["status"]["replicas"] == 4)(k.get("daskcluster", "simple")),
        timeout=120,
        what="the cluster's status to show 4 workers",
    )
    scale = k(
        "get", "--raw", f"/apis/kubernetes.dask.org/v1/namespaces/{k.namespace}/daskclusters/simple/scale"
    ).stdout
    assert '"replicas":4' in scale.replace(" ", "")

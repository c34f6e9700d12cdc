"""kstatus (the library Flux's health checks use) on a live DaskCluster through its lifecycle.

InProgress while the operator reconciles, Current once Ready, InProgress again after a
spec change until the operator observes it, Failed for a spec it cannot use (Stalled),
Terminating while a finalizer holds its deletion.
"""

from __future__ import annotations

import json

import pytest

from dask_kubernetes_dev.kstatus import kstatus
from dask_kubernetes_dev.polling import wait_for
from tests.operator.e2e.conftest import condition, example

pytestmark = pytest.mark.cluster

HOLD = "example.com/hold"


def _until_kstatus(k, name: str, wanted: str) -> tuple[dict, str]:
    def seen():
        obj = k.get("daskcluster", name)
        status, message = kstatus(obj)
        return (obj, message) if status == wanted else None

    return wait_for(seen, timeout=240, what=f"kstatus {wanted} for DaskCluster {name}")


def test_kstatus_through_a_cluster_lifecycle(k):
    (cluster,) = example("cluster.yaml")
    cluster["spec"]["worker"]["replicas"] = 1
    k.apply(cluster)

    # While the operator waits for the scheduler it says Reconciling: InProgress.
    obj, message = _until_kstatus(k, "simple", "InProgress")
    assert obj["status"].get("observedGeneration") != obj["metadata"]["generation"] or message
    obj, _ = _until_kstatus(k, "simple", "Current")
    assert condition(obj, "Ready")["status"] == "True"

    # Right after a spec change the object is InProgress, until the operator observes it.
    patched = json.loads(
        k(
            "patch",
            "daskcluster",
            "simple",
            "--type=merge",
            "-p",
            '{"spec": {"idleTimeout": 3600}}',
            "-o",
            "json",
        ).stdout
    )
    status, message = kstatus(patched)
    assert status == "InProgress"
    assert f"generation is {patched['metadata']['generation']}" in message
    obj, _ = _until_kstatus(k, "simple", "Current")
    assert obj["status"]["observedGeneration"] == patched["metadata"]["generation"]

    # A spec the schema accepts but the operator cannot use: Stalled, so Failed with its message.
    k(
        "patch",
        "daskcluster",
        "simple",
        "--type=json",
        "-p",
        '[{"op": "remove", "path": "/spec/scheduler/service/ports"}]',
    )
    obj, message = _until_kstatus(k, "simple", "Failed")
    assert "spec.scheduler.service.ports" in message

    # Deleting, while a finalizer holds the object: Terminating.
    # (The operator adds no finalizer of its own, so the list is ours alone.)
    k(
        "patch",
        "daskcluster",
        "simple",
        "--type=merge",
        "-p",
        json.dumps({"metadata": {"finalizers": [HOLD]}}),
    )
    k("delete", "daskcluster", "simple", "--wait=false")
    obj = k.get("daskcluster", "simple")
    assert kstatus(obj) == ("Terminating", "Resource scheduled for deletion")
    finalizers = [f for f in obj["metadata"]["finalizers"] if f != HOLD]
    k(
        "patch",
        "daskcluster",
        "simple",
        "--type=merge",
        "-p",
        json.dumps({"metadata": {"finalizers": finalizers}}),
    )
    wait_for(lambda: k.get("daskcluster", "simple") is None, timeout=120, what="the cluster to go")
    assert kstatus(None)[0] == "NotFound"

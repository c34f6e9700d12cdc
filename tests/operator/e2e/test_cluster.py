"""A DaskCluster from the examples becomes Ready, computes, heals itself and cleans up."""

from __future__ import annotations

import json

from dask_kubernetes_dev.polling import wait_for
from tests.operator.e2e.conftest import condition, example, is_ready, wait_ready, worker_pods

COMPUTE = """
import dask.array as da
from dask.distributed import Client
client = Client("tcp://simple-scheduler.{ns}.svc.cluster.local:8786", timeout=60)
client.wait_for_workers(2, timeout=120)
print("MEAN", da.ones((100, 100, 100), chunks=10).mean().compute())
"""


def client_pod(namespace: str, name: str, script: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {"name": "client", "image": "ghcr.io/dask/dask:latest", "args": ["python", "-c", script]}
            ],
        },
    }


def test_cluster_example_becomes_ready_and_computes(k):
    k.apply(example("cluster.yaml"))
    first = k.get("daskcluster", "simple")
    assert condition(first, "Reconciling") is None or condition(first, "Ready")["status"] in ("False", "True")
    cluster = wait_ready(k, "daskcluster", "simple")
    status = cluster["status"]
    assert status["phase"] == "Running"
    assert status["readyReplicas"] == 2 and status["workers"] == "2/2"
    assert (
        status["selector"]
        == "dask.org/cluster-name=simple,dask.org/component=worker,dask.org/workergroup-name=simple-default"
    )
    assert condition(cluster, "Reconciling")["status"] == "False"
    assert condition(cluster, "Stalled")["status"] == "False"
    assert all(c["observedGeneration"] == cluster["metadata"]["generation"] for c in status["conditions"])
    assert k.get("service", "simple-scheduler")["spec"]["type"] == "NodePort"
    assert len(worker_pods(k, "simple-default")) == 2

    k.apply(client_pod(k.namespace, "compute", COMPUTE.format(ns=k.namespace)))
    wait_for(
        lambda: k.get("pod", "compute")["status"].get("phase") in ("Succeeded", "Failed"),
        timeout=240,
        what="compute pod",
    )
    logs = k("logs", "compute").stdout
    assert k.get("pod", "compute")["status"]["phase"] == "Succeeded", logs
    assert "MEAN 1.0" in logs

    table = k("get", "daskclusters").stdout
    assert "simple" in table and "Running" in table and "2/2" in table


def test_deleted_scheduler_and_worker_pods_are_replaced(k):
    k.apply(example("cluster.yaml"))
    wait_ready(k, "daskcluster", "simple")
    old_scheduler = k.get("pod", "simple-scheduler")["metadata"]["uid"]
    victim = worker_pods(k, "simple-default")[0]["metadata"]["name"]
    k("delete", "pod", "simple-scheduler", "--wait=true")
    k("delete", "pod", victim, "--wait=true")
    wait_for(
        lambda: (
            (k.get("pod", "simple-scheduler") or {"metadata": {"uid": old_scheduler}})["metadata"]["uid"]
            != old_scheduler
        ),
        timeout=120,
        what="a new scheduler Pod",
    )
    wait_for(
        lambda: (
            len(worker_pods(k, "simple-default")) == 2
            and victim not in {p["metadata"]["name"] for p in worker_pods(k, "simple-default")}
        ),
        timeout=120,
        what="a replacement worker",
    )
    cluster = wait_ready(k, "daskcluster", "simple")
    assert cluster["status"]["workers"] == "2/2"
    events = k("get", "events", "--field-selector", "involvedObject.name=simple", "-o", "json").stdout
    assert "Recreated" in {e["reason"] for e in json.loads(events)["items"]}


def test_metadata_propagates_and_tool_keys_do_not(k):
    k.apply(example("cluster-annotations.yaml"))
    wait_ready(k, "daskcluster", "annotated")
    scheduler = k.get("pod", "annotated-scheduler")["metadata"]
    assert scheduler["annotations"]["hello"] == "world" and scheduler["annotations"]["fizz"] == "buzz"
    group = k.get("daskworkergroup", "annotated-default")["metadata"]
    assert group["annotations"]["foo"] == "bar" and group["annotations"]["hello"] == "world"
    for pod in worker_pods(k, "annotated-default"):
        meta = pod["metadata"]
        assert meta["annotations"]["foo"] == "bar" and meta["annotations"]["hello"] == "world"
        assert meta["labels"]["dask.org/component"] == "worker"
        assert not [
            key
            for key in meta["annotations"]
            if key.startswith(("kubectl.kubernetes.io", "kopf.zalando.org"))
        ]
    assert "kubectl.kubernetes.io/last-applied-configuration" not in scheduler["annotations"]


def test_user_env_is_not_duplicated_or_overwritten(k):
    (cluster,) = example("cluster.yaml")
    cluster["spec"]["worker"]["replicas"] = 1
    cluster["spec"]["worker"]["spec"]["containers"][0]["env"] = [
        {"name": "DASK_SCHEDULER_ADDRESS", "value": "tcp://simple-scheduler:8786"}
    ]
    k.apply(cluster)
    wait_ready(k, "daskcluster", "simple")
    (pod,) = worker_pods(k, "simple-default")
    env = pod["spec"]["containers"][0]["env"]
    addresses = [e for e in env if e["name"] == "DASK_SCHEDULER_ADDRESS"]
    assert addresses == [{"name": "DASK_SCHEDULER_ADDRESS", "value": "tcp://simple-scheduler:8786"}]
    assert [e["value"] for e in env if e["name"] == "DASK_WORKER_NAME"] == [pod["metadata"]["name"]]


def test_additional_worker_group_joins_and_delete_removes_everything(k):
    k.apply(example("cluster.yaml"))
    (highmem,) = example("highmemworkers.yaml")
    highmem["spec"]["worker"]["replicas"] = 1
    k.apply(highmem)
    wait_ready(k, "daskcluster", "simple")
    wait_ready(k, "daskworkergroup", "simple-highmem")
    script = (
        "from dask.distributed import Client\n"
        f"c = Client('tcp://simple-scheduler.{k.namespace}.svc.cluster.local:8786', timeout=60)\n"
        "c.wait_for_workers(3, timeout=120)\n"
        "print('NAMES', sorted(w['name'] for w in c.scheduler_info(n_workers=-1)['workers'].values()))\n"
    )
    from tests.operator.e2e.test_cluster import client_pod

    k.apply(client_pod(k.namespace, "who", script))
    wait_for(
        lambda: k.get("pod", "who")["status"].get("phase") in ("Succeeded", "Failed"),
        timeout=240,
        what="client pod",
    )
    logs = k("logs", "who").stdout
    assert "simple-highmem-worker-" in logs and "simple-default-worker-" in logs, logs

    k("delete", "daskcluster", "simple")
    wait_for(
        lambda: (
            not k.items("pods", "dask.org/cluster-name=simple")
            and not k.items("daskworkergroups")
            and not k.get("service", "simple-scheduler")
        ),
        timeout=120,
        what="every child of the cluster to be deleted",
    )
    assert is_ready(k.get("daskcluster", "simple")) is False


def test_migration_example_cluster_becomes_ready(k):
    (cluster,) = example("cluster-spec.yaml")
    k.apply(cluster)
    ready = wait_ready(k, "daskcluster", "example")
    assert ready["status"]["workers"] == "2/2"
    for pod in worker_pods(k, "example-default"):
        assert pod["metadata"]["labels"]["foo"] == "bar"
        assert pod["spec"]["restartPolicy"] == "Never"

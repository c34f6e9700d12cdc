"""The real Kueue, its manager a Pod under the node agent, queues batch/v1 Jobs by quota.

Two Jobs of one cpu each behind a ClusterQueue of one cpu: Kueue suspends both at
creation (its webhook), admits one, and the second gets Pods only once the first has
finished and given its quota back.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from dask_kubernetes_dev import kueue_manifests as km
from dask_kubernetes_dev.polling import wait_for
from dask_kubernetes_dev.pytest_plugin import KubeTarget


def apply(cluster: KubeTarget, *objects: dict[str, Any]) -> None:
    cluster.kubectl(
        "apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)})
    )


def get(cluster: KubeTarget, *args: str) -> Any:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def queues(namespace: str) -> tuple[str, list[dict[str, Any]]]:
    """A ResourceFlavor, a ClusterQueue of one cpu for ``namespace`` alone, and its LocalQueue."""
    suffix = uuid.uuid4().hex[:6]
    flavor, cluster_queue = f"flavor-{suffix}", f"cq-{suffix}"
    return "lq", [
        {"apiVersion": km.API_VERSION, "kind": "ResourceFlavor", "metadata": {"name": flavor}},
        {
            "apiVersion": km.API_VERSION,
            "kind": "ClusterQueue",
            "metadata": {"name": cluster_queue},
            "spec": {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
                "resourceGroups": [
                    {
                        "coveredResources": ["cpu"],
                        "flavors": [{"name": flavor, "resources": [{"name": "cpu", "nominalQuota": 1}]}],
                    }
                ],
            },
        },
        {
            "apiVersion": km.API_VERSION,
            "kind": "LocalQueue",
            "metadata": {"name": "lq", "namespace": namespace},
            "spec": {"clusterQueue": cluster_queue},
        },
    ]


def job(name: str, namespace: str, queue: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "labels": {km.QUEUE_NAME_LABEL: queue}},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "terminationGracePeriodSeconds": 1,
                    "containers": [
                        {
                            "name": "main",
                            "image": "x",
                            "command": ["sleep", "4"],
                            "resources": {"requests": {"cpu": "1"}},
                        }
                    ],
                }
            },
        },
    }


def complete(job: dict[str, Any]) -> bool:
    conditions = (job.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Complete" and c["status"] == "True" for c in conditions)


def test_kueue_admits_one_job_at_a_time_within_quota(kueue_cluster, kueue_namespace):
    cluster, ns = kueue_cluster, kueue_namespace
    queue, objects = queues(ns)
    apply(cluster, *objects)
    cluster_queue = objects[1]["metadata"]["name"]
    wait_for(
        lambda: any(
            c["type"] == "Active" and c["status"] == "True"
            for c in (get(cluster, "clusterqueue", cluster_queue).get("status") or {}).get("conditions") or []
        ),
        timeout=60,
        what=f"ClusterQueue {cluster_queue} to be active",
    )
    apply(cluster, job("one", ns, queue), job("two", ns, queue))

    seen: dict[str, Any] = {"first": None}

    def state() -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]]]:
        items = get(cluster, "jobs,pods", "-n", ns)["items"]
        jobs = {i["metadata"]["name"]: i for i in items if i["kind"] == "Job"}
        pods: dict[str, list[dict[str, Any]]] = {name: [] for name in jobs}
        for pod in (i for i in items if i["kind"] == "Pod"):
            pods.setdefault(pod["metadata"]["labels"].get("job-name", ""), []).append(pod)
        return jobs, pods

    def first_done_and_second_held() -> bool:
        jobs, pods = state()
        with_pods = [name for name in ("one", "two") if pods.get(name)]
        assert len(with_pods) <= 1 or complete(jobs[seen["first"]]), (
            f"both Jobs have Pods while neither has finished: {with_pods}"
        )
        if seen["first"] is None and with_pods:
            seen["first"] = with_pods[0]
        if seen["first"] is None:
            return False
        second = "two" if seen["first"] == "one" else "one"
        if not complete(jobs[seen["first"]]):
            assert not pods[second], f"Job {second} has Pods while {seen['first']} runs"
            assert jobs[second]["spec"]["suspend"] is True
            return False
        return True

    wait_for(first_done_and_second_held, timeout=180, interval=0.5, what="the first admitted Job to complete")
    first = seen["first"]
    second = "two" if first == "one" else "one"
    wait_for(lambda: complete(state()[0][second]), timeout=180, what=f"Job {second} to complete")

    jobs, pods = state()
    finished_first = jobs[first]["status"]["completionTime"]
    assert all(p["metadata"]["creationTimestamp"] >= finished_first for p in pods[second])
    workloads = get(cluster, f"workloads.{km.API_GROUP}", "-n", ns)
    owners = {}
    for workload in workloads["items"]:
        assert workload["apiVersion"] == km.API_VERSION
        (owner,) = workload["metadata"]["ownerReferences"]
        conditions = {c["type"]: c["status"] for c in workload["status"]["conditions"]}
        owners[owner["name"]] = conditions
    assert set(owners) == {"one", "two"}
    assert all(c.get("Admitted") == "True" and c.get("Finished") == "True" for c in owners.values()), owners

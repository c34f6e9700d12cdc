"""The kube-scheduler's gang policy (workload-aware scheduling, alpha in Kubernetes 1.36) on the local node.

A PodGroup with ``gang.minCount: 3`` binds its Pods all together or not at all: three
Pods that do not fit the node together stay unbound (none is placed alone), three that
fit are all bound.  The operator's gang support relies on exactly this.
"""

from __future__ import annotations

import json
from typing import Any

from dask_kubernetes.validation import quantity
from dask_kubernetes_dev.polling import wait_for
from dask_kubernetes_dev.pytest_plugin import KubeTarget

SCHEDULING_API = "scheduling.k8s.io/v1alpha2"


def get(cluster: KubeTarget, *args: str) -> Any:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def node_cpu(cluster: KubeTarget) -> int:
    """The node's allocatable cpu, in whole cpus."""
    (node,) = get(cluster, "nodes")["items"]
    cpu = quantity.parse(node["status"]["allocatable"]["cpu"])
    assert cpu is not None
    return int(cpu)


def gang(cluster: KubeTarget, namespace: str, name: str, cpu: int, size: int = 3) -> None:
    """A PodGroup of ``size`` (all or nothing) and its ``size`` Pods, each requesting ``cpu``."""
    pods = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"{name}-{i}", "namespace": namespace},
            "spec": {
                "schedulingGroup": {"podGroupName": name},
                "terminationGracePeriodSeconds": 1,
                "containers": [
                    {
                        "name": "main",
                        "image": "x",
                        "command": ["sleep", "600"],
                        "resources": {"requests": {"cpu": str(cpu)}},
                    }
                ],
            },
        }
        for i in range(size)
    ]
    group = {
        "apiVersion": SCHEDULING_API,
        "kind": "PodGroup",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"schedulingPolicy": {"gang": {"minCount": size}}},
    }
    cluster.kubectl(
        "apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": [group, *pods]})
    )


def scheduled_condition(cluster: KubeTarget, namespace: str, name: str) -> dict[str, Any] | None:
    group = get(cluster, f"podgroups.{SCHEDULING_API.split('/')[1]}.scheduling.k8s.io", name, "-n", namespace)
    conditions = (group.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c["type"] == "PodGroupScheduled"), None)


def bound(cluster: KubeTarget, namespace: str, name: str) -> list[str]:
    pods = get(cluster, "pods", "-n", namespace)["items"]
    return [
        p["metadata"]["name"]
        for p in pods
        if p["metadata"]["name"].startswith(f"{name}-") and p["spec"].get("nodeName")
    ]


def test_a_gang_that_does_not_fit_together_binds_no_pod(workload_cluster, gang_namespace):
    cluster, ns = workload_cluster, gang_namespace
    per_pod = node_cpu(cluster) * 2 // 5  # 400 of 1000: two would fit, three do not
    gang(cluster, ns, "big", per_pod)
    condition = wait_for(
        lambda: (c := scheduled_condition(cluster, ns, "big")) and c["status"] == "False" and c,
        timeout=120,
        what="the PodGroup to be reported unschedulable",
    )
    assert condition["reason"] == "Unschedulable", condition
    assert bound(cluster, ns, "big") == []


def test_a_gang_that_fits_binds_every_pod(workload_cluster, gang_namespace):
    cluster, ns = workload_cluster, gang_namespace
    per_pod = node_cpu(cluster) // 10  # 100 of 1000
    gang(cluster, ns, "small", per_pod)
    wait_for(lambda: len(bound(cluster, ns, "small")) == 3, timeout=120, what="all three Pods to be bound")

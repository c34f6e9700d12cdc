"""DaskJobs and DaskClusters queued, admitted, preempted and finished by the real Kueue v0.17.0.

The control plane runs Kueue's own controller-manager and webhooks as a Pod under
the node agent (``kueue_cluster``); our chart is installed with ``kueue.enabled``
and the webhook on, so a labelled object is created suspended, as users get it.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from dask_kubernetes import yamlio
from dask_kubernetes.api import kueue
from dask_kubernetes_dev import install
from dask_kubernetes_dev.luahealth import luahealth
from dask_kubernetes_dev.polling import wait_for
from dask_kubernetes_dev.pytest_plugin import KubeTarget
from tests.gitops.test_health_live import check
from tests.operator.e2e.conftest import Kubectl, condition, example

pytestmark = pytest.mark.cluster

OPERATOR_NAMESPACE = "dask-operator"
VALUES = [
    "kueue.enabled=true",
    "replicaCount=1",
    "webhook.replicaCount=1",
    "webhook.podDisruptionBudget.enabled=false",
]


@pytest.fixture(scope="module")
def queued_operator(kueue_cluster: KubeTarget) -> Iterator[KubeTarget]:
    """Our chart on the Kueue control plane: the Kueue integration and the webhook on."""
    install.install(kueue_cluster.kubeconfig, OPERATOR_NAMESPACE, VALUES, timeout=300)
    yield kueue_cluster
    install.uninstall(kueue_cluster.kubeconfig, OPERATOR_NAMESPACE, VALUES)


@pytest.fixture
def kq(queued_operator: KubeTarget) -> Iterator[Kubectl]:
    """kubectl in a fresh namespace of the Kueue control plane."""
    name = f"q-{uuid.uuid4().hex[:8]}"
    queued_operator.kubectl("create", "namespace", name)
    wait_for(
        lambda: queued_operator.kubectl("get", "sa", "default", "-n", name, check=False).returncode == 0,
        timeout=60,
        what="the default ServiceAccount",
    )
    yield Kubectl(queued_operator, name)
    queued_operator.kubectl("delete", "namespace", name, "--wait=false", check=False)


def queues(k: Kubectl, cpu: str, *, preemption: bool = False) -> None:
    """A ResourceFlavor, a ClusterQueue with ``cpu`` of quota (and lots of memory), a LocalQueue ``q``."""
    cq = f"cq-{k.namespace}"
    spec: dict[str, Any] = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": k.namespace}},
        "resourceGroups": [
            {
                "coveredResources": ["cpu", "memory"],
                "flavors": [
                    {
                        "name": "default-flavor",
                        "resources": [
                            {"name": "cpu", "nominalQuota": cpu},
                            {"name": "memory", "nominalQuota": "1Ti"},
                        ],
                    }
                ],
            }
        ],
    }
    if preemption:
        spec["preemption"] = {"withinClusterQueue": "LowerPriority"}
    docs = [
        {"apiVersion": kueue.API_VERSION, "kind": "ResourceFlavor", "metadata": {"name": "default-flavor"}},
        {"apiVersion": kueue.API_VERSION, "kind": "ClusterQueue", "metadata": {"name": cq}, "spec": spec},
        {
            "apiVersion": kueue.API_VERSION,
            "kind": "LocalQueue",
            "metadata": {"name": "q", "namespace": k.namespace},
            "spec": {"clusterQueue": cq},
        },
    ]
    wait_for(lambda: k.apply(docs) and True, timeout=60, what="the queues to be accepted")


def job(name: str, seconds: float, *, priority: str | None = None, cpu: str = "1") -> dict[str, Any]:
    """A queued DaskJob whose three Pods request ``cpu`` each and whose runner works ``seconds``."""
    (body,) = example("job.yaml")
    body = copy.deepcopy(body)
    body["metadata"] = {"name": name, "labels": {kueue.QUEUE_LABEL: "q"}}
    if priority:
        body["metadata"]["labels"][kueue.PRIORITY_CLASS_LABEL] = priority
    runner = body["spec"]["job"]["spec"]["containers"][0]
    runner["args"] = ["python", "-c", f"import time; time.sleep({seconds}); print('JOB DONE')"]
    cluster = body["spec"]["cluster"]["spec"]
    cluster["worker"]["replicas"] = 1
    cluster["scheduler"]["service"]["selector"]["dask.org/cluster-name"] = name
    for container in (
        runner,
        cluster["worker"]["spec"]["containers"][0],
        cluster["scheduler"]["spec"]["containers"][0],
    ):
        container["resources"] = {"requests": {"cpu": cpu, "memory": "64Mi"}}
    return body


def pods_of(k: Kubectl, name: str) -> list[dict[str, Any]]:
    return [
        p
        for p in k.items("pods", f"dask.org/cluster-name={name}")
        if not p["metadata"].get("deletionTimestamp")
    ]


def job_status(k: Kubectl, name: str) -> str | None:
    obj = k.get("daskjob", name)
    return ((obj or {}).get("status") or {}).get("jobStatus")


def workload(k: Kubectl, kind: str, name: str) -> dict[str, Any] | None:
    return k.get("workloads.kueue.x-k8s.io", kueue.workload_name(kind, name))


def test_a_queue_with_room_for_one_job_runs_two_one_after_the_other(kq):
    queues(kq, cpu="4")  # one job (3 cpu) fits, two do not
    kq.apply([job("first", 15), job("second", 1)])
    for name in ("first", "second"):
        obj = kq.get("daskjob", name)
        assert obj["spec"]["suspend"] is True  # set by our webhook at create
    running = wait_for(
        lambda: next((n for n in ("first", "second") if job_status(kq, n) == "Running"), None),
        timeout=300,
        what="one job to run",
    )
    other = "second" if running == "first" else "first"
    waiting = kq.get("daskjob", other)
    assert pods_of(kq, other) == []
    assert waiting["status"]["jobStatus"] == "Suspended" and waiting["status"]["reason"] == "Queued"
    assert condition(waiting, "Suspended")["reason"] == "Queued"
    assert waiting["status"]["queue"]["admitted"] is False
    # Argo CD reads a queued job as Suspended (with the queue in its message), kstatus as
    # Current; a broken one reads Degraded/Failed (tests/gitops/test_health_live.py).
    check("queued", waiting, "Suspended")
    assert "LocalQueue q" in luahealth(waiting)[1]
    wl = workload(kq, "DaskJob", running)
    assert [p["name"] for p in wl["spec"]["podSets"]] == ["scheduler", f"{running}-default", "runner"]
    wait_for(
        lambda: all(job_status(kq, n) in ("Successful", "Failed") for n in ("first", "second")),
        timeout=600,
        what="both jobs to end",
    )
    for name in ("first", "second"):
        assert job_status(kq, name) == "Successful", kq("describe", "daskjob", name, check=False).stdout
        finished = wait_for(
            lambda n=name: kueue.is_true(workload(kq, "DaskJob", n) or {}, kueue.CONDITION_FINISHED),
            timeout=60,
            what=f"the Workload of {name} to be Finished",
        )
        assert finished


def test_a_higher_priority_job_preempts_a_running_one_which_comes_back(kq):
    queues(kq, cpu="4", preemption=True)
    kq.apply(
        [
            {
                "apiVersion": kueue.API_VERSION,
                "kind": "WorkloadPriorityClass",
                "metadata": {"name": f"low-{kq.namespace}"},
                "value": 100,
            },
            {
                "apiVersion": kueue.API_VERSION,
                "kind": "WorkloadPriorityClass",
                "metadata": {"name": f"high-{kq.namespace}"},
                "value": 1000,
            },
        ]
    )
    kq.apply(job("low", 25, priority=f"low-{kq.namespace}"))
    wait_for(lambda: job_status(kq, "low") == "Running", timeout=300, what="the low-priority job to run")
    assert workload(kq, "DaskJob", "low")["spec"]["priority"] == 100
    kq.apply(job("high", 1, priority=f"high-{kq.namespace}"))
    evicted = wait_for(
        lambda: next(
            (
                e
                for e in kq.items("events")
                if e.get("reason") == "Evicted" and e["involvedObject"]["name"] == "low"
            ),
            None,
        ),
        timeout=180,
        what="the low-priority job's eviction",
    )
    assert "Preempted" in evicted["message"]
    wait_for(lambda: pods_of(kq, "low") == [] or None, timeout=180, what="the low job's Pods to go")
    low = kq.get("daskjob", "low")
    assert low["spec"]["suspend"] is True
    wait_for(
        lambda: job_status(kq, "high") == "Successful", timeout=400, what="the high-priority job to succeed"
    )
    wait_for(
        lambda: job_status(kq, "low") == "Successful",
        timeout=500,
        what="the preempted job to come back and succeed",
    )
    low = kq.get("daskjob", "low")
    assert low["status"]["attempt"] >= 2  # it ran again from the start


def test_an_autoscaled_cluster_reserves_its_maximum_and_never_runs_a_fifth_worker(kq):
    queues(kq, cpu="100")
    (cluster,) = example("cluster.yaml")
    cluster["metadata"]["labels"] = {kueue.QUEUE_LABEL: "q"}
    name = cluster["metadata"]["name"]
    (autoscaler,) = example("autoscaler.yaml")
    autoscaler["spec"]["maximum"] = 4
    kq.apply([cluster, autoscaler])
    wl = wait_for(
        lambda: (lambda w: w if kueue.is_true(w or {}, kueue.CONDITION_ADMITTED) else None)(
            workload(kq, "DaskCluster", name)
        ),
        timeout=180,
        what="the cluster's Workload to be admitted",
    )
    counts = {p["name"]: p["count"] for p in wl["spec"]["podSets"]}
    assert counts == {"scheduler": 1, f"{name}-default": 4}
    admitted = {a["name"]: a["count"] for a in wl["status"]["admission"]["podSetAssignments"]}
    assert admitted[f"{name}-default"] == 4
    wait_for(lambda: len(pods_of(kq, name)) >= 2 or None, timeout=240, what="the cluster's Pods")
    kq("delete", "daskautoscaler", autoscaler["metadata"]["name"])
    kq("scale", "daskworkergroup", f"{name}-default", "--replicas=6")
    wait_for(
        lambda: any(e.get("reason") == "OverQuota" for e in kq.items("events")) or None,
        timeout=120,
        what="the OverQuota warning",
    )
    workers = [p for p in pods_of(kq, name) if p["metadata"]["labels"]["dask.org/component"] == "worker"]
    assert len(workers) == 4
    # The Workload is owned by the cluster: deleting the cluster deletes it, releasing the quota.
    kq("delete", "daskcluster", name)
    wait_for(
        lambda: workload(kq, "DaskCluster", name) is None,
        timeout=120,
        what="the Workload to go with the cluster",
    )


def test_a_ninth_podset_is_refused_at_apply_with_the_field_path(kq):
    queues(kq, cpu="100")
    (cluster,) = example("cluster.yaml")
    cluster["metadata"]["labels"] = {kueue.QUEUE_LABEL: "q"}
    name = cluster["metadata"]["name"]
    kq.apply(cluster)
    group_spec = copy.deepcopy(cluster["spec"]["worker"])
    group_spec["replicas"] = 0

    def group(i: int) -> dict[str, Any]:
        return {
            "apiVersion": "kubernetes.dask.org/v1",
            "kind": "DaskWorkerGroup",
            "metadata": {"name": f"{name}-extra{i}"},
            "spec": {"cluster": name, "worker": group_spec},
        }

    for i in range(6):  # the scheduler, the default group and 6 more: 8 PodSets
        kq.apply(group(i))
    refused = kq("apply", "-f", "-", input=yamlio.dump(group(6)), check=False)
    assert refused.returncode != 0
    assert "spec.cluster" in refused.stderr and "8" in refused.stderr, refused.stderr


def test_an_unlabelled_job_runs_as_before_without_a_workload(kq):
    body = job("plain", 1)
    body["metadata"]["labels"] = {}
    kq.apply(body)
    assert not kq.get("daskjob", "plain")["spec"].get("suspend")
    wait_for(lambda: job_status(kq, "plain") == "Successful", timeout=300, what="the unqueued job to succeed")
    assert kq.items("workloads.kueue.x-k8s.io") == []

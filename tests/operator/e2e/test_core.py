"""The operator core against the real API server: crash safety, batches, deletion, errors, HA."""

from __future__ import annotations

import json

from dask_kubernetes.api import times
from dask_kubernetes.operator import KubeCluster
from dask_kubernetes_dev.polling import wait_for
from tests.operator.e2e.conftest import (
    condition,
    example,
    operator_pods,
    wait_condition,
    wait_ready,
    worker_pods,
)
from tests.operator.e2e.helpers import (
    DEPLOYMENT,
    Data,
    count_retirements,
    group_converged,
    group_pod_names,
    kill_9,
    operator_env,
    operator_kubectl,
    operator_replicas,
    operator_restarts,
    retirements,
    scheduler_client,
)


def test_operator_killed_between_retire_and_delete_retires_each_worker_once(k):
    (cluster,) = example("cluster.yaml")
    cluster["spec"]["worker"]["replicas"] = 5
    k.apply(cluster)
    wait_ready(k, "daskcluster", "simple", timeout=300)
    with operator_replicas(k, 1), operator_env(k, DASK_OPERATOR_FAULT_POINTS="after-retire"):
        restarts = operator_restarts(k)
        with scheduler_client(k, "simple") as client:
            client.wait_for_workers(5, timeout=240)
            data = Data(client)
            count_retirements(client)
            k("scale", "daskworkergroup", "simple-default", "--replicas=2")
            wait_for(lambda: group_converged(k, "simple-default", 2), timeout=300, what="2 workers")
            retired = retirements(client)
            assert data.lost() == 0
            assert data.intact()
        assert operator_restarts(k) > restarts, "the fault point killed the operator (kill -9) once"
    assert len(retired) == 3 and len(set(retired)) == 3, retired
    assert set(retired).isdisjoint(group_pod_names(k, "simple-default"))


def _created(pod):
    return times.parse_datetime(pod["metadata"]["creationTimestamp"])


def test_worker_batches_are_at_least_the_delay_apart(k):
    (cluster,) = example("cluster.yaml")
    cluster["spec"]["worker"]["replicas"] = 0
    k.apply(cluster)
    wait_ready(k, "daskcluster", "simple", timeout=300)
    env = {
        "DASK_KUBERNETES__CONTROLLER__WORKER_ALLOCATION__BATCH_SIZE": "2",
        "DASK_KUBERNETES__CONTROLLER__WORKER_ALLOCATION__DELAY": "5",
    }
    with operator_env(k, **env):
        k("scale", "daskworkergroup", "simple-default", "--replicas=6")
        wait_for(lambda: len(worker_pods(k, "simple-default")) == 6, timeout=300, what="6 worker Pods")
        stamps = sorted(_created(p) for p in worker_pods(k, "simple-default"))
    batches = [stamps[i : i + 2] for i in range(0, 6, 2)]
    assert all(b[0] == b[1] or (b[1] - b[0]).total_seconds() <= 1 for b in batches), stamps
    gaps = [(batches[i + 1][0] - batches[i][-1]).total_seconds() for i in range(2)]
    assert all(gap >= 5 for gap in gaps), gaps


def test_no_dask_object_carries_a_kopf_finalizer(k):
    (cluster,) = example("cluster.yaml")
    k.apply(cluster)
    wait_ready(k, "daskcluster", "simple")
    for kind in ("daskclusters", "daskworkergroups"):
        for obj in k.items(kind):
            assert not obj["metadata"].get("finalizers"), obj["metadata"]


def test_deletion_completes_with_the_operator_stopped(k):
    (cluster,) = example("cluster.yaml")
    k.apply(cluster)
    wait_ready(k, "daskcluster", "simple")
    with operator_replicas(k, 0):
        k("delete", "daskcluster", "simple", "--timeout=60s")
        wait_for(
            lambda: not k.items("pods", "dask.org/cluster-name=simple"), timeout=180, what="Pods collected"
        )
        assert not k.items("daskworkergroups")
        k.target.kubectl("delete", "namespace", k.namespace, "--timeout=120s")


def test_refused_pods_are_stalled_with_the_pod_security_message_and_compliant_ones_run(k):
    k.target.kubectl("label", "namespace", k.namespace, "pod-security.kubernetes.io/enforce=restricted")
    (cluster,) = example("cluster.yaml")
    k.apply(cluster)
    obj = wait_condition(k, "daskcluster", "simple", "Stalled", timeout=120)
    assert "PodSecurity" in condition(obj, "Stalled")["message"]
    yaml_out = k("get", "daskcluster", "simple", "-o", "yaml").stdout
    assert "violates PodSecurity" in yaml_out
    described = k("describe", "daskcluster", "simple").stdout
    assert "Refused" in described and "PodSecurity" in described

    secure = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    (compliant,) = example("cluster.yaml")
    compliant["metadata"]["name"] = "secure"
    compliant["spec"]["scheduler"]["service"]["selector"]["dask.org/cluster-name"] = "secure"
    for part in ("worker", "scheduler"):
        for container in compliant["spec"][part]["spec"]["containers"]:
            container["securityContext"] = secure
    k.apply(compliant)
    wait_ready(k, "daskcluster", "secure", timeout=300)


def test_adapt_then_close_leaves_no_autoscaler_and_deleting_the_cluster_deletes_it(k, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(k.target.kubeconfig))
    with KubeCluster(name="adaptive", namespace=k.namespace, n_workers=1, quiet=True) as cluster:
        cluster.adapt(minimum=1, maximum=2)
        scaler = k.get("daskautoscaler", "adaptive")
        assert scaler["metadata"]["ownerReferences"][0]["kind"] == "DaskCluster"
    wait_for(lambda: k.get("daskautoscaler", "adaptive") is None, timeout=120, what="the autoscaler gone")

    (cluster,) = example("cluster.yaml")
    k.apply(cluster)
    wait_ready(k, "daskcluster", "simple")
    k.apply(
        {
            "apiVersion": "kubernetes.dask.org/v1",
            "kind": "DaskAutoscaler",
            "metadata": {"name": "simple"},
            "spec": {"cluster": "simple", "minimum": 1, "maximum": 2},
        }
    )
    wait_for(
        lambda: (k.get("daskautoscaler", "simple") or {}).get("metadata", {}).get("ownerReferences"),
        timeout=120,
        what="the autoscaler adopted by its cluster",
    )
    k("delete", "daskcluster", "simple")
    wait_for(lambda: k.get("daskautoscaler", "simple") is None, timeout=120, what="the autoscaler collected")


def _lease(k):
    lease = json.loads(operator_kubectl(k, "get", "lease", "dask-kubernetes-operator", "-o", "json").stdout)
    return lease["spec"].get("holderIdentity")


def test_two_replicas_one_leader_and_a_kill_hands_over_without_duplicates(k):
    replicas = json.loads(operator_kubectl(k, "get", DEPLOYMENT, "-o", "json").stdout)["spec"]["replicas"]
    assert replicas == 2
    pods = operator_pods(k)
    assert len(pods) == 2
    leader = wait_for(lambda: _lease(k) if _lease(k) in pods else None, timeout=120, what="a leader")
    (cluster,) = example("cluster.yaml")
    k.apply(cluster)
    wait_ready(k, "daskcluster", "simple")
    assert kill_9(leader) >= 1
    # Gone for good (a restarted container would come back as the same identity and keep the Lease).
    operator_kubectl(k, "delete", "pod", leader, "--grace-period=0", "--force", check=False)
    k("scale", "daskworkergroup", "simple-default", "--replicas=4")
    wait_for(
        lambda: group_converged(k, "simple-default", 4), timeout=300, what="4 workers after the hand-over"
    )
    assert len(worker_pods(k, "simple-default")) == 4, "no duplicate Pods"
    (other,) = set(pods) - {leader}
    assert _lease(k) == other, "the standby replica took over"

"""Scale-down keeps every key: only the scaled group's workers are retired, through the scheduler."""

from __future__ import annotations

import copy

from dask_kubernetes_dev.polling import wait_for
from tests.operator.e2e.conftest import example, wait_ready
from tests.operator.e2e.helpers import (
    Data,
    count_retirements,
    group_converged,
    group_pod_names,
    operator_restarts,
    retirements,
    scheduler_client,
)


def _second_group(cluster, n):
    return {
        "apiVersion": "kubernetes.dask.org/v1",
        "kind": "DaskWorkerGroup",
        "metadata": {"name": "simple-second"},
        "spec": {"cluster": "simple", "worker": {**copy.deepcopy(cluster["spec"]["worker"]), "replicas": n}},
    }


def test_scaling_one_of_two_groups_retires_only_its_workers_and_loses_nothing(k):
    (cluster,) = example("cluster.yaml")
    cluster["spec"]["worker"]["replicas"] = 5
    k.apply([cluster, _second_group(cluster, 5)])
    wait_ready(k, "daskcluster", "simple", timeout=300)
    wait_for(
        lambda: group_converged(k, "simple-second", 5), timeout=300, what="5 workers in the second group"
    )
    default_before = group_pod_names(k, "simple-default")
    with scheduler_client(k, "simple") as client:
        client.wait_for_workers(10, timeout=240)
        data = Data(client)
        assert len(data.holders()) >= 5, "the keys should be spread over both groups"
        count_retirements(client)
        k("scale", "daskworkergroup", "simple-second", "--replicas=1")
        wait_for(lambda: group_converged(k, "simple-second", 1), timeout=300, what="the second group at 1")
        wait_for(
            lambda: len(client.scheduler_info(n_workers=-1)["workers"]) == 6, timeout=120, what="6 workers"
        )
        retired = retirements(client)
        assert data.lost() == 0
        assert data.intact()
    assert len(retired) == 4 and all(name.startswith("simple-second-worker-") for name in retired), retired
    assert sorted(retired) == sorted(set(retired)), "each worker retired once"
    assert group_pod_names(k, "simple-default") == default_before, "the other group was not touched"
    events = k("get", "events", "--field-selector", "involvedObject.name=simple-second").stdout
    assert "RetiredWorkers" in events and "ScaleDownWithoutRetire" not in events


def _scale_down_loses_nothing(k, cluster, before: int, scaled: str, after: int, ready_timeout: float) -> None:
    """Start ``cluster`` with ``before`` workers holding data, scale ``scaled`` to ``after``: none lost."""
    cluster["spec"]["worker"]["replicas"] = before
    k.apply(cluster)
    wait_ready(k, "daskcluster", "simple", timeout=ready_timeout)
    with scheduler_client(k, "simple") as client:
        client.wait_for_workers(before, timeout=240)
        data = Data(client)
        k("scale", scaled, f"--replicas={after}")
        wait_for(
            lambda: group_converged(k, "simple-default", after),
            timeout=300,
            what=f"{after} worker{'s' if after > 1 else ''}",
        )
        assert data.lost() == 0
        assert data.intact()


def test_one_group_ten_to_two_loses_nothing(k):
    (cluster,) = example("cluster.yaml")
    _scale_down_loses_nothing(k, cluster, 10, "daskcluster/simple", 2, ready_timeout=400)


def test_rpc_path_when_the_http_api_is_off_loses_nothing(k):
    (cluster,) = example("cluster.yaml")
    routes = "['distributed.http.health', 'distributed.http.scheduler.info']"  # no API, no JSON
    cluster["spec"]["scheduler"]["spec"]["containers"][0]["env"] = [
        {"name": "DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES", "value": routes}
    ]
    _scale_down_loses_nothing(k, cluster, 4, "daskworkergroup/simple-default", 1, ready_timeout=300)
    events = k("get", "events", "--field-selector", "involvedObject.name=simple-default").stdout
    assert "via rpc" in events and "ScaleDownWithoutRetire" not in events


def test_lifo_with_a_warning_when_the_scheduler_is_unreachable(k):
    (cluster,) = example("cluster.yaml")
    cluster["spec"]["worker"]["replicas"] = 3
    scheduler = cluster["spec"]["scheduler"]["spec"]["containers"][0]
    # The scheduler listens elsewhere than its Pod declares, so the operator cannot reach it;
    # the workers are told the real address.
    scheduler["args"] = ["dask-scheduler", "--port", "9786", "--dashboard-address", ":9787"]
    for probe in ("readinessProbe", "livenessProbe"):
        scheduler[probe] = {"tcpSocket": {"port": 9786}, "periodSeconds": 2}
    worker = cluster["spec"]["worker"]["spec"]["containers"][0]
    worker["env"] = [
        {
            "name": "DASK_SCHEDULER_ADDRESS",
            "value": f"tcp://simple-scheduler.{k.namespace}.svc.cluster.local:9786",
        }
    ]
    k.apply(cluster)
    wait_ready(k, "daskcluster", "simple", timeout=300)
    restarts = operator_restarts(k)
    k("scale", "daskworkergroup", "simple-default", "--replicas=1")
    wait_for(lambda: group_converged(k, "simple-default", 1), timeout=300, what="1 worker")
    events = k("get", "events", "--field-selector", "involvedObject.name=simple-default").stdout
    assert "ScaleDownWithoutRetire" in events and "data held on them may be lost" in events
    assert operator_restarts(k) == restarts, "the operator did not crash"

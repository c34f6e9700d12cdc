"""The operator KubeCluster against the local control plane: every method, both APIs, all errors."""

from __future__ import annotations

import asyncio
import re

import dask.array as da
import pytest
from distributed import Client

from dask_kubernetes.api import constants
from dask_kubernetes.exceptions import ClusterSuspendedError, SchedulerStartupError, ValidationError
from dask_kubernetes.operator import CreateMode, KubeCluster, make_cluster_spec
from dask_kubernetes_dev.polling import wait_for
from tests.operator.e2e.conftest import OPERATOR_NAMESPACE, example, operator_pods, wait_ready
from tests.operator.e2e.helpers import scheduler_running


@pytest.fixture(autouse=True)
def kubeconfig(dask_operator, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(dask_operator.kubeconfig))


def _cluster_pods(k, name):
    return [
        p
        for p in k.items("pods", f"dask.org/cluster-name={name}")
        if not p["metadata"].get("deletionTimestamp")
    ]


def test_create_scale_compute_logs_and_close(k):
    with KubeCluster(name="sync", namespace=k.namespace, n_workers=1, quiet=True) as cluster:
        assert cluster.name == "sync"
        assert cluster.scheduler_address.startswith("tcp://")
        assert cluster.dashboard_link.startswith("http://")
        cluster.scale(2)
        assert k.get("daskworkergroup", "sync-default")["spec"]["worker"]["replicas"] == 2
        with Client(cluster) as client:
            client.wait_for_workers(2, timeout=180)
            assert da.ones((100, 100, 100), chunks=10).mean().compute() == 1.0
        cluster.wait_for_workers(2)
        logs = cluster.get_logs()
        assert "sync-scheduler" in logs
        assert any(name.startswith("sync-default-worker-") for name in logs)
        assert "Scheduler at" in logs["sync-scheduler"] or "scheduler" in logs["sync-scheduler"].lower()
    wait_for(
        lambda: k.get("daskcluster", "sync") is None and not _cluster_pods(k, "sync"),
        timeout=120,
        what="cleanup",
    )


def test_async_api_and_two_clusters_at_once(k):
    async def run():
        async with KubeCluster(
            name="one", namespace=k.namespace, n_workers=1, asynchronous=True, quiet=True
        ) as a:
            async with KubeCluster(
                name="two", namespace=k.namespace, n_workers=1, asynchronous=True, quiet=True
            ) as b:
                assert a.scheduler_address != b.scheduler_address
                await b.scale(2)
                async with Client(b, asynchronous=True) as client:
                    await client.wait_for_workers(2, timeout=180)
                    assert await client.submit(sum, [1, 2, 3]) == 6
                logs = await b.get_logs()
                assert "two-scheduler" in logs

    asyncio.run(run())
    wait_for(lambda: not k.items("daskclusters"), timeout=120, what="both clusters deleted")


def test_from_name_connects_to_a_kubectl_cluster_and_leaves_it(k):
    k.apply(example("cluster.yaml"))
    wait_ready(k, "daskcluster", "simple")
    cluster = KubeCluster.from_name("simple", namespace=k.namespace, quiet=True)
    try:
        cluster.scale(3)
        with Client(cluster) as client:
            client.wait_for_workers(3, timeout=180)
    finally:
        cluster.close()
    assert k.get("daskcluster", "simple") is not None
    assert k.get("daskworkergroup", "simple-default")["spec"]["worker"]["replicas"] == 3


def test_worker_groups_and_adapt(k):
    with KubeCluster(name="groups", namespace=k.namespace, n_workers=1, quiet=True) as cluster:
        cluster.add_worker_group("highmem", n_workers=1, resources={"requests": {"memory": "1Gi"}})
        wait_ready(k, "daskworkergroup", "groups-highmem")
        cluster.scale(2, worker_group="highmem")
        wait_for(lambda: len(_cluster_pods(k, "groups")) == 4, timeout=180, what="1 scheduler + 3 workers")
        cluster.delete_worker_group("highmem")
        wait_for(lambda: k.get("daskworkergroup", "groups-highmem") is None, timeout=60, what="group deleted")
        with pytest.raises(ValueError, match="does not exist"):
            cluster.scale(1, worker_group="nope")

        cluster.adapt(minimum=1, maximum=3)
        scaler = k.get("daskautoscaler", "groups")
        assert scaler["spec"] == {"cluster": "groups", "minimum": 1, "maximum": 3}
        cluster.scale(1)
        assert k.get("daskautoscaler", "groups") is None


def test_equivalent_to_custom_cluster_spec(k):
    config = {"name": "spec", "n_workers": 1, "resources": {"requests": {"memory": "256Mi"}}}
    with KubeCluster(namespace=k.namespace, quiet=True, **config):
        made_by_kwargs = k.get("daskcluster", "spec")["spec"]
    with KubeCluster(namespace=k.namespace, quiet=True, custom_cluster_spec=make_cluster_spec(**config)):
        made_by_spec = k.get("daskcluster", "spec")["spec"]
    assert made_by_kwargs == made_by_spec


def test_create_modes(k):
    with pytest.raises(ValueError, match="does not exist"):
        KubeCluster(name="absent", namespace=k.namespace, create_mode=CreateMode.CONNECT_ONLY, quiet=True)
    k.apply(example("cluster.yaml"))
    with pytest.raises(ValueError, match="already exists"):
        KubeCluster(name="simple", namespace=k.namespace, create_mode="CREATE_ONLY", quiet=True)


def test_invalid_name_and_resources_fail_before_anything_is_created(k):
    with pytest.raises(ValidationError, match="DNS-1123"):
        KubeCluster(name="Not_Valid", namespace=k.namespace, quiet=True)
    with pytest.raises(ValidationError, match="at most 53"):
        KubeCluster(name="a" * 54, namespace=k.namespace, quiet=True)
    with pytest.raises(ValueError, match="'limit'"):
        KubeCluster(name="ok", namespace=k.namespace, resources={"limit": {"cpu": "1"}}, quiet=True)
    assert not k.items("daskclusters")


def test_missing_crds_are_reported(k, monkeypatch):
    monkeypatch.setattr(constants, "VERSION", "v9")
    with pytest.raises(RuntimeError, match="not installed"):
        KubeCluster(name="nocrd", namespace=k.namespace, quiet=True)


def test_no_operator_running_is_a_timeout_that_says_so(k):
    deploy = "deployment/dask-kubernetes-operator"
    k.target.kubectl("-n", OPERATOR_NAMESPACE, "scale", deploy, "--replicas=0")
    try:
        wait_for(
            lambda: not operator_pods(k),
            timeout=60,
            what="the operator Pod to stop",
        )
        with pytest.raises(TimeoutError, match="is the Dask Operator running"):
            KubeCluster(name="orphan", namespace=k.namespace, resource_timeout=5, quiet=True)
        assert k.get("daskcluster", "orphan") is None
    finally:
        k.target.kubectl("-n", OPERATOR_NAMESPACE, "scale", deploy, "--replicas=1")
        k.target.kubectl("-n", OPERATOR_NAMESPACE, "rollout", "status", deploy, "--timeout=120s")


def test_crash_looping_scheduler_error_carries_its_logs(k):
    spec = scheduler_running(
        "crashy",
        "python",
        "-c",
        "import sys; print('scheduler exploded on purpose', flush=True); sys.exit(3)",
    )
    with pytest.raises(SchedulerStartupError, match="scheduler exploded on purpose"):
        KubeCluster(custom_cluster_spec=spec, namespace=k.namespace, resource_timeout=120, quiet=True)
    wait_for(
        lambda: k.get("daskcluster", "crashy") is None, timeout=60, what="the failed cluster to be removed"
    )


def test_name_template_from_config(k, monkeypatch):
    import dask

    monkeypatch.setenv("TEAM", "ml")
    with dask.config.set({"kubernetes.name": "dask-{TEAM}-{uuid}"}):
        with KubeCluster(namespace=k.namespace, n_workers=0, quiet=True) as cluster:
            assert cluster.name.startswith("dask-ml-")
            assert k.get("daskcluster", cluster.name) is not None


def test_bad_kubeconfig_is_a_clear_error(tmp_path, monkeypatch):
    from dask_kubernetes.kubeconfig import KubeConfigError

    bad = tmp_path / "config"
    bad.write_text("this: is: not: a kubeconfig")
    monkeypatch.setenv("KUBECONFIG", str(bad))
    with pytest.raises(KubeConfigError, match=re.escape(str(bad))):
        KubeCluster(name="x", quiet=True)


def _phase(k, name):
    return ((k.get("daskcluster", name) or {}).get("status") or {}).get("phase")


def test_suspend_frees_the_pods_refuses_scale_and_resume_brings_the_scaled_workers_back(k):
    with KubeCluster(name="pause", namespace=k.namespace, n_workers=1, quiet=True) as cluster:
        cluster.scale(2)  # the group, not the cluster: its replicas must survive the suspension
        cluster.suspend()
        assert _phase(k, "pause") == "Suspended"
        assert not k.items("pods", "dask.org/cluster-name=pause")
        assert cluster.scheduler_address == "<Not Connected>"
        with pytest.raises(ClusterSuspendedError, match=r"spec\.suspend.*resume\(\) first") as refused:
            cluster.scale(3)
        assert isinstance(refused.value, ValueError)
        assert k.get("daskworkergroup", "pause-default")["spec"]["worker"]["replicas"] == 2
        cluster.resume()
        assert k.get("daskcluster", "pause")["spec"]["suspend"] is False
        assert cluster.scheduler_address.startswith("tcp://")
        with Client(cluster) as client:
            client.wait_for_workers(2, timeout=180)
            assert client.submit(sum, [1, 2, 3]).result() == 6
        cluster.scale(1)  # allowed again
        assert k.get("daskworkergroup", "pause-default")["spec"]["worker"]["replicas"] == 1
    wait_for(lambda: k.get("daskcluster", "pause") is None, timeout=120, what="cleanup")


def test_async_suspend_and_resume(k):
    async def run():
        async with KubeCluster(
            name="apause", namespace=k.namespace, n_workers=1, asynchronous=True, quiet=True
        ) as cluster:
            await cluster.suspend()
            phase = _phase(k, "apause")
            with pytest.raises(ClusterSuspendedError):
                await cluster.scale(2)
            await cluster.resume()
            async with Client(cluster, asynchronous=True) as client:
                await client.wait_for_workers(1, timeout=180)
                return phase, await client.submit(sum, [1, 2]), cluster.scheduler_address

    phase, total, address = asyncio.run(run())
    assert (phase, total) == ("Suspended", 3) and address.startswith("tcp://")


def test_from_name_attaches_to_a_suspended_cluster_without_waiting_for_its_scheduler(k):
    (cluster,) = example("cluster.yaml")
    cluster["spec"]["suspend"] = True
    k.apply(cluster)
    wait_for(lambda: _phase(k, "simple") == "Suspended", timeout=120, what="the cluster to be Suspended")
    attached = KubeCluster.from_name("simple", namespace=k.namespace, quiet=True)
    try:
        with pytest.raises(ValueError, match=r"spec\.suspend"):
            attached.scale(3)
        attached.resume()
        with Client(attached) as client:
            client.wait_for_workers(2, timeout=180)
    finally:
        attached.close()
    assert k.get("daskcluster", "simple")["spec"]["suspend"] is False

"""The classic KubeCluster: from_yaml with the seed's worker spec scales, computes and cleans up."""

from __future__ import annotations

import dask.array as da
import pytest
from distributed import Client

from dask_kubernetes import KubeCluster, make_pod_spec
from dask_kubernetes_dev.polling import wait_for
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def kubeconfig(dask_operator, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(dask_operator.kubeconfig))


def _pods(k):
    return [p for p in k.items("pods", "app=dask") if not p["metadata"].get("deletionTimestamp")]


def test_from_yaml_scales_computes_and_cleans_up(k):
    spec = ROOT / "examples" / "classic" / "worker-spec.yml"
    with KubeCluster.from_yaml(str(spec), namespace=k.namespace) as cluster:
        cluster.scale_up(2)
        with Client(cluster) as client:
            client.wait_for_workers(2, timeout=180)
            assert da.ones((100, 100, 100), chunks=(100, 100, 10)).mean().compute() == 1.0
        pods = _pods(k)
        assert len(pods) == 2
        for pod in pods:
            assert pod["metadata"]["labels"]["foo"] == "bar"
            keys = {t["key"] for t in pod["spec"]["tolerations"]}
            assert {"k8s.dask.org/dedicated", "k8s.dask.org_dedicated"} <= keys
        cluster.scale(1)
        wait_for(lambda: len(_pods(k)) == 1, timeout=120, what="scale down to one worker Pod")
    wait_for(lambda: not _pods(k), timeout=120, what="worker Pods deleted on close")


def test_worker_template_path_and_worker_name_config(k, tmp_path):
    import dask

    from dask_kubernetes import yamlio

    template = tmp_path / "worker.yaml"
    template.write_text(yamlio.dump(make_pod_spec(image="ghcr.io/dask/dask:latest", memory_limit="1G")))
    with dask.config.set(
        {"kubernetes.worker-template-path": str(template), "kubernetes.worker-name": "w-{uuid}"}
    ):
        with KubeCluster(namespace=k.namespace, n_workers=1) as cluster:
            with Client(cluster) as client:
                client.wait_for_workers(1, timeout=180)
            (pod,) = _pods(k)
            assert pod["metadata"]["name"].startswith("w-")
            assert "--memory-limit" in pod["spec"]["containers"][0]["args"]
    wait_for(lambda: not _pods(k), timeout=120, what="worker Pods deleted on close")

"""The operator killed mid-creation, and the API server restarted: both converge cleanly."""

from __future__ import annotations

import pytest

from dask_kubernetes_dev.polling import wait_for
from tests.operator.e2e.conftest import OPERATOR_NAMESPACE, example, operator_pods, wait_ready, worker_pods


def test_operator_killed_while_creating_converges_without_duplicates(k):
    (cluster,) = example("cluster.yaml")
    cluster["spec"]["worker"]["replicas"] = 3
    k.apply(cluster)
    for pod in operator_pods(k):
        k.target.kubectl(
            "-n", OPERATOR_NAMESPACE, "delete", "pod", pod, "--grace-period=0", "--force", check=False
        )
    wait_ready(k, "daskcluster", "simple", timeout=300)
    assert len(k.items("pods", "dask.org/component=scheduler")) == 1
    assert len(worker_pods(k, "simple-default")) == 3
    assert len(k.items("daskworkergroups")) == 1


def test_api_server_restart_converges(k):
    if k.target.control_plane is None:
        pytest.skip("restarting the API server needs the local control plane this session started")
    (cluster,) = example("cluster.yaml")
    k.apply(cluster)
    wait_ready(k, "daskcluster", "simple")
    k.target.control_plane.restart_apiserver()
    k("scale", "daskworkergroup", "simple-default", "--replicas=3")
    wait_for(
        lambda: (
            len(worker_pods(k, "simple-default")) == 3
            and k.get("daskworkergroup", "simple-default")["status"].get("readyReplicas") == 3
        ),
        timeout=300,
        what="3 ready workers after the restart",
    )
    assert len(k.items("pods", "dask.org/component=scheduler")) == 1

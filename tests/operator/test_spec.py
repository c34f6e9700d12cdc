"""make_cluster_spec and make_worker_spec keep the seed's defaults and validate."""

from __future__ import annotations

import pytest

from dask_kubernetes.operator import make_cluster_spec, make_worker_spec
from dask_kubernetes.validation import registry


def test_cluster_spec_defaults():
    spec = make_cluster_spec(name="foo")
    assert spec["apiVersion"] == "kubernetes.dask.org/v1"
    assert spec["kind"] == "DaskCluster"
    assert spec["spec"]["idleTimeout"] == 0
    worker = spec["spec"]["worker"]
    assert worker["replicas"] == 3
    container = worker["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/dask/dask:latest"
    assert container["args"][:3] == ["dask-worker", "--name", "$(DASK_WORKER_NAME)"]
    scheduler = spec["spec"]["scheduler"]
    assert scheduler["service"]["type"] == "ClusterIP"
    assert scheduler["spec"]["containers"][0]["args"] == ["dask-scheduler", "--host", "0.0.0.0"]
    assert registry.validate("daskclusters", spec) == []


def test_options_reach_the_spec():
    spec = make_cluster_spec(
        name="foo",
        image="img:1",
        n_workers=2,
        env={"FOO": "bar"},
        resources={"requests": {"memory": "2Gi"}, "limits": {"memory": "64Gi"}},
        worker_command="dask worker",
        scheduler_service_type="NodePort",
        idle_timeout=60,
        jupyter=True,
    )
    worker = spec["spec"]["worker"]["spec"]["containers"][0]
    assert spec["spec"]["worker"]["replicas"] == 2
    assert worker["image"] == "img:1"
    assert worker["args"][:2] == ["dask", "worker"]
    assert {"name": "FOO", "value": "bar"} in worker["env"]
    assert worker["resources"]["limits"] == {"memory": "64Gi"}
    scheduler = spec["spec"]["scheduler"]
    assert "--jupyter" in scheduler["spec"]["containers"][0]["args"]
    assert scheduler["service"]["type"] == "NodePort"
    assert spec["spec"]["idleTimeout"] == 60


def test_env_as_a_list_of_kubernetes_env_vars():
    worker = make_worker_spec(env=[{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}])
    assert worker["spec"]["containers"][0]["env"] == [
        {"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
    ]


def test_misspelt_resources_key_is_a_value_error():
    with pytest.raises(ValueError, match="'limit'"):
        make_cluster_spec(name="foo", resources={"limit": {"memory": "1Gi"}})

"""Pure builders: names, labels, propagation, env injection and owner references."""

from __future__ import annotations

import copy

import pytest

from dask_kubernetes.api import constants
from dask_kubernetes.operator.builders import job as job_builder
from dask_kubernetes.operator.builders import scheduler as scheduler_builder
from dask_kubernetes.operator.builders import worker as worker_builder
from dask_kubernetes.operator.builders.metadata import merge_metadata, propagatable, with_env
from tests.conftest import ROOT, load_docs


def _with_server_fields(obj, namespace="ns", uid="uid-1"):
    obj = copy.deepcopy(obj)
    obj["metadata"].update(namespace=namespace, uid=uid)
    return obj


@pytest.fixture
def cluster():
    (obj,) = load_docs(ROOT / "examples" / "cluster-annotations.yaml")
    obj = _with_server_fields(obj)
    obj["metadata"]["labels"] = {
        "team": "data",
        "dask.org/component": "superworker",
        "kubectl.kubernetes.io/x": "no",
    }
    obj["metadata"]["annotations"].update(
        {
            "kubectl.kubernetes.io/last-applied-configuration": "{}",
            "kopf.zalando.org/last-handled-configuration": "{}",
            "argocd.argoproj.io/tracking-id": "app:x",
        }
    )
    return obj


def test_scheduler_pod_follows_the_seed_example(cluster):
    pod = scheduler_builder.build_scheduler_pod(cluster)
    meta = pod["metadata"]
    assert meta["name"] == "annotated-scheduler"
    assert meta["namespace"] == "ns"
    assert meta["annotations"] == {"hello": "world", "fizz": "buzz"}
    assert meta["labels"] == {
        "team": "data",
        "sidecar.istio.io/inject": "false",
        constants.LABEL_CLUSTER_NAME: "annotated",
        constants.LABEL_COMPONENT: constants.COMPONENT_SCHEDULER,
        constants.LABEL_SCHEDULER_TEMPLATE_HASH: scheduler_builder.scheduler_template_hash(cluster),
    }
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "kubernetes.dask.org/v1",
            "kind": "DaskCluster",
            "name": "annotated",
            "uid": "uid-1",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    env = {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"]}
    assert "distributed.http.scheduler.api" in env[constants.ENV_SCHEDULER_HTTP_ROUTES]


def test_scheduler_routes_set_by_the_user_are_kept(cluster):
    cluster["spec"]["scheduler"]["spec"]["containers"][0]["env"] = [
        {"name": constants.ENV_SCHEDULER_HTTP_ROUTES, "value": "['mine']"}
    ]
    pod = scheduler_builder.build_scheduler_pod(cluster)
    assert pod["spec"]["containers"][0]["env"] == [
        {"name": constants.ENV_SCHEDULER_HTTP_ROUTES, "value": "['mine']"}
    ]


def test_scheduler_service(cluster):
    svc = scheduler_builder.build_scheduler_service(cluster)
    assert svc["metadata"]["name"] == "annotated-scheduler"
    assert svc["spec"]["selector"] == {
        "dask.org/cluster-name": "annotated",
        "dask.org/component": "scheduler",
    }
    assert [p["port"] for p in svc["spec"]["ports"]] == [8786, 8787]


def test_default_group_and_worker_pods_propagate_metadata(cluster):
    group = _with_server_fields(worker_builder.build_default_worker_group(cluster), uid="uid-2")
    assert group["metadata"]["name"] == "annotated-default"
    assert group["metadata"]["annotations"] == {"hello": "world", "foo": "bar"}
    assert group["spec"]["cluster"] == "annotated"
    pod = worker_builder.build_worker_pod(group, "annotated-default-worker-abc")
    meta = pod["metadata"]
    assert meta["annotations"] == {"hello": "world", "foo": "bar"}
    assert meta["labels"][constants.LABEL_COMPONENT] == constants.COMPONENT_WORKER
    assert meta["labels"][constants.LABEL_WORKER_GROUP] == "annotated-default"
    assert meta["labels"]["team"] == "data"
    assert meta["ownerReferences"][0]["kind"] == "DaskWorkerGroup"
    env = pod["spec"]["containers"][0]["env"]
    assert {"name": "DASK_WORKER_NAME", "value": "annotated-default-worker-abc"} in env
    assert {
        "name": "DASK_SCHEDULER_ADDRESS",
        "value": "tcp://annotated-scheduler.ns.svc.cluster.local:8786",
    } in env


def test_user_env_is_neither_overwritten_nor_duplicated():
    container = {"name": "c", "env": [{"name": "DASK_SCHEDULER_ADDRESS", "value": "tcp://mine:1"}]}
    out = with_env(container, {"DASK_SCHEDULER_ADDRESS": "tcp://other:2", "X": "1"})
    assert out["env"] == [
        {"name": "DASK_SCHEDULER_ADDRESS", "value": "tcp://mine:1"},
        {"name": "X", "value": "1"},
    ]
    assert container["env"] == [{"name": "DASK_SCHEDULER_ADDRESS", "value": "tcp://mine:1"}]


def test_subresource_overrides_top_level_and_base_wins():
    merged = merge_metadata(
        {"labels": {"foo": "bar", "dask.org/component": "x"}},
        {"labels": {"foo": "baz"}},
        {"dask.org/component": "worker"},
    )
    assert merged["labels"] == {
        "sidecar.istio.io/inject": "false",
        "foo": "baz",
        "dask.org/component": "worker",
    }


def test_tool_keys_never_propagate():
    assert propagatable(
        {
            "kopf.zalando.org/x": "1",
            "kubectl.kubernetes.io/y": "2",
            "argocd.argoproj.io/tracking-id": "3",
            "k": "v",
        }
    ) == {"k": "v"}


def test_job_cluster_and_runner():
    (job,) = load_docs(ROOT / "examples" / "job.yaml")
    job = _with_server_fields(job, namespace="default")
    job["metadata"]["labels"] = {"team": "ml"}
    cluster = job_builder.build_job_cluster(job)
    assert cluster["metadata"]["name"] == "simple-job"
    assert cluster["metadata"]["labels"] == {"team": "ml"}
    assert cluster["metadata"]["ownerReferences"][0]["kind"] == "DaskJob"
    assert cluster["spec"]["worker"]["replicas"] == 2
    runner = job_builder.build_job_runner_pod(job)
    assert runner["metadata"]["name"] == "simple-job-runner"
    assert runner["metadata"]["labels"][constants.LABEL_COMPONENT] == constants.COMPONENT_JOB_RUNNER
    assert runner["spec"]["restartPolicy"] == "OnFailure"
    assert {
        "name": "DASK_SCHEDULER_ADDRESS",
        "value": "tcp://simple-job-scheduler.default.svc.cluster.local:8786",
    } in runner["spec"]["containers"][0]["env"]


def test_job_runner_keeps_an_explicit_restart_policy():
    (job,) = load_docs(ROOT / "examples" / "job.yaml")
    job = _with_server_fields(job)
    job["spec"]["job"]["spec"]["restartPolicy"] = "Never"
    assert job_builder.build_job_runner_pod(job)["spec"]["restartPolicy"] == "Never"

"""Upstream's ``sidecar.istio.io/inject: "false"`` on every Pod the operator builds."""

from __future__ import annotations

from dask_kubernetes.operator.builders import job as job_builder
from dask_kubernetes.operator.builders import scheduler as scheduler_builder
from dask_kubernetes.operator.builders import worker as worker_builder
from tests.conftest import ROOT, load_docs
from tests.operator.test_builders import _with_server_fields

ISTIO = "sidecar.istio.io/inject"


def _cluster(labels=None):
    (obj,) = load_docs(ROOT / "examples" / "cluster.yaml")
    obj = _with_server_fields(obj)
    if labels:
        obj["metadata"]["labels"] = labels
    return obj


def test_scheduler_worker_and_runner_pods_opt_out_of_istio():
    cluster = _cluster()
    assert scheduler_builder.build_scheduler_pod(cluster)["metadata"]["labels"][ISTIO] == "false"
    group = _with_server_fields(worker_builder.build_default_worker_group(cluster), uid="uid-2")
    assert ISTIO not in group["metadata"]["labels"]  # not a Pod
    pod = worker_builder.build_worker_pod(group, "x-default-worker-abc")
    assert pod["metadata"]["labels"][ISTIO] == "false"
    (job,) = load_docs(ROOT / "examples" / "job.yaml")
    job = _with_server_fields(job)
    assert job_builder.build_job_runner_pod(job)["metadata"]["labels"][ISTIO] == "false"
    assert ISTIO not in job_builder.build_job_cluster(job)["metadata"].get("labels", {})


def test_a_cluster_label_turns_the_sidecar_back_on():
    cluster = _cluster({ISTIO: "true"})
    assert scheduler_builder.build_scheduler_pod(cluster)["metadata"]["labels"][ISTIO] == "true"

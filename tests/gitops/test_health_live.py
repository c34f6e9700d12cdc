"""Argo CD's health (our Lua under gopher-lua) and Flux's (kstatus) agree on live objects.

Each state is produced by the real operator on the real control plane; the objects seen
are the testdata of ``resource_customizations/`` (rewritten with
``DASK_K8S_REFRESH_HEALTH_TESTDATA=1``, see :mod:`dask_kubernetes_dev.healthdata`).
Health and kstatus pair up as Healthy/Current, Progressing/InProgress (or Terminating
while deleting) and Degraded/Failed; Argo CD's Suspended (``spec.suspend``, nothing left
running) pairs with Current: the desired state is reached.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from dask_kubernetes import yamlio
from dask_kubernetes_dev import healthdata
from dask_kubernetes_dev.kstatus import kstatus
from dask_kubernetes_dev.luahealth import luahealth
from dask_kubernetes_dev.polling import wait_for
from tests.operator.e2e.conftest import condition, example, is_ready, wait_ready

pytestmark = pytest.mark.cluster

IMAGE = "ghcr.io/dask/dask:latest"
KSTATUS_OF = {"Healthy": "Current", "Progressing": "InProgress", "Degraded": "Failed", "Suspended": "Current"}


def check(case: str, obj: dict[str, Any], health: str, kstat: str | None = None) -> None:
    """Assert both tools' verdicts on ``obj`` (kstatus's if it pairs); record it as testdata if refreshing."""
    status, message = luahealth(obj)
    assert status == health, (case, message, obj.get("status"))
    if kstat or health in KSTATUS_OF:
        assert kstatus(obj)[0] == (kstat or KSTATUS_OF[health]), (case, obj.get("status"))
    if healthdata.refreshing():
        healthdata.record(case, obj, status, message)


def _json(k, *args: str) -> dict[str, Any]:
    return json.loads(k(*args, "-o", "json").stdout)


def _create(k, obj: dict[str, Any]) -> dict[str, Any]:
    """Create and return the object as stored, before the operator has seen it."""
    return json.loads(k("create", "-o", "json", "-f", "-", input=yamlio.dump(obj)).stdout)


def _until(k, kind: str, name: str, what: str, test) -> dict[str, Any]:
    return wait_for(
        lambda: (lambda o: o if o and test(o) else None)(k.get(kind, name)), timeout=240, what=what
    )


def _cond_true(type_: str):
    return lambda o: (condition(o, type_) or {}).get("status") == "True"


def test_cluster_and_worker_group_health(k):
    (cluster,) = example("cluster.yaml")
    cluster["spec"]["worker"]["replicas"] = 1
    created = _create(k, cluster)
    # kstatus cannot know a controller will write a status: it calls a new object Current.
    check("new", created, "Progressing", kstat="Current")

    reconciling = _until(k, "daskcluster", "simple", "Reconciling=True", _cond_true("Reconciling"))
    check("reconciling", reconciling, "Progressing")
    ready = wait_ready(k, "daskcluster", "simple")
    check("healthy", ready, "Healthy")
    group = wait_ready(k, "daskworkergroup", "simple-default")
    check("healthy", group, "Healthy")

    # The object right after a spec change, before the operator observed it.
    patch = '{"spec": {"worker": {"replicas": 2}}}'
    changed = _json(k, "patch", "daskworkergroup", "simple-default", "--type=merge", "-p", patch)
    check("unobserved-generation", changed, "Progressing")
    scaling = _until(
        k,
        "daskworkergroup",
        "simple-default",
        "the worker group to observe the change",
        lambda o: (o.get("status") or {}).get("observedGeneration") == o["metadata"]["generation"],
    )
    if not is_ready(scaling):
        check("scaling", scaling, "Progressing")
    check("healthy", wait_ready(k, "daskworkergroup", "simple-default"), "Healthy")

    changed = _json(
        k, "patch", "daskcluster", "simple", "--type=merge", "-p", '{"spec": {"idleTimeout": 3600}}'
    )
    check("unobserved-generation", changed, "Progressing")
    check("healthy", wait_ready(k, "daskcluster", "simple"), "Healthy")


def test_invalid_specs_are_degraded(k):
    (cluster,) = example("cluster.yaml")
    cluster["metadata"]["name"] = "broken"
    del cluster["spec"]["scheduler"]["service"]["ports"]
    k.apply(cluster)
    check("stalled", _until(k, "daskcluster", "broken", "Stalled", _cond_true("Stalled")), "Degraded")

    group = {
        "apiVersion": "kubernetes.dask.org/v1",
        "kind": "DaskWorkerGroup",
        "metadata": {"name": "broken-group"},
        "spec": {
            "cluster": "Not_A_Name",
            "worker": {"replicas": 1, "spec": {"containers": [{"name": "worker", "image": IMAGE}]}},
        },
    }
    k.apply(group)
    stalled = _until(k, "daskworkergroup", "broken-group", "Stalled", _cond_true("Stalled"))
    check("stalled", stalled, "Degraded")

    scaler = {
        "apiVersion": "kubernetes.dask.org/v1",
        "kind": "DaskAutoscaler",
        "metadata": {"name": "broken-scaler"},
        "spec": {"cluster": "broken", "workerGroup": "Not_A_Name", "minimum": 0, "maximum": 2},
    }
    k.apply(scaler)
    stalled = _until(k, "daskautoscaler", "broken-scaler", "Stalled", _cond_true("Stalled"))
    check("stalled", stalled, "Degraded")


def test_autoscaler_health(k):
    (scaler,) = example("autoscaler.yaml")
    scaler["spec"]["maximum"] = 2
    check("new", _create(k, scaler), "Progressing", kstat="Current")
    waiting = _until(k, "daskautoscaler", "simple", "Reconciling=True", _cond_true("Reconciling"))
    check("waiting-for-cluster", waiting, "Progressing")
    (cluster,) = example("cluster.yaml")
    cluster["spec"]["worker"]["replicas"] = 1
    k.apply(cluster)
    check("healthy", _until(k, "daskautoscaler", "simple", "Ready", is_ready), "Healthy")


def _job(args: list[str]) -> dict[str, Any]:
    (job,) = example("job.yaml")
    job["spec"]["job"]["spec"]["containers"][0]["args"] = args
    job["spec"]["job"]["spec"]["restartPolicy"] = "Never"
    job["spec"]["cluster"]["spec"]["worker"]["replicas"] = 1
    return job


def _job_status(value: str):
    return lambda o: (o.get("status") or {}).get("jobStatus") == value


def test_job_health(k):
    k.apply(_job(["python", "-c", "import time; time.sleep(5)"]))
    running = _until(k, "daskjob", "simple-job", "Reconciling=True", _cond_true("Reconciling"))
    check("running", running, "Progressing")
    done = _until(k, "daskjob", "simple-job", "the job to end", _job_status("Successful"))
    check("successful", done, "Healthy")
    k("delete", "daskjob", "simple-job")
    wait_for(lambda: k.get("daskjob", "simple-job") is None, timeout=120, what="the job to go")

    k.apply(_job(["python", "-c", "import sys; sys.exit(1)"]))
    failed = _until(k, "daskjob", "simple-job", "the job to fail", _job_status("Failed"))
    check("failed", failed, "Degraded")


def _suspended(o: dict[str, Any]) -> bool:
    return (
        _cond_true("Suspended")(o)
        and (o.get("status") or {}).get("observedGeneration") == o["metadata"]["generation"]
    )


def _set_suspend(k, value: bool) -> None:
    k("patch", "daskcluster", "simple", "--type=merge", "-p", json.dumps({"spec": {"suspend": value}}))


def _cluster_pods(k) -> list[dict[str, Any]]:
    return k.items("pods", "dask.org/cluster-name=simple")


def test_suspended_cluster_group_and_autoscaler_health(k):
    (cluster,) = example("cluster.yaml")
    cluster["spec"]["worker"]["replicas"] = 1
    (scaler,) = example("autoscaler.yaml")
    scaler["spec"]["maximum"] = 2
    k.apply([cluster, scaler])
    wait_ready(k, "daskcluster", "simple")
    _until(k, "daskautoscaler", "simple", "Ready", is_ready)
    worker = next(p["metadata"]["name"] for p in _cluster_pods(k) if "-worker-" in p["metadata"]["name"])
    # A finalizer holds the worker Pod terminating, so the suspension is seen half-way.
    hold = {"metadata": {"finalizers": ["test.dask.org/hold"]}}
    k("patch", "pod", worker, "--type=merge", "-p", json.dumps(hold))
    _set_suspend(k, True)
    suspending = _until(
        k,
        "daskcluster",
        "simple",
        "Suspended=False reason Suspending",
        lambda o: (condition(o, "Suspended") or {}).get("reason") == "Suspending",
    )
    check("suspending", suspending, "Progressing")
    k("patch", "pod", worker, "--type=merge", "-p", '{"metadata": {"finalizers": []}}')
    wait_for(lambda: not _cluster_pods(k), timeout=240, what="no Pod of the cluster left")
    check("suspended", _until(k, "daskcluster", "simple", "Suspended", _suspended), "Suspended")
    check("suspended", _until(k, "daskworkergroup", "simple-default", "Suspended", _suspended), "Suspended")
    suspended_scaler = _until(k, "daskautoscaler", "simple", "Suspended", _suspended)
    check("cluster-suspended", suspended_scaler, "Suspended")

    _set_suspend(k, False)
    resumed = wait_ready(k, "daskcluster", "simple")
    assert (condition(resumed, "Suspended") or {}).get("reason") == "Resumed"
    check("resumed", resumed, "Healthy")


def test_suspended_job_health(k):
    job = _job(["python", "-c", "import time; time.sleep(5)"])
    job["spec"]["suspend"] = True
    k.apply(job)
    suspended = _until(k, "daskjob", "simple-job", "the job to be Suspended", _suspended)
    assert suspended["status"]["jobStatus"] == "Suspended"
    check("suspended", suspended, "Suspended")

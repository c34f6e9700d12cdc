"""Admission through the real API server: denials, warnings, and defaults that never drift."""

from __future__ import annotations

import copy
import json

import pytest

from dask_kubernetes_dev.polling import TimedOut, wait_for
from tests.webhooks.e2e.conftest import DENIED, SELECTOR_LABEL, apply, example

pytestmark = pytest.mark.cluster


def _cluster():
    (obj,) = example("cluster.yaml")
    return obj


def _worker(obj):
    return obj["spec"]["worker"]["spec"]["containers"][0]


def _requests_over_limits(obj):
    _worker(obj)["resources"] = {"requests": {"cpu": "4"}, "limits": {"cpu": "2"}}
    return obj


def _no_image(obj):
    del obj["spec"]["scheduler"]["spec"]["containers"][0]["image"]
    return obj


def _duplicate_container(obj):
    containers = obj["spec"]["worker"]["spec"]["containers"]
    containers.append(copy.deepcopy(containers[0]))
    return obj


def _group_over_limits():
    (obj,) = example("highmemworkers.yaml")
    _worker(obj)["resources"] = {"requests": {"memory": "64Gi"}, "limits": {"memory": "32Gi"}}
    return obj


def _autoscaler_bad_group():
    (obj,) = example("autoscaler.yaml")
    obj["spec"]["workerGroup"] = "Bad_Name"
    return obj


def _job_bad_quantity():
    (obj,) = example("job.yaml")
    obj["spec"]["job"]["spec"]["containers"][0]["resources"] = {"limits": {"memory": "lots"}}
    return obj


def _worker_container_with(**fields):
    def make():
        obj = _cluster()
        _worker(obj).update(fields)
        return obj

    return make


# Each passes the CRD schema and its CEL rules, so only the webhook can refuse it.
INVALID = {
    "cluster-container-port-out-of-range": (
        _worker_container_with(ports=[{"containerPort": 99999}]),
        "spec.worker.spec.containers[0].ports[0].containerPort",
    ),
    "cluster-env-name-with-equals": (
        _worker_container_with(env=[{"name": "1 bad=x", "value": "1"}]),
        "spec.worker.spec.containers[0].env[0].name",
    ),
    "cluster-mount-of-undefined-volume": (
        _worker_container_with(volumeMounts=[{"name": "data", "mountPath": "/data"}]),
        "spec.worker.spec.containers[0].volumeMounts[0].name",
    ),
    "cluster-requests-over-limits": (
        lambda: _requests_over_limits(_cluster()),
        "spec.worker.spec.containers[0].resources.requests[cpu]",
    ),
    "cluster-container-without-image": (
        lambda: _no_image(_cluster()),
        "spec.scheduler.spec.containers[0].image",
    ),
    "cluster-duplicate-container": (
        lambda: _duplicate_container(_cluster()),
        "spec.worker.spec.containers[1].name",
    ),
    "workergroup-requests-over-limits": (
        _group_over_limits,
        "spec.worker.spec.containers[0].resources.requests[memory]",
    ),
    "autoscaler-worker-group-not-dns-1123": (_autoscaler_bad_group, "spec.workerGroup"),
    "job-unparseable-quantity": (_job_bad_quantity, "spec.job.spec.containers[0].resources.limits[memory]"),
}


@pytest.mark.parametrize(("make", "field"), INVALID.values(), ids=INVALID.keys())
def test_invalid_manifests_are_denied_naming_the_field(webhook, dask_namespace, make, field):
    obj = make()
    proc = apply(webhook, dask_namespace, obj)
    assert proc.returncode != 0, proc.stdout
    assert f"{field}: {DENIED}" in proc.stderr, proc.stderr
    kind = obj["kind"].lower()
    assert webhook.kubectl("get", kind, obj["metadata"]["name"], "-n", dask_namespace).returncode != 0


def test_a_runner_cannot_change_after_creation(webhook, dask_namespace):
    (job,) = example("job.yaml")
    assert apply(webhook, dask_namespace, job).returncode == 0
    job["spec"]["job"]["spec"]["containers"][0]["args"] = ["python", "-c", "print('other work')"]
    proc = apply(webhook, dask_namespace, job)
    assert proc.returncode != 0
    assert f"spec.job: {DENIED}: field is immutable" in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    ("name", "change", "field"),
    [
        ("autoscaler.yaml", lambda o: o["spec"].update(minimum=5, maximum=2), "spec.minimum"),
        ("highmemworkers.yaml", lambda o: o["spec"].update(cluster="other"), "spec.cluster"),
        (
            "job.yaml",
            lambda o: o["spec"]["cluster"]["spec"].update(suspend=True),
            "spec.cluster.spec.suspend",
        ),
        ("job.yaml", lambda o: o["spec"].update(backoffLimit=-1), "spec.backoffLimit"),
    ],
    ids=[
        "autoscaler-minimum-above-maximum",
        "workergroup-moves-cluster",
        "job-cluster-suspended",
        "job-negative-backoff-limit",
    ],
)
def test_what_the_crd_schema_catches_is_refused_before_the_webhook(
    webhook, dask_namespace, name, change, field
):
    """Tier 1 (CEL) refuses first; the webhook holds the same rules for the HTTP path and the operator."""
    (obj,) = example(name)
    if field == "spec.cluster":
        assert apply(webhook, dask_namespace, obj).returncode == 0
    change(obj)
    proc = apply(webhook, dask_namespace, obj)
    assert proc.returncode != 0
    assert field in proc.stderr, proc.stderr


def test_best_practice_problems_warn_and_succeed(webhook, dask_namespace):
    proc = apply(webhook, dask_namespace, _cluster())
    assert proc.returncode == 0, proc.stderr
    assert "daskcluster.kubernetes.dask.org/simple created" in proc.stdout
    assert (
        "Warning: spec.worker.spec.containers[0].image: image 'ghcr.io/dask/dask:latest' uses the :latest tag"
        in proc.stderr
    )
    assert "Warning: spec.worker.spec.containers[0].args: dask-worker has no --death-timeout" in proc.stderr


def test_mismatched_worker_flags_warn(webhook, dask_namespace):
    obj = _cluster()
    obj["metadata"]["name"] = "flags"
    _worker(obj)["args"] += ["--nthreads", "4", "--memory-limit", "8GB", "--death-timeout", "60"]
    _worker(obj)["resources"] = {"limits": {"cpu": "1", "memory": "2Gi"}}
    proc = apply(webhook, dask_namespace, obj)
    assert proc.returncode == 0, proc.stderr
    assert "--memory-limit 8GB does not match the container's memory limit" in proc.stderr
    assert "--nthreads 4 does not match the container's CPU limit 1" in proc.stderr
    assert "--death-timeout" not in proc.stderr


def test_delete_self_under_flux_warns_and_suspending_is_admitted(webhook, dask_namespace):
    (job,) = example("job.yaml")
    job["metadata"]["name"] = "gitops-job"
    job["metadata"]["labels"] = {"kustomize.toolkit.fluxcd.io/name": "dask-jobs"}
    job["spec"]["deletionPolicy"] = {"onSuccess": "DeleteSelf"}
    proc = apply(webhook, dask_namespace, job)
    assert proc.returncode == 0, proc.stderr
    assert (
        "Warning: spec.deletionPolicy.onSuccess: DeleteSelf on a DaskJob applied by a GitOps tool "
        "(kustomize.toolkit.fluxcd.io/name): Argo CD or Flux would create the deleted job again"
    ) in proc.stderr, proc.stderr
    # An update that suspends the job and keeps it when it ends: admitted, and no warning.
    job["spec"]["suspend"] = True
    job["spec"]["deletionPolicy"] = {"onSuccess": "DeleteCluster"}
    job["spec"]["backoffLimit"] = 2
    proc = apply(webhook, dask_namespace, job)
    assert proc.returncode == 0, proc.stderr
    assert "DeleteSelf" not in proc.stderr, proc.stderr
    live = _live(webhook, dask_namespace, job)
    assert (live["spec"]["suspend"], live["spec"]["backoffLimit"]) == (True, 2)


def test_a_worker_group_for_a_missing_cluster_warns_via_the_api(webhook, dask_namespace):
    """The lookup runs with the webhook's own ServiceAccount: this also proves its RBAC."""
    (group,) = example("highmemworkers.yaml")
    proc = apply(webhook, dask_namespace, group)
    assert proc.returncode == 0, proc.stderr
    assert (
        f"Warning: spec.cluster: DaskCluster 'simple' does not exist in namespace '{dask_namespace}' yet"
        in (proc.stderr)
    )
    assert apply(webhook, dask_namespace, _cluster()).returncode == 0
    group["metadata"]["name"] = "second-group"
    proc = apply(webhook, dask_namespace, group)
    assert proc.returncode == 0, proc.stderr
    assert "does not exist" not in proc.stderr


EXAMPLES = ["cluster.yaml", "cluster-spec.yaml", "highmemworkers.yaml", "job.yaml", "autoscaler.yaml"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_defaults_do_not_drift_under_server_side_apply(webhook, dask_namespace, name):
    docs = example(name)
    first = apply(webhook, dask_namespace, docs, "--server-side")
    assert first.returncode == 0, first.stderr
    # kubectl diff reads the live object, then dry-runs the apply: an operator's status
    # write in between shows as a difference that the next diff no longer has.  Drift
    # from defaulting shows in every diff, so the wait runs out and names it.
    last_diff = {"text": ""}

    def nothing_to_change() -> bool:
        diff = webhook.kubectl("diff", "--server-side", "-n", dask_namespace, "-f", "-", input=_dump(docs))
        assert diff.returncode in (0, 1), diff.stderr
        last_diff["text"] = diff.stdout
        return diff.returncode == 0

    try:
        wait_for(nothing_to_change, timeout=90, interval=2, what="a server-side diff with nothing to change")
    except TimedOut as exc:
        raise AssertionError(f"{exc}\n{last_diff['text']}") from None
    live = _live(webhook, dask_namespace, docs[0])
    second = apply(webhook, dask_namespace, docs, "--server-side")
    assert second.returncode == 0, second.stderr
    # Generation and spec, not resourceVersion: an operator in the same cluster may
    # write status meanwhile, which is not drift.
    after = _live(webhook, dask_namespace, docs[0])
    assert after["metadata"]["generation"] == live["metadata"]["generation"]
    assert after["spec"] == live["spec"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_applying_an_example_twice_changes_nothing(webhook, dask_namespace, name):
    docs = example(name)
    assert apply(webhook, dask_namespace, docs).returncode == 0
    second = apply(webhook, dask_namespace, docs)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip().endswith("unchanged"), second.stdout
    # The same with client-side apply's own diff and a server-side dry run (webhooks included).
    diff = webhook.kubectl("diff", "-n", dask_namespace, "-f", "-", input=_dump(docs))
    assert diff.returncode == 0, diff.stdout + diff.stderr
    dry = apply(webhook, dask_namespace, docs, "--dry-run=server")
    assert dry.returncode == 0 and dry.stdout.strip().endswith("unchanged (server dry run)"), dry.stdout


def test_the_runner_restart_policy_is_defaulted(webhook, dask_namespace):
    (job,) = example("job.yaml")
    assert apply(webhook, dask_namespace, job).returncode == 0
    live = _live(webhook, dask_namespace, job)
    assert live["spec"]["job"]["spec"]["restartPolicy"] == "OnFailure"


def test_a_namespace_can_opt_out(webhook, dask_namespace):
    webhook.kubectl("label", "namespace", dask_namespace, "dask.org/webhook=disabled", check=True)
    proc = apply(webhook, dask_namespace, _requests_over_limits(_cluster()))
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr


def test_the_webhook_namespace_itself_is_never_judged(webhook):
    namespace = webhook.namespace
    webhook.kubectl("label", "namespace", namespace, f"{SELECTOR_LABEL}={webhook.selector_value}", check=True)
    try:
        proc = apply(webhook, namespace, _requests_over_limits(_cluster()))
        assert proc.returncode == 0, proc.stderr
    finally:
        webhook.kubectl("delete", "daskcluster", "simple", "-n", namespace, "--wait=false")
        webhook.kubectl("label", "namespace", namespace, f"{SELECTOR_LABEL}-")


def test_both_replicas_share_one_ca_in_the_secret(webhook):
    secret = webhook.get("secret", f"{webhook.fullname}-ca", "-n", webhook.namespace)
    ca = secret["data"]["tls.crt"]
    for config in webhook.configurations():
        assert [hook["clientConfig"]["caBundle"] for hook in config["webhooks"]] == [ca]
    logs = webhook.kubectl(
        "logs", "-n", webhook.namespace, "-l", "app.kubernetes.io/component=webhook", "--tail=-1"
    )
    assert logs.stdout.count("created the webhook CA") <= 1


def _dump(docs):
    from dask_kubernetes import yamlio

    return yamlio.dump_all(docs)


def _live(webhook, namespace, obj):
    proc = webhook.kubectl("get", obj["kind"].lower(), obj["metadata"]["name"], "-n", namespace, "-o", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)

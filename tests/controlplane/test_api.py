"""The local control plane's API server: version, CRDs, CEL rules and the scale subresource."""

from __future__ import annotations

import json

import pytest

from dask_kubernetes import yamlio
from dask_kubernetes.api import constants
from dask_kubernetes.validation import registry
from tests.conftest import CRD_DIR, ROOT

pytestmark = pytest.mark.cluster


def test_version_is_the_pinned_release(k8s_cluster):
    out = json.loads(k8s_cluster.kubectl("version", "-o", "json").stdout)
    assert out["serverVersion"]["gitVersion"] == "v1.36.3"


@pytest.fixture(scope="module")
def crds_installed(k8s_cluster):
    k8s_cluster.kubectl("apply", "-f", str(CRD_DIR))
    k8s_cluster.kubectl("wait", "--for=condition=Established", "-f", str(CRD_DIR), "--timeout=120s")
    return k8s_cluster


def test_crds_apply_client_side_and_become_established(crds_installed):
    names = json.loads(crds_installed.kubectl("get", "-f", str(CRD_DIR), "-o", "json").stdout)
    for crd in names["items"]:
        established = [c for c in crd["status"]["conditions"] if c["type"] == "Established"]
        assert established and established[0]["status"] == "True", crd["metadata"]["name"]
    assert len(names["items"]) == len(list(CRD_DIR.glob("*.yaml")))


def test_explain_shows_worker_fields(crds_installed):
    out = crds_installed.kubectl("explain", "daskcluster.spec.worker").stdout
    for field in ("replicas", "spec", "metadata"):
        assert f"\n  {field}\t" in out, out


def test_cel_rule_refuses_minimum_above_maximum(crds_installed, namespace):
    autoscaler = {
        "apiVersion": "kubernetes.dask.org/v1",
        "kind": "DaskAutoscaler",
        "metadata": {"name": "bad"},
        "spec": {"cluster": "simple", "minimum": 5, "maximum": 2},
    }
    proc = crds_installed.kubectl(
        "apply", "-n", namespace, "-f", "-", input=json.dumps(autoscaler), check=False
    )
    assert proc.returncode != 0
    assert "spec.minimum must be less than or equal to spec.maximum" in proc.stderr


def test_cel_rule_refuses_long_cluster_name(crds_installed, namespace):
    (cluster,) = yamlio.load_all((ROOT / "examples" / "cluster.yaml").read_text())
    cluster["metadata"]["name"] = "c" * 54
    proc = crds_installed.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(cluster), check=False)
    assert proc.returncode != 0
    assert "at most 53 characters" in proc.stderr


def test_scale_changes_worker_replicas(crds_installed, namespace):
    crds_installed.kubectl("apply", "-n", namespace, "-f", str(ROOT / "examples" / "highmemworkers.yaml"))
    crds_installed.kubectl("scale", "daskworkergroup", "simple-highmem", "--replicas=5", "-n", namespace)
    out = crds_installed.kubectl(
        "get", "daskworkergroup", "simple-highmem", "-n", namespace, "-o", "jsonpath={.spec.worker.replicas}"
    )
    assert out.stdout == "5"


def _job(**spec):
    (job,) = yamlio.load_all((ROOT / "examples" / "job.yaml").read_text())
    job["metadata"] = {"name": "lifecycle"}
    job["spec"].update(spec)
    return job


def _job_with_suspended_cluster():
    job = _job()
    job["spec"]["cluster"]["spec"]["suspend"] = True
    return job


def _dry_run(target, namespace, obj):
    return target.kubectl(
        "apply", "--dry-run=server", "-n", namespace, "-f", "-", input=json.dumps(obj), check=False
    )


# The batch lifecycle's rules (the CRD's CEL rules and bounds): the field, and the words
# the API server refuses it in.  The webhook's validator must refuse it at the same field.
LIFECYCLE_REFUSALS = {
    "ttl-with-delete-none-on-both": (
        _job(
            ttlSecondsAfterFinished=60, deletionPolicy={"onSuccess": "DeleteNone", "onFailure": "DeleteNone"}
        ),
        "spec.ttlSecondsAfterFinished",
        "Invalid value: ttlSecondsAfterFinished needs a deletionPolicy that deletes something; "
        "with DeleteNone on both it would never act",
    ),
    "job-cluster-suspended": (
        _job_with_suspended_cluster(),
        "spec.cluster.spec.suspend",
        "Invalid value: a DaskJob's cluster cannot be suspended on its own; "
        "set the DaskJob's spec.suspend instead",
    ),
    "negative-backoff-limit": (
        _job(backoffLimit=-1),
        "spec.backoffLimit",
        "Invalid value: -1: spec.backoffLimit in body should be greater than or equal to 0",
    ),
    "zero-active-deadline": (
        _job(activeDeadlineSeconds=0),
        "spec.activeDeadlineSeconds",
        "Invalid value: 0: spec.activeDeadlineSeconds in body should be greater than or equal to 1",
    ),
    "zero-pre-running-deadline": (
        _job(preRunningDeadlineSeconds=0),
        "spec.preRunningDeadlineSeconds",
        "Invalid value: 0: spec.preRunningDeadlineSeconds in body should be greater than or equal to 1",
    ),
    "negative-ttl": (
        _job(ttlSecondsAfterFinished=-1),
        "spec.ttlSecondsAfterFinished",
        "Invalid value: -1: spec.ttlSecondsAfterFinished in body should be greater than or equal to 0",
    ),
    "unknown-policy": (
        _job(deletionPolicy={"onSuccess": "DeleteAll"}),
        "spec.deletionPolicy.onSuccess",
        'Unsupported value: "DeleteAll"',
    ),
    "suspend-not-a-boolean": (
        _job(suspend="true"),
        "spec.suspend",
        'Invalid value: "string": spec.suspend in body must be of type boolean',
    ),
}


@pytest.mark.parametrize(
    ("obj", "field", "words"), LIFECYCLE_REFUSALS.values(), ids=LIFECYCLE_REFUSALS.keys()
)
def test_the_api_server_and_the_webhook_refuse_the_same_lifecycle_mistakes(
    crds_installed, namespace, obj, field, words
):
    assert _dry_run(crds_installed, namespace, _job()).returncode == 0
    proc = _dry_run(crds_installed, namespace, obj)
    assert proc.returncode != 0, proc.stdout
    assert f"{field}: {words}" in proc.stderr, proc.stderr
    assert [e.path for e in registry.validate(constants.PLURAL_JOB, obj)] == [field]


@pytest.mark.parametrize("field", ["backoffLimit", "ttlSecondsAfterFinished"])
def test_an_int32_field_beyond_its_format_is_refused_by_both(crds_installed, namespace, field):
    """The API server checks the format's range, with no field path; the webhook names the field."""
    obj = _job(**{field: 2**31})
    proc = _dry_run(crds_installed, namespace, obj)
    assert proc.returncode != 0, proc.stdout
    assert f"must be of type integer with format int32 in spec.{field}" in proc.stderr, proc.stderr
    assert [e.path for e in registry.validate(constants.PLURAL_JOB, obj)] == [f"spec.{field}"]


def test_the_api_server_admits_every_lifecycle_field_as_the_webhook_does(crds_installed, namespace):
    job = _job(
        suspend=True,
        backoffLimit=2**31 - 1,
        activeDeadlineSeconds=1,
        preRunningDeadlineSeconds=1,
        ttlSecondsAfterFinished=0,
        deletionPolicy={"onSuccess": "DeleteSelf", "onFailure": "DeleteNone"},
    )
    assert registry.validate(constants.PLURAL_JOB, job) == []
    proc = _dry_run(crds_installed, namespace, job)
    assert proc.returncode == 0, proc.stderr
    (cluster,) = yamlio.load_all((ROOT / "examples" / "cluster.yaml").read_text())
    cluster["metadata"] = {"name": "parked"}
    cluster["spec"]["suspend"] = True
    assert registry.validate(constants.PLURAL_CLUSTER, cluster) == []
    assert _dry_run(crds_installed, namespace, cluster).returncode == 0

"""Invalid specs: refused by the schema, or Stalled with a message by the operator."""

from __future__ import annotations

from tests.operator.e2e.conftest import condition, example, wait_condition


def test_54_character_name_is_refused_naming_the_rule(k):
    (cluster,) = example("cluster.yaml")
    cluster["metadata"]["name"] = "a" * 54
    from dask_kubernetes import yamlio

    proc = k("apply", "-f", "-", input=yamlio.dump(cluster), check=False)
    assert proc.returncode != 0
    assert "at most 53 characters" in proc.stderr


def test_spec_the_schema_accepts_but_the_operator_cannot_use_is_stalled(k):
    (cluster,) = example("cluster.yaml")
    del cluster["spec"]["scheduler"]["service"]["ports"]
    k.apply(cluster)
    obj = wait_condition(k, "daskcluster", "simple", "Stalled", timeout=120)
    assert obj["status"]["phase"] == "Error"
    assert "spec.scheduler.service.ports" in condition(obj, "Stalled")["message"]
    assert condition(obj, "Ready")["status"] == "False"
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
    assert k.get("pod", "simple-scheduler") is None


def _refusal(k, obj):
    from dask_kubernetes import yamlio

    proc = k("apply", "--dry-run=server", "-f", "-", input=yamlio.dump(obj), check=False)
    return proc.returncode, proc.stderr


def test_the_crd_refuses_bad_batch_lifecycle_values_naming_the_field(k):
    """The CRD's own schema and CEL rules, without the webhook (which the e2e chart leaves off)."""
    (valid,) = example("job.yaml")
    assert _refusal(k, valid)[0] == 0
    cases = [
        ({"backoffLimit": -1}, "spec.backoffLimit"),
        ({"activeDeadlineSeconds": 0}, "spec.activeDeadlineSeconds"),
        ({"deletionPolicy": {"onFailure": "DeleteAll"}}, "spec.deletionPolicy.onFailure"),
        (
            {
                "deletionPolicy": {"onSuccess": "DeleteNone", "onFailure": "DeleteNone"},
                "ttlSecondsAfterFinished": 5,
            },
            "spec.ttlSecondsAfterFinished",
        ),
        (
            {
                "cluster": {
                    **valid["spec"]["cluster"],
                    "spec": {**valid["spec"]["cluster"]["spec"], "suspend": True},
                }
            },
            "spec.cluster.spec.suspend",
        ),
    ]
    for change, field in cases:
        bad = {**valid, "spec": {**valid["spec"], **change}}
        code, stderr = _refusal(k, bad)
        assert code != 0 and field in stderr, (change, stderr)
    # A TTL with one policy that deletes, and suspend on the job itself, are fine.
    ok = {
        **valid,
        "spec": {
            **valid["spec"],
            "suspend": True,
            "ttlSecondsAfterFinished": 5,
            "deletionPolicy": {"onSuccess": "DeleteNone", "onFailure": "DeleteCluster"},
        },
    }
    code, stderr = _refusal(k, ok)
    assert code == 0, stderr

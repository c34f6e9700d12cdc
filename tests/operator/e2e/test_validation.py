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

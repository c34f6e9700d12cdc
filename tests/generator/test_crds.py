"""The generated CRDs: size, subresources, names, columns, CEL rules and structure."""

from __future__ import annotations

import json

import pytest

from dask_kubernetes_dev.generator import crds as crd_builder

KINDS = ["DaskCluster", "DaskWorkerGroup", "DaskJob", "DaskAutoscaler"]


def _walk(node, path=""):
    yield path, node
    if isinstance(node, dict):
        for key in ("properties",):
            for name, sub in node.get(key, {}).items():
                yield from _walk(sub, f"{path}.{name}")
        if isinstance(node.get("items"), dict):
            yield from _walk(node["items"], f"{path}[]")
        if isinstance(node.get("additionalProperties"), dict):
            yield from _walk(node["additionalProperties"], f"{path}{{}}")


def test_all_four_kinds_are_generated(crds):
    assert sorted(crds) == sorted(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_compact_json_fits_client_side_apply(crds, kind):
    size = crd_builder.compact_size(crds[kind])
    assert size < crd_builder.MAX_CRD_BYTES, f"{kind} CRD is {size} bytes"


@pytest.mark.parametrize("kind", KINDS)
def test_every_schema_node_is_structural(crds, kind):
    schema = crd_builder.openapi_schema(crds[kind])
    for path, node in _walk(schema):
        assert "$ref" not in node, path
        if node.get("x-kubernetes-int-or-string") or node.get("x-kubernetes-preserve-unknown-fields"):
            continue
        assert "type" in node, f"{kind}{path} has no type"
    text = json.dumps(schema)
    assert "x-kubernetes-patch" not in text


@pytest.mark.parametrize("kind", KINDS)
def test_status_subresource_and_kopf_bookkeeping_survive_pruning(crds, kind):
    version = crds[kind]["spec"]["versions"][0]
    assert version["subresources"]["status"] == {}
    status = version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]
    assert status["kopf"]["x-kubernetes-preserve-unknown-fields"] is True
    assert status["observedGeneration"]["type"] == "integer"
    condition = status["conditions"]["items"]
    assert set(condition["properties"]) >= {
        "type",
        "status",
        "reason",
        "message",
        "lastTransitionTime",
        "observedGeneration",
    }


@pytest.mark.parametrize("kind", ["DaskCluster", "DaskWorkerGroup"])
def test_scale_subresource_reaches_worker_replicas(crds, kind):
    scale = crds[kind]["spec"]["versions"][0]["subresources"]["scale"]
    assert scale == {
        "specReplicasPath": ".spec.worker.replicas",
        "statusReplicasPath": ".status.replicas",
        "labelSelectorPath": ".status.selector",
    }


@pytest.mark.parametrize(
    ("kind", "short"),
    [("DaskCluster", {"daskcluster", "dsk"}), ("DaskWorkerGroup", {"daskworkers"}), ("DaskJob", {"djb"})],
)
def test_short_names_are_kept(crds, kind, short):
    assert short <= set(crds[kind]["spec"]["names"]["shortNames"])


def test_printer_columns_show_phase_workers_and_age(crds):
    columns = {
        c["name"]: c["jsonPath"]
        for c in crds["DaskCluster"]["spec"]["versions"][0]["additionalPrinterColumns"]
    }
    assert columns["Phase"] == ".status.phase"
    assert columns["Workers"] == ".status.workers"
    assert columns["Age"] == ".metadata.creationTimestamp"


def _rules(node):
    for _, sub in _walk(node):
        yield from (r["rule"] for r in sub.get("x-kubernetes-validations", []))


@pytest.mark.parametrize(
    ("kind", "rule"),
    [
        ("DaskCluster", "size(self.metadata.name) <= 53"),
        ("DaskJob", "size(self.metadata.name) <= 53"),
        ("DaskCluster", "size(self.containers) >= 1"),
        ("DaskWorkerGroup", "self == oldSelf"),
        ("DaskAutoscaler", "self.minimum <= self.maximum"),
        ("DaskJob", "!has(self.restartPolicy) || self.restartPolicy in ['OnFailure', 'Never']"),
    ],
    ids=["cluster-name", "job-name", "worker-container", "immutable-cluster", "min-max", "job-restart"],
)
def test_cel_rules_are_rendered(crds, kind, rule):
    assert rule in set(_rules(crd_builder.openapi_schema(crds[kind])))


def test_static_defaults(crds):
    spec = crd_builder.openapi_schema(crds["DaskCluster"])["properties"]["spec"]["properties"]
    assert spec["worker"]["properties"]["replicas"]["default"] == 1
    assert spec["idleTimeout"]["default"] == 0
    auto = crd_builder.openapi_schema(crds["DaskAutoscaler"])["properties"]["spec"]["properties"]
    assert auto["minimum"]["default"] == 0


def test_embedded_pod_spec_is_the_full_core_type(crds):
    pod = crd_builder.openapi_schema(crds["DaskCluster"])["properties"]["spec"]["properties"]["worker"][
        "properties"
    ]["spec"]
    for field in (
        "containers",
        "initContainers",
        "volumes",
        "affinity",
        "tolerations",
        "securityContext",
        "nodeSelector",
    ):
        assert field in pod["properties"], field
    container = pod["properties"]["containers"]["items"]["properties"]
    assert container["resources"]["properties"]["limits"]["additionalProperties"][
        "x-kubernetes-int-or-string"
    ]

"""The OpenAPI-to-structural-schema resolver, on small hand-made definitions."""

from __future__ import annotations

import pytest

from dask_kubernetes_dev.generator.openapi import INT_OR_STRING, QUANTITY, Resolver, SchemaError

CORE = {
    "io.k8s.api.core.v1.Thing": {
        "description": "A thing.",
        "type": "object",
        "properties": {
            "port": {"allOf": [{"$ref": f"#/components/schemas/{INT_OR_STRING}"}], "description": "Port."},
            "size": {"$ref": f"#/components/schemas/{QUANTITY}"},
            "items": {
                "type": "array",
                "items": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.Item"}], "default": {}},
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["name"],
                "x-kubernetes-patch-merge-key": "name",
            },
        },
    },
    "io.k8s.api.core.v1.Item": {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string", "default": "", "description": "Deep."}},
    },
    INT_OR_STRING: {"format": "int-or-string", "oneOf": [{"type": "integer"}, {"type": "string"}]},
    QUANTITY: {"type": "string"},
    "io.k8s.api.core.v1.Loop": {
        "properties": {"self": {"$ref": "#/components/schemas/io.k8s.api.core.v1.Loop"}}
    },
}


def test_inlines_core_types_and_drops_what_crds_reject():
    out = Resolver(CORE, description_depth=1).resolve({"$ref": "k8s:io.k8s.api.core.v1.Thing"})
    assert out["type"] == "object"
    assert out["properties"]["port"] == {"x-kubernetes-int-or-string": True, "description": "Port."}
    assert out["properties"]["size"]["x-kubernetes-int-or-string"] is True
    items = out["properties"]["items"]
    assert "x-kubernetes-patch-merge-key" not in items
    assert "x-kubernetes-list-type" not in items
    assert items["items"]["required"] == ["name"]
    assert "default" not in items["items"]["properties"]["name"]
    assert "$ref" not in str(out)


def test_descriptions_stop_at_the_configured_depth():
    shallow = Resolver(CORE, description_depth=0).resolve({"$ref": "k8s:io.k8s.api.core.v1.Thing"})
    deep = Resolver(CORE, description_depth=5).resolve({"$ref": "k8s:io.k8s.api.core.v1.Thing"})
    assert "description" not in shallow["properties"]["port"]
    assert deep["properties"]["items"]["items"]["properties"]["name"]["description"] == "Deep."


def test_local_definitions_keep_sibling_keys():
    resolver = Resolver(CORE, {"Spec": {"type": "object", "properties": {"a": {"type": "string"}}}})
    out = resolver.resolve({"$ref": "#/definitions/Spec", "description": "Ours."})
    assert out == {"type": "object", "properties": {"a": {"type": "string"}}, "description": "Ours."}


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("k8s:io.k8s.api.core.v1.Missing", "is not vendored"),
        ("#/definitions/Nope", "unknown definition 'Nope'"),
        ("k8s:io.k8s.api.core.v1.Loop", "cycle"),
        ("http://example.com/x", "unsupported $ref"),
    ],
    ids=["missing-core-type", "missing-local", "cycle", "foreign-ref"],
)
def test_bad_references_name_the_problem(ref, message):
    with pytest.raises(SchemaError, match=message.replace("$", r"\$")):
        Resolver(CORE).resolve({"$ref": ref})


def test_defaults_beside_references_inside_core_types_are_dropped():
    out = Resolver(CORE).resolve({"$ref": "k8s:io.k8s.api.core.v1.Thing"})
    assert "default" not in out["properties"]["items"]["items"]


def test_our_own_keys_beside_a_core_reference_are_kept():
    out = Resolver(CORE).resolve(
        {
            "$ref": "k8s:io.k8s.api.core.v1.Item",
            "default": {"name": "x"},
            "x-kubernetes-validations": [{"rule": "r"}],
        }
    )
    assert out["default"] == {"name": "x"}
    assert out["x-kubernetes-validations"] == [{"rule": "r"}]

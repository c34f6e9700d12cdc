"""The static PodSpec validator names each field the API server would refuse, in its words."""

from __future__ import annotations

import pytest

from dask_kubernetes.validation import k8sfield
from dask_kubernetes.validation.podspec import validate_pod_spec
from tests.validation.podspec_cases import CASES, spec_for

PATH = "spec.worker.spec"


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_validator_names_what_the_api_server_refuses(case):
    _, expected = CASES[case]
    found = sorted((e.path, e.message) for e in validate_pod_spec(spec_for(case), PATH))
    assert found == sorted((f"{PATH}.{path}", message) for path, message in expected)


def test_errors_carry_the_status_cause_types_of_the_api_server():
    spec = spec_for("container-port-above-range")
    spec["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/d"}]
    spec["containers"].append({"name": "worker", "image": "x"})
    causes = {e.path: e.cause for e in validate_pod_spec(spec, "spec")}
    assert causes == {
        "spec.containers[0].ports[0].containerPort": "FieldValueInvalid",
        "spec.containers[0].volumeMounts[0].name": "FieldValueNotFound",
        "spec.containers[1].name": "FieldValueDuplicate",
    }


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, [("spec", "Required value")]),
        ({}, [("spec.containers", "Required value")]),
        ({"containers": []}, [("spec.containers", "Required value")]),
        (
            {"containers": [{}]},
            [("spec.containers[0].name", "Required value"), ("spec.containers[0].image", "Required value")],
        ),
    ],
    ids=["no-spec", "no-containers", "empty-containers", "container-without-name-or-image"],
)
def test_a_podspec_without_containers_is_refused(spec, expected):
    assert sorted((e.path, e.message) for e in validate_pod_spec(spec, "spec")) == sorted(expected)


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("1 bad", True),
        ("lower.case-and_dash", True),
        ("~!@#$%^&*()", True),
        ("1 bad=x", False),
        ("TAB\tHERE", False),
        ("é", False),
    ],
    ids=["leading-digit-and-space", "punctuation", "symbols", "equals", "tab", "non-ascii"],
)
def test_env_var_names_follow_the_relaxed_rule_of_v1_36(name, valid):
    assert (k8sfield.env_var_name(name) == []) is valid


@pytest.mark.parametrize(
    ("name", "problems"),
    [
        ("http", 0),
        ("a-b-c", 0),
        ("http-", 1),
        ("a--b", 1),
        ("80", 1),
        ("abcdefghijklmnop", 1),
        ("Http", 1),
    ],
    ids=["plain", "hyphens", "trailing-hyphen", "double-hyphen", "digits-only", "too-long", "upper-case"],
)
def test_port_names_are_iana_service_names(name, problems):
    assert len(k8sfield.port_name(name)) == problems


def test_a_mount_of_a_volume_with_errors_reads_as_not_found_like_the_api_server():
    spec = {
        "volumes": [{"name": "config", "configMap": {}}],
        "containers": [{"name": "w", "image": "x", "volumeMounts": [{"name": "config", "mountPath": "/c"}]}],
    }
    paths = {e.path for e in validate_pod_spec(spec, "spec")}
    assert paths == {"spec.volumes[0].configMap.name", "spec.containers[0].volumeMounts[0].name"}

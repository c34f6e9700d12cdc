import base64

import pytest

from dask_kubernetes_dev.nodeagent import env

POD = {
    "metadata": {
        "name": "p1",
        "namespace": "ns1",
        "uid": "u-1",
        "labels": {"app": "x", "b": 'q"uote'},
        "annotations": {"note": "hi"},
    },
    "spec": {"nodeName": "local-node", "serviceAccountName": "sa1", "containers": []},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$(A)", "1"),
        ("x-$(A)-$(B)", "x-1-two"),
        ("$$(A)", "$(A)"),
        ("$$", "$"),
        ("$(MISSING)", "$(MISSING)"),
        ("$(A", "$(A"),
        ("a$", "a$"),
        ("$x", "$x"),
        ("$$$(A)", "$1"),
        ("", ""),
    ],
)
def test_expand_follows_kubernetes_rules(text, expected):
    assert env.expand(text, {"A": "1", "B": "two"}) == expected


def test_field_refs():
    ref = lambda path: env.field_ref(POD, path, pod_ip="10.0.0.5", host_ip="10.0.0.1")  # noqa: E731
    assert ref("metadata.name") == "p1"
    assert ref("metadata.namespace") == "ns1"
    assert ref("metadata.uid") == "u-1"
    assert ref("metadata.labels['app']") == "x"
    assert ref("metadata.annotations['note']") == "hi"
    assert ref("metadata.labels") == 'app="x"\nb="q\\"uote"'
    assert ref("status.podIP") == "10.0.0.5"
    assert ref("status.hostIP") == "10.0.0.1"
    assert ref("spec.nodeName") == "local-node"
    assert ref("spec.serviceAccountName") == "sa1"
    with pytest.raises(env.EnvError):
        ref("spec.bogus")


def resolve(container, configmaps=None, secrets=None):
    return env.container_env(
        POD,
        container,
        configmaps=configmaps or {},
        secrets=secrets or {},
        service_env=env.service_env("10.0.0.1", 6443),
        pod_ip="10.0.0.5",
        host_ip="10.0.0.1",
        allocatable={"cpu": "1000", "memory": "4Ti"},
    )


def test_env_order_value_from_and_expansion():
    cm = {"data": {"K": "from-cm", "OTHER": "o"}}
    secret = {"data": {"PW": base64.b64encode(b"s3cret").decode()}}
    container = {
        "name": "c",
        "envFrom": [{"configMapRef": {"name": "cm"}, "prefix": "P_"}, {"secretRef": {"name": "sec"}}],
        "env": [
            {"name": "A", "value": "a"},
            {"name": "B", "value": "$(A)-$(P_K)-$(NOPE)-$$(A)"},
            {"name": "NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "CM", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "K"}}},
            {"name": "SEC", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "PW"}}},
            {"name": "OPT", "valueFrom": {"secretKeyRef": {"name": "gone", "key": "x", "optional": True}}},
            {"name": "HOST", "value": "$(KUBERNETES_SERVICE_HOST)"},
            {"name": "A", "value": "override"},
        ],
    }
    out = resolve(container, {"cm": cm}, {"sec": secret})
    assert out["P_K"] == "from-cm" and out["P_OTHER"] == "o"
    assert out["PW"] == "s3cret"
    assert out["B"] == "a-from-cm-$(NOPE)-$(A)"
    assert out["NAME"] == "p1"
    assert out["IP"] == "10.0.0.5"
    assert out["CM"] == "from-cm"
    assert out["SEC"] == "s3cret"
    assert "OPT" not in out
    assert out["HOST"] == "10.0.0.1"
    assert out["A"] == "override"
    assert out["KUBERNETES_SERVICE_PORT"] == "6443"


def test_missing_references_raise():
    with pytest.raises(env.EnvError, match='configmap "nope" not found'):
        resolve(
            {
                "name": "c",
                "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k"}}}],
            }
        )
    with pytest.raises(env.EnvError, match="couldn't find key k"):
        resolve(
            {
                "name": "c",
                "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}],
            },
            {"cm": {"data": {}}},
        )
    with pytest.raises(env.EnvError):
        resolve({"name": "c", "envFrom": [{"secretRef": {"name": "nope"}}]})
    assert "X" not in resolve({"name": "c", "envFrom": [{"secretRef": {"name": "nope", "optional": True}}]})


def test_resource_field_ref():
    container = {
        "name": "c",
        "resources": {"limits": {"memory": "1Gi", "cpu": "1500m"}},
        "env": [
            {
                "name": "MEM",
                "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}},
            },
            {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
            {"name": "REQ", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu", "divisor": "1m"}}},
        ],
    }
    out = resolve(container)
    assert out["MEM"] == "1024"
    assert out["CPU"] == "2"
    assert out["REQ"] == "1500"
    unlimited = {
        "name": "c",
        "env": [{"name": "C", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}}],
    }
    assert resolve(unlimited)["C"] == "1000"


def test_command_line():
    assert env.command_line({"command": ["a", "$(X)"], "args": ["--n", "$(Y)"]}, {"X": "1"}) == [
        "a",
        "1",
        "--n",
        "$(Y)",
    ]
    assert env.command_line({"args": ["dask-worker", "--name", "$(N)"]}, {"N": "w"}) == [
        "dask-worker",
        "--name",
        "w",
    ]
    with pytest.raises(env.EnvError):
        env.command_line({"name": "c"}, {})


def test_image_env_puts_python_bin_first_and_drops_the_rest():
    out = env.image_env({"PATH": "/usr/bin:/venv/bin", "KUBECONFIG": "/x", "HOME": "/h"}, "/venv/bin", "pod")
    assert out["PATH"] == "/venv/bin:/usr/bin"
    assert "KUBECONFIG" not in out
    assert out["HOSTNAME"] == "pod" and out["HOME"] == "/h"


def test_referenced_names():
    containers = [
        {
            "envFrom": [{"configMapRef": {"name": "a"}}, {"secretRef": {"name": "b"}}],
            "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "c", "key": "k"}}}],
        }
    ]
    assert env.referenced_names(containers) == ({"a"}, {"b", "c"})


def test_image_env_places_shims_after_python_bin():
    out = env.image_env({"PATH": "/usr/bin"}, "/venv/bin", "pod", "/state/bin")
    assert out["PATH"] == "/venv/bin:/state/bin:/usr/bin"

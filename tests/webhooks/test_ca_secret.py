"""The CA Secret and caBundle steps against an in-memory stand-in for the Kube facade."""

from __future__ import annotations

import asyncio
import base64
import copy
import json

import pytest
from kubernetes_asyncio.client.exceptions import ApiException

from dask_kubernetes import pki
from dask_kubernetes.settings import Settings
from dask_kubernetes.webhooks import cabundle, tls

SETTINGS = Settings(
    webhook_namespace="ns",
    webhook_service="ours",
    webhook_ca_secret="ca",
    webhook_deployment="hook",
    webhook_validating_configuration="cfg",
    webhook_mutating_configuration="cfg",
)


class FakeKube:
    """The webhook's part of Kube, over dicts; ``conflicts`` makes that many writes answer 409."""

    def __init__(self):
        self.secrets = {}
        self.configurations = {}
        self.deployments = {
            ("ns", "hook"): {"metadata": {"uid": "u1", "labels": {"app.kubernetes.io/instance": "x"}}}
        }
        self.conflicts = 0
        self.writes = []

    def _write(self, what):
        self.writes.append(what)
        if self.conflicts:
            self.conflicts -= 1
            raise ApiException(status=409, reason="Conflict")

    async def get_deployment(self, namespace, name):
        return copy.deepcopy(self.deployments.get((namespace, name)))

    async def get_secret(self, namespace, name):
        return copy.deepcopy(self.secrets.get((namespace, name)))

    async def create_secret(self, namespace, body, *, field_manager):
        self._write("create")
        key = (namespace, body["metadata"]["name"])
        if key in self.secrets:
            return None
        self.secrets[key] = {**copy.deepcopy(body), "metadata": {**body["metadata"], "namespace": namespace}}
        return self.secrets[key]

    async def replace_secret(self, namespace, name, body, *, field_manager):
        self._write("replace")
        self.secrets[(namespace, name)] = copy.deepcopy(body)
        return body

    async def patch_secret(self, namespace, name, patch, *, field_manager):
        self._write("patch")
        self.secrets[(namespace, name)]["metadata"].update(patch["metadata"])
        return self.secrets[(namespace, name)]

    async def get_webhook_configuration(self, kind, name):
        return copy.deepcopy(self.configurations.get((kind, name)))

    async def replace_webhook_configuration(self, kind, name, body, *, field_manager):
        self._write(f"replace {kind}")
        self.configurations[(kind, name)] = copy.deepcopy(body)
        return body


def _replica(tmp_path):
    return tls.SelfManagedCA(SETTINGS, tls.ServingFiles(tmp_path / "tls.crt", tmp_path / "tls.key"))


def test_the_first_replica_creates_the_ca_and_the_next_reads_it(tmp_path):
    kube = FakeKube()
    first = asyncio.run(_replica(tmp_path).ensure_ca(kube))
    secret = kube.secrets[("ns", "ca")]
    assert base64.b64decode(secret["data"]["tls.crt"]) == first.cert
    assert secret["metadata"]["ownerReferences"][0]["uid"] == "u1"
    assert secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == cabundle.FIELD_MANAGER
    assert asyncio.run(_replica(tmp_path).ensure_ca(kube)) == first
    assert kube.writes == ["create"]


def test_an_unusable_secret_is_replaced_after_a_conflict(tmp_path):
    kube = FakeKube()
    kube.secrets[("ns", "ca")] = {
        "metadata": {"name": "ca", "namespace": "ns", "resourceVersion": "7"},
        "data": {},
    }
    kube.conflicts = 1
    ca = asyncio.run(_replica(tmp_path).ensure_ca(kube))
    assert kube.writes == ["replace", "replace"]
    replaced = kube.secrets[("ns", "ca")]
    assert replaced["metadata"]["resourceVersion"] == "7"
    assert base64.b64decode(replaced["data"]["tls.key"]) == ca.key


def test_a_secret_without_owner_is_adopted(tmp_path):
    ca = pki.make_ca("old")
    data = {"tls.crt": base64.b64encode(ca.cert).decode(), "tls.key": base64.b64encode(ca.key).decode()}
    kube = FakeKube()
    kube.secrets[("ns", "ca")] = {"metadata": {"name": "ca", "namespace": "ns"}, "data": data}
    assert asyncio.run(_replica(tmp_path).ensure_ca(kube)) == ca
    assert kube.writes == ["patch"]
    assert kube.secrets[("ns", "ca")]["metadata"]["ownerReferences"][0]["name"] == "hook"


def _hooks(service_name):
    return {
        "name": f"{service_name}.example.com",
        "clientConfig": {"service": {"name": service_name, "namespace": "ns"}},
    }


@pytest.mark.parametrize("present", [True, False])
def test_ca_bundles_go_only_into_our_own_webhooks(present):
    kube = FakeKube()
    if present:
        for kind in cabundle.KINDS:
            kube.configurations[(kind, "cfg")] = {"webhooks": [_hooks("ours"), _hooks("theirs")]}
    found = asyncio.run(cabundle.patch_ca_bundles(kube, SETTINGS, "QlVORExF"))
    assert found is present
    for kind in cabundle.KINDS if present else ():
        hooks = kube.configurations[(kind, "cfg")]["webhooks"]
        assert [hook["clientConfig"].get("caBundle") for hook in hooks] == ["QlVORExF", None]
    assert kube.writes == (["replace validating", "replace mutating"] if present else [])
    asyncio.run(cabundle.patch_ca_bundles(kube, SETTINGS, "QlVORExF"))
    assert len(kube.writes) == (2 if present else 0)


class _Response:
    def __init__(self, status, body):
        self.status, self.reason, self._body = status, "Reason", json.dumps(body).encode()

    async def read(self):
        return self._body


class _Recorder:
    """Stands in for a typed API: records each call and answers with the next canned response."""

    def __init__(self, *answers):
        self.answers, self.calls = list(answers), []

    def __getattr__(self, method):
        async def call(*args, **kwargs):
            self.calls.append((method, args, kwargs))
            return self.answers.pop(0)

        return call


def test_the_kube_calls_of_the_webhook_are_raw_and_name_the_field_manager():
    from kubernetes_asyncio import client

    from dask_kubernetes.kubeapi import Kube

    async def run():
        api = client.ApiClient()
        try:
            kube = Kube(api)
            kube.core = _Recorder(
                _Response(404, {}), _Response(409, {}), _Response(200, {"metadata": {"name": "ca"}})
            )
            assert await kube.get_secret("ns", "ca") is None
            assert await kube.create_secret("ns", {"metadata": {}}, field_manager="fm") is None
            assert await kube.replace_secret("ns", "ca", {}, field_manager="fm") == {
                "metadata": {"name": "ca"}
            }
            return kube.core.calls
        finally:
            await api.close()

    calls = asyncio.run(run())
    assert [c[0] for c in calls] == [
        "read_namespaced_secret",
        "create_namespaced_secret",
        "replace_namespaced_secret",
    ]
    assert calls[0][1] == ("ca", "ns") and calls[2][1][:2] == ("ca", "ns")
    assert all(c[2]["_preload_content"] is False for c in calls)
    assert calls[1][2]["field_manager"] == calls[2][2]["field_manager"] == "fm"

"""The self-managed CA against the real API: racing replicas, caBundle upkeep, repair.

Drives :class:`~dask_kubernetes.webhooks.tls.SelfManagedCA` from the test process
with admin credentials, on webhook configurations that match no namespace, so the
races can be run on purpose and the outcome read back exactly.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid

import pytest
from cryptography import x509
from kubernetes_asyncio import client, config

from dask_kubernetes import yamlio
from dask_kubernetes.settings import Settings
from dask_kubernetes.webhooks import tls

pytestmark = pytest.mark.cluster


def _configuration(kind, name, namespace):
    def hook(hook_name, service):
        return {
            "name": hook_name,
            "admissionReviewVersions": ["v1"],
            "sideEffects": "None",
            "failurePolicy": "Ignore",
            "clientConfig": {"service": {"name": service, "namespace": namespace, "path": "/x"}},
            "namespaceSelector": {"matchLabels": {"never": "matches"}},
            "rules": [
                {
                    "apiGroups": ["kubernetes.dask.org"],
                    "apiVersions": ["v1"],
                    "operations": ["CREATE"],
                    "resources": ["daskautoscalers"],
                }
            ],
        }

    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": name},
        "webhooks": [hook("ours.example.com", "ours"), hook("theirs.example.com", "theirs")],
    }


@pytest.fixture
def race(webhook_cluster, tmp_path):
    namespace = f"tls-{uuid.uuid4().hex[:8]}"
    name = f"race-{uuid.uuid4().hex[:8]}"
    configurations = [
        _configuration(kind, name, namespace)
        for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")
    ]
    webhook_cluster.kubectl("create", "namespace", namespace)
    webhook_cluster.kubectl("apply", "-f", "-", input=yamlio.dump_all(configurations))
    settings = Settings(
        webhook_namespace=namespace,
        webhook_service="ours",
        webhook_ca_secret="race-ca",
        webhook_validating_configuration=name,
        webhook_mutating_configuration=name,
    )
    yield webhook_cluster, settings, tmp_path
    webhook_cluster.kubectl(
        "delete", "--ignore-not-found", "-f", "-", input=yamlio.dump_all(configurations), check=False
    )
    webhook_cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


async def _api(kubeconfig):
    configuration = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    return client.ApiClient(configuration)


def _replica(settings, tmp_path, i):
    files = tls.ServingFiles(tmp_path / f"r{i}" / "tls.crt", tmp_path / f"r{i}" / "tls.key")
    return tls.SelfManagedCA(settings, files)


def _bundles(cluster, settings):
    found = {}
    for kind in ("validatingwebhookconfiguration", "mutatingwebhookconfiguration"):
        name = settings.webhook_validating_configuration
        obj = json.loads(cluster.kubectl("get", kind, name, "-o", "json").stdout)
        for hook in obj["webhooks"]:
            found[(kind, hook["name"])] = hook["clientConfig"].get("caBundle")
    return found


def test_racing_replicas_agree_on_one_ca_and_patch_only_their_own_webhooks(race):
    cluster, settings, tmp_path = race

    async def run():
        apis = [await _api(cluster.kubeconfig) for _ in range(4)]
        replicas = [_replica(settings, tmp_path, i) for i in range(4)]
        try:
            await asyncio.gather(*(r.sync(api) for r, api in zip(replicas, apis, strict=True)))
        finally:
            for api in apis:
                await api.close()
        return replicas

    replicas = asyncio.run(run())
    cas = {r.ca.cert for r in replicas}
    assert len(cas) == 1
    (ca,) = cas
    secret = json.loads(
        cluster.kubectl("get", "secret", "race-ca", "-n", settings.webhook_namespace, "-o", "json").stdout
    )
    assert base64.b64decode(secret["data"]["tls.crt"]) == ca
    for replica in replicas:
        cert = x509.load_pem_x509_certificate(replica.files.cert.read_bytes())
        cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca))
    bundles = _bundles(cluster, settings)
    encoded = base64.b64encode(ca).decode()
    assert bundles[("validatingwebhookconfiguration", "ours.example.com")] == encoded
    assert bundles[("mutatingwebhookconfiguration", "ours.example.com")] == encoded
    assert bundles[("validatingwebhookconfiguration", "theirs.example.com")] is None
    assert bundles[("mutatingwebhookconfiguration", "theirs.example.com")] is None


def test_a_broken_secret_and_an_overwritten_ca_bundle_are_repaired(race):
    cluster, settings, tmp_path = race

    async def sync(replica):
        api = await _api(cluster.kubeconfig)
        try:
            await replica.sync(api)
        finally:
            await api.close()

    replica = _replica(settings, tmp_path, 0)
    asyncio.run(sync(replica))
    first = replica.ca.cert

    # Someone re-applies the configuration with an old caBundle: the next round fixes it.
    patch = json.dumps([{"op": "replace", "path": "/webhooks/0/clientConfig/caBundle", "value": "Zm9v"}])
    name = settings.webhook_validating_configuration
    cluster.kubectl("patch", "validatingwebhookconfiguration", name, "--type=json", "-p", patch)
    asyncio.run(sync(replica))
    assert _bundles(cluster, settings)[("validatingwebhookconfiguration", "ours.example.com")] == (
        base64.b64encode(first).decode()
    )

    # A Secret that no longer holds a CA is replaced; certificate and caBundle follow.
    junk = json.dumps({"data": {"tls.crt": base64.b64encode(b"junk").decode()}})
    cluster.kubectl(
        "patch", "secret", "race-ca", "-n", settings.webhook_namespace, "--type=merge", "-p", junk
    )
    asyncio.run(sync(replica))
    second = replica.ca.cert
    assert second != first
    cert = x509.load_pem_x509_certificate(replica.files.cert.read_bytes())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(second))
    assert set(_bundles(cluster, settings).values()) == {base64.b64encode(second).decode(), None}


def test_missing_configurations_are_not_an_error(webhook_cluster, tmp_path):
    namespace = f"tls-{uuid.uuid4().hex[:8]}"
    webhook_cluster.kubectl("create", "namespace", namespace)
    settings = Settings(
        webhook_namespace=namespace,
        webhook_service="ours",
        webhook_ca_secret="lonely-ca",
        webhook_validating_configuration="does-not-exist",
        webhook_mutating_configuration="does-not-exist",
    )
    replica = _replica(settings, tmp_path, 0)

    async def run():
        api = await _api(webhook_cluster.kubeconfig)
        try:
            await replica.sync(api)
            return await replica.patch_ca_bundles(api, replica.ca)
        finally:
            await api.close()

    try:
        assert asyncio.run(run()) is False
        assert replica.files.cert.exists()
    finally:
        webhook_cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)

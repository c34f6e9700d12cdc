"""The TLS pieces that need no API: serving files, reloads, names and the CA Secret's contents."""

from __future__ import annotations

import asyncio
import base64
import datetime
import ssl

import pytest
from cryptography import x509

from dask_kubernetes import pki
from dask_kubernetes.settings import Settings
from dask_kubernetes.webhooks import tls
from dask_kubernetes.webhooks.metrics import Metrics
from dask_kubernetes.webhooks.state import WebhookState


@pytest.fixture(scope="module")
def ca():
    return pki.make_ca("test-ca")


def _files(tmp_path, ca, name="svc"):
    pair = pki.issue(ca, name, dns_names=[name])
    files = tls.ServingFiles(tmp_path / "tls.crt", tmp_path / "tls.key")
    files.cert.write_bytes(pair.cert)
    files.key.write_bytes(pair.key)
    return files


def test_dns_names_cover_every_way_to_the_service():
    assert tls.dns_names("hook", "ns") == ["hook", "hook.ns", "hook.ns.svc", "hook.ns.svc.cluster.local"]


def test_a_long_service_name_still_gets_a_certificate(tmp_path, ca):
    service = "dwh-abcdef-dask-kubernetes-operator-webhook-with-a-rather-long-name"
    settings = Settings(webhook_service=service, webhook_namespace="a-long-namespace-name")
    files = tls.ServingFiles(tmp_path / "tls.crt", tmp_path / "tls.key")
    tls.SelfManagedCA(settings, files).issue_serving(ca)
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName
    )
    assert f"{service}.a-long-namespace-name.svc" in names
    assert (files.key.stat().st_mode & 0o777) == 0o600


def test_reload_loads_changed_files_into_the_live_context(tmp_path, ca):
    files = _files(tmp_path, ca)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    metrics = Metrics()
    files.on_reload.append(tls.record_expiry(metrics))
    assert files.reload() is True  # first read: remembers the fingerprint
    files.context = context
    assert files.reload() is False  # nothing changed
    renewed = pki.issue(ca, "svc", dns_names=["svc"], days=30)
    files.key.write_bytes(renewed.key)
    files.cert.write_bytes(renewed.cert)
    assert files.reload() is True
    expiry = metrics.registry.get_sample_value("dask_webhook_serving_certificate_expiry_timestamp_seconds")
    assert expiry == pytest.approx(pki.not_after(renewed.cert).timestamp())


def test_the_file_watcher_survives_a_half_written_pair(tmp_path, ca):
    files = _files(tmp_path, ca)
    files.reload()
    files.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    files.key.write_bytes(b"not a key")  # cert-manager mid-swap
    task = tls.watch_files(files, interval=0.01)

    async def run():
        job = asyncio.create_task(task(WebhookState()))
        await asyncio.sleep(0.1)
        assert not job.done()
        job.cancel()

    asyncio.run(run())


def _secret(data):
    return {"metadata": {"name": "ca", "resourceVersion": "1"}, "data": data}


def test_the_ca_is_read_back_from_its_secret(ca):
    data = {"tls.crt": base64.b64encode(ca.cert).decode(), "tls.key": base64.b64encode(ca.key).decode()}
    assert tls._ca_from_secret(_secret(data)) == ca


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {"tls.crt": "!!", "tls.key": "!!"},
        {"tls.crt": base64.b64encode(b"junk").decode(), "tls.key": ""},
    ],
    ids=["no-data", "empty", "not-base64", "not-a-certificate"],
)
def test_an_unusable_ca_secret_is_not_used(data):
    assert tls._ca_from_secret(_secret(data)) is None


def test_a_ca_about_to_expire_is_replaced(monkeypatch):
    old = pki.make_ca("old", days=10)
    data = {"tls.crt": base64.b64encode(old.cert).decode(), "tls.key": base64.b64encode(old.key).decode()}
    assert tls._ca_from_secret(_secret(data)) is None
    assert tls.RENEW_BEFORE > datetime.timedelta(days=10)


def test_cert_files_without_api_access(tmp_path, ca):
    files = _files(tmp_path, ca)
    settings = Settings(webhook_cert_file=str(files.cert), webhook_key_file=str(files.key))
    served, tasks = asyncio.run(tls.prepare(settings, Metrics()))
    assert served.cert == files.cert and len(tasks) == 1
    missing = Settings(
        webhook_cert_file=str(tmp_path / "nope.crt"), webhook_key_file=str(tmp_path / "nope.key")
    )
    with pytest.raises(tls.TLSError, match="cannot read the serving certificate"):
        asyncio.run(tls.prepare(missing, Metrics()))

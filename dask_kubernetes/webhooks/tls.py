"""Serving TLS: a self-managed CA in a Secret with caBundle patching, or cert-manager's files.

Without cert-manager the webhook is its own CA.  At start-up each replica
create-or-gets the CA Secret (one replica's create wins, the others read the
winner's CA), issues its serving certificate for ``<svc>.<ns>.svc`` into a
writable directory, and patches the CA into the ``caBundle`` of both webhook
configurations by name.  A background loop repeats this: it re-issues the serving
certificate when the CA changed or expiry nears, re-patches a caBundle that was
overwritten (say by ``kubectl apply``), and reloads uvicorn's SSL context in place.
Every write is conditional on ``resourceVersion``, and conflicts are retried.

With cert-manager the certificate arrives as mounted files; the loop reloads them
when cert-manager renews the Secret.  The chart never generates keys in templates
(``genCA``), which would keep Argo CD OutOfSync.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import hashlib
import json
import logging
import os
import random
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from dask_kubernetes import kubeconfig, pki
from dask_kubernetes.api import constants
from dask_kubernetes.settings import Settings
from dask_kubernetes.webhooks.kube import KubeClient
from dask_kubernetes.webhooks.metrics import Metrics
from dask_kubernetes.webhooks.state import WebhookState

log = logging.getLogger(__name__)
T = TypeVar("T")

FIELD_MANAGER = "dask-kubernetes-webhook"
CA_COMMON_NAME = "dask-kubernetes-webhook-ca"
CA_DAYS = 3650
SERVING_DAYS = 365
# Re-issue a certificate this long before it expires.
RENEW_BEFORE = datetime.timedelta(days=30)
CONFLICT_RETRIES = 8


class TLSError(RuntimeError):
    """The webhook could not obtain a serving certificate; the message says why."""


@dataclass
class ServingFiles:
    """The serving certificate and key on disk, and the live SSL context serving them."""

    cert: Path
    key: Path
    context: ssl.SSLContext | None = None
    fingerprint: str = ""
    on_reload: list[Callable[[ServingFiles], None]] = field(default_factory=list)

    def read_fingerprint(self) -> str:
        """Hash both files, so a renewal is noticed whatever their timestamps say."""
        digest = hashlib.sha256()
        for path in (self.cert, self.key):
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def reload(self) -> bool:
        """Load the files into the live context, if they changed; new handshakes use them."""
        fingerprint = self.read_fingerprint()
        if fingerprint == self.fingerprint:
            return False
        if self.context is not None:
            self.context.load_cert_chain(str(self.cert), str(self.key))
        self.fingerprint = fingerprint
        for callback in self.on_reload:
            callback(self)
        return True

    def expires(self) -> datetime.datetime:
        """When the certificate on disk expires."""
        return pki.not_after(self.cert.read_bytes())


def dns_names(service: str, namespace: str) -> list[str]:
    """Every name the API server (or a Pod) may use to reach the Service."""
    return [
        service,
        f"{service}.{namespace}",
        f"{service}.{namespace}.svc",
        f"{service}.{namespace}.svc.cluster.local",
    ]


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _ca_from_secret(secret: client.V1Secret) -> pki.KeyPair | None:
    """Read the CA a Secret holds; None if it is missing, unreadable or about to expire."""
    data = secret.data or {}
    try:
        pair = pki.KeyPair(base64.b64decode(data["tls.crt"]), base64.b64decode(data["tls.key"]))
        if pki.not_after(pair.cert) - RENEW_BEFORE < datetime.datetime.now(datetime.UTC):
            return None
        return pair
    except (KeyError, ValueError, TypeError):
        return None


async def _retry_conflicts(step: Callable[[], Awaitable[T]], what: str) -> T:
    """Run a read-modify-write step again when another replica won the race (409)."""
    for attempt in range(CONFLICT_RETRIES):
        try:
            return await step()
        except ApiException as exc:
            if exc.status != 409 or attempt == CONFLICT_RETRIES - 1:
                raise
            log.info("conflict while %s; retrying", what)
            await asyncio.sleep(random.uniform(0.05, 0.3) * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


class SelfManagedCA:
    """The CA Secret, this replica's serving certificate and the caBundle of both configurations."""

    def __init__(self, settings: Settings, files: ServingFiles, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.files = files
        self.metrics = metrics
        self.ca: pki.KeyPair | None = None

    # The CA Secret -----------------------------------------------------------
    async def _owner(self, api: client.ApiClient) -> dict[str, Any]:
        """Metadata tying the Secret to the webhook's Deployment: owner reference and instance labels.

        Garbage collection then deletes the Secret with the Deployment (a prune that
        turns the webhook off leaves nothing behind), and label selectors find it.
        """
        name = self.settings.webhook_deployment
        if not name:
            return {}
        apps = client.AppsV1Api(api)
        try:
            deployment = await apps.read_namespaced_deployment(name, self.settings.webhook_namespace)
        except ApiException as exc:
            if exc.status != 404:
                raise
            log.warning("the webhook Deployment %s does not exist; the CA Secret gets no owner", name)
            return {}
        labels = deployment.metadata.labels or {}
        owner = {"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": deployment.metadata.uid}
        return {
            "labels": {key: labels[key] for key in constants.INSTANCE_LABELS if key in labels},
            "ownerReferences": [owner],
        }

    def _secret_body(
        self, ca: pki.KeyPair, resource_version: str | None = None, owner: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        owner = owner or {}
        metadata: dict[str, Any] = {
            "name": self.settings.webhook_ca_secret,
            "namespace": self.settings.webhook_namespace,
            "labels": {**owner.get("labels", {}), "app.kubernetes.io/managed-by": FIELD_MANAGER},
        }
        if owner.get("ownerReferences"):
            metadata["ownerReferences"] = owner["ownerReferences"]
        if resource_version:
            metadata["resourceVersion"] = resource_version
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": metadata,
            "data": {"tls.crt": _b64(ca.cert), "tls.key": _b64(ca.key)},
        }

    async def ensure_ca(self, api: client.ApiClient) -> pki.KeyPair:
        """Create-or-get the CA Secret; replace it only if it is unusable."""
        core = client.CoreV1Api(api)
        name, namespace = self.settings.webhook_ca_secret, self.settings.webhook_namespace

        owner = await self._owner(api)

        async def step() -> pki.KeyPair:
            try:
                secret = await core.read_namespaced_secret(name, namespace)
            except ApiException as exc:
                if exc.status != 404:
                    raise
                ca = pki.make_ca(CA_COMMON_NAME, days=CA_DAYS)
                try:
                    await core.create_namespaced_secret(
                        namespace, self._secret_body(ca, owner=owner), field_manager=FIELD_MANAGER
                    )
                    log.info("created the webhook CA in Secret %s/%s", namespace, name)
                    return ca
                except ApiException as create_exc:
                    if create_exc.status != 409:
                        raise
                    # Another replica created it first: read theirs.
                    secret = await core.read_namespaced_secret(name, namespace)
            ca = _ca_from_secret(secret)
            if ca is not None:
                await self._adopt(core, secret, owner)
                return ca
            ca = pki.make_ca(CA_COMMON_NAME, days=CA_DAYS)
            body = self._secret_body(ca, secret.metadata.resource_version, owner)
            await core.replace_namespaced_secret(name, namespace, body, field_manager=FIELD_MANAGER)
            log.warning("replaced an unusable or expiring webhook CA in Secret %s/%s", namespace, name)
            return ca

        return await _retry_conflicts(step, f"creating or reading Secret {namespace}/{name}")

    async def _adopt(self, core: client.CoreV1Api, secret: client.V1Secret, owner: dict[str, Any]) -> None:
        """Give a Secret made before it had an owner (an older webhook) its owner and labels."""
        refs = [ref.uid for ref in secret.metadata.owner_references or []]
        wanted = owner.get("ownerReferences") or []
        if not wanted or wanted[0]["uid"] in refs:
            return
        patch = {"metadata": {"labels": owner["labels"], "ownerReferences": wanted}}
        await core.patch_namespaced_secret(
            secret.metadata.name, secret.metadata.namespace, patch, field_manager=FIELD_MANAGER
        )
        log.info("gave the webhook CA Secret its owner, Deployment %s", wanted[0]["name"])

    # The serving certificate --------------------------------------------------
    def issue_serving(self, ca: pki.KeyPair) -> None:
        """Issue this replica's serving certificate and write it where uvicorn reads it."""
        service, namespace = self.settings.webhook_service, self.settings.webhook_namespace
        # Clients check the DNS names; a common name longer than 64 characters is invalid.
        pair = pki.issue(ca, service[:64], dns_names=dns_names(service, namespace), days=SERVING_DAYS)
        self.files.cert.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.files.key, pair.key, 0o600)
        _write_atomically(self.files.cert, pair.cert, 0o644)

    def _signed_by(self, ca: pki.KeyPair) -> bool:
        try:
            cert = x509.load_pem_x509_certificate(self.files.cert.read_bytes())
            cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.cert))
        except (OSError, ValueError, TypeError, InvalidSignature):
            return False
        return True

    # caBundle -----------------------------------------------------------------
    async def _patch_configuration(self, api: client.ApiClient, kind: str, name: str, bundle: str) -> bool:
        """Put ``bundle`` into every webhook of ours in one configuration; False if it is absent.

        Only webhooks that call our own Service are touched, so two installs of the
        chart (say in two namespaces) never overwrite each other's caBundle.
        """
        adm = client.AdmissionregistrationV1Api(api)
        read = getattr(adm, f"read_{kind}")
        replace = getattr(adm, f"replace_{kind}")

        async def step() -> bool:
            response = await read(name, _preload_content=False)
            try:
                raw = await response.read()
            finally:
                response.release()
            if response.status == 404:
                return False
            if response.status >= 300:
                raise ApiException(status=response.status, reason=raw.decode(errors="replace")[:200])
            body = json.loads(raw)
            changed = False
            for hook in body.get("webhooks") or []:
                service = (hook.get("clientConfig") or {}).get("service") or {}
                ours = service.get("name") == self.settings.webhook_service and (
                    service.get("namespace") == self.settings.webhook_namespace
                )
                if ours and hook["clientConfig"].get("caBundle") != bundle:
                    hook["clientConfig"]["caBundle"] = bundle
                    changed = True
            if changed:
                await replace(name, body, field_manager=FIELD_MANAGER)
                log.info("patched caBundle of %s %s", kind.replace("_", " "), name)
                if self.metrics is not None:
                    self.metrics.ca_bundle_patches.labels(name).inc()
            return True

        return await _retry_conflicts(step, f"patching caBundle of {name}")

    async def patch_ca_bundles(self, api: client.ApiClient, ca: pki.KeyPair) -> bool:
        """Patch both configurations; True when both exist (they may not yet, see sync waves)."""
        bundle = _b64(ca.cert)
        found = [
            await self._patch_configuration(
                api,
                "validating_webhook_configuration",
                self.settings.webhook_validating_configuration,
                bundle,
            ),
            await self._patch_configuration(
                api, "mutating_webhook_configuration", self.settings.webhook_mutating_configuration, bundle
            ),
        ]
        return all(found)

    # Together -------------------------------------------------------------------
    async def sync(self, api: client.ApiClient) -> None:
        """One round: CA, serving certificate (re-issued if needed, then reloaded), caBundle."""
        ca = await self.ensure_ca(api)
        stale = (
            not self.files.cert.exists()
            or not self._signed_by(ca)
            or self.files.expires() - RENEW_BEFORE < datetime.datetime.now(datetime.UTC)
        )
        if stale:
            self.issue_serving(ca)
            log.info("issued a serving certificate for %s", self.settings.webhook_service)
        self.files.reload()
        self.ca = ca
        if not await self.patch_ca_bundles(api, ca):
            log.info("a webhook configuration does not exist yet; its caBundle will be patched later")

    async def bootstrap(self, api: client.ApiClient, *, timeout: float = 120) -> None:
        """Get a serving certificate before serving; retry API errors until ``timeout``."""
        deadline = asyncio.get_running_loop().time() + timeout
        delay = 0.5
        while True:
            try:
                await self.sync(api)
                return
            except (TimeoutError, ApiException, OSError, aiohttp.ClientError) as exc:
                if asyncio.get_running_loop().time() > deadline:
                    raise TLSError(
                        f"could not set up the webhook's CA and certificate: {_describe(exc)}"
                    ) from None
                log.warning("setting up TLS failed (%s); retrying in %.1fs", _describe(exc), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def run(self, state: WebhookState) -> None:
        """Background upkeep for the app's lifetime; errors are logged and retried."""
        while True:
            await asyncio.sleep(self.settings.webhook_tls_sync_interval)
            kube = state.kube
            if not isinstance(kube, KubeClient):
                log.warning("no API access; cannot keep the CA and caBundle up to date")
                continue
            try:
                await self.sync(kube.api)
            except Exception as exc:  # noqa: BLE001 - keep serving with what we have
                log.warning("TLS upkeep failed, will retry: %s", _describe(exc))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ApiException):
        return f"API error {exc.status} {exc.reason}".strip()
    return f"{type(exc).__name__}: {exc}"


def watch_files(files: ServingFiles, interval: float) -> Callable[[WebhookState], Awaitable[None]]:
    """A background task that reloads mounted files (cert-manager) when they change."""

    async def reload_mounted_certificate(state: WebhookState) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                if files.reload():
                    log.info("reloaded the renewed serving certificate from %s", files.cert)
            except (OSError, ssl.SSLError) as exc:
                # cert-manager swaps the files; a half-written pair is read next round.
                log.info("could not reload %s yet: %s", files.cert, exc)

    return reload_mounted_certificate


def record_expiry(metrics: Metrics) -> Callable[[ServingFiles], None]:
    """A reload callback that exports the certificate's expiry as a gauge."""

    def callback(files: ServingFiles) -> None:
        metrics.certificate_expiry.set(files.expires().timestamp())

    return callback


BackgroundTask = Callable[[WebhookState], Awaitable[None]]


async def prepare(settings: Settings, metrics: Metrics) -> tuple[ServingFiles, list[BackgroundTask]]:
    """Have a serving certificate on disk before uvicorn starts, and the task that keeps it fresh."""
    if not settings.webhook_self_managed_tls:
        files = ServingFiles(Path(settings.webhook_cert_file), Path(settings.webhook_key_file))
        files.on_reload.append(record_expiry(metrics))
        try:
            files.reload()
        except OSError as exc:
            raise TLSError(f"cannot read the serving certificate: {exc}") from None
        return files, [watch_files(files, settings.webhook_tls_sync_interval)]
    cert_dir = Path(settings.webhook_cert_dir)
    files = ServingFiles(cert_dir / "tls.crt", cert_dir / "tls.key")
    files.on_reload.append(record_expiry(metrics))
    ca = SelfManagedCA(settings, files, metrics)
    try:
        api = await kubeconfig.api_client()
    except kubeconfig.KubeConfigError as exc:
        raise TLSError(f"no API access to manage the webhook's CA: {exc}") from None
    try:
        await ca.bootstrap(api)
    finally:
        await api.close()
    return files, [ca.run]

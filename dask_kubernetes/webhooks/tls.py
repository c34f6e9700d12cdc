"""Serving TLS: a self-managed CA in a Secret with caBundle patching, or cert-manager's files.

Without cert-manager the webhook is its own CA.  At start-up each replica
create-or-gets the CA Secret (one replica's create wins, the others read the
winner's CA), issues its serving certificate for ``<svc>.<ns>.svc`` into a
writable directory, and patches the CA into the ``caBundle`` of both webhook
configurations by name (:mod:`.cabundle`).  A background loop repeats this: it
re-issues the serving certificate when the CA changed or expiry nears, re-patches a
caBundle that was overwritten (say by ``kubectl apply``), and reloads uvicorn's SSL
context in place (:mod:`.serving`).  Every write is conditional on
``resourceVersion``, and conflicts are retried.

With cert-manager the certificate arrives as mounted files; the loop reloads them
when cert-manager renews the Secret.  The chart never generates keys in templates
(``genCA``), which would keep Argo CD OutOfSync.

The entry points take the ``ApiClient`` of the replica's connection; every call
goes through :class:`~dask_kubernetes.kubeapi.Kube` over it.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from dask_kubernetes import kubeconfig, pki
from dask_kubernetes.api import constants
from dask_kubernetes.kubeapi import Kube
from dask_kubernetes.settings import Settings
from dask_kubernetes.webhooks.cabundle import FIELD_MANAGER, patch_ca_bundles, retry_conflicts
from dask_kubernetes.webhooks.kube import KubeClient
from dask_kubernetes.webhooks.metrics import Metrics
from dask_kubernetes.webhooks.serving import ServingFiles, dns_names, record_expiry, watch_files
from dask_kubernetes.webhooks.state import BackgroundTask, WebhookState

log = logging.getLogger(__name__)

CA_COMMON_NAME = "dask-kubernetes-webhook-ca"
CA_DAYS = 3650
SERVING_DAYS = 365
# Re-issue a certificate this long before it expires.
RENEW_BEFORE = datetime.timedelta(days=30)


class TLSError(RuntimeError):
    """The webhook could not obtain a serving certificate; the message says why."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _expiring(cert: bytes) -> bool:
    return pki.not_after(cert) - RENEW_BEFORE < datetime.datetime.now(datetime.UTC)


def _ca_from_secret(secret: Mapping[str, Any]) -> pki.KeyPair | None:
    """Read the CA a Secret holds; None if it is missing, unreadable or about to expire."""
    data = secret.get("data") or {}
    try:
        pair = pki.KeyPair(base64.b64decode(data["tls.crt"]), base64.b64decode(data["tls.key"]))
        return None if _expiring(pair.cert) else pair
    except (KeyError, ValueError, TypeError):
        return None


class SelfManagedCA:
    """The CA Secret, this replica's serving certificate and the caBundle of both configurations."""

    def __init__(self, settings: Settings, files: ServingFiles, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.files = files
        self.metrics = metrics
        self.ca: pki.KeyPair | None = None

    # The CA Secret -----------------------------------------------------------
    async def _owner(self, kube: Kube) -> dict[str, Any]:
        """Metadata tying the Secret to the webhook's Deployment: owner reference and instance labels.

        Garbage collection then deletes the Secret with the Deployment (a prune that
        turns the webhook off leaves nothing behind), and label selectors find it.
        """
        name = self.settings.webhook_deployment
        if not name:
            return {}
        deployment = await kube.get_deployment(self.settings.webhook_namespace, name)
        if deployment is None:
            log.warning("the webhook Deployment %s does not exist; the CA Secret gets no owner", name)
            return {}
        labels = deployment["metadata"].get("labels") or {}
        uid = deployment["metadata"].get("uid")
        owner = {"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": uid}
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

    async def _read_or_create(self, kube: Kube, owner: dict[str, Any]) -> pki.KeyPair | dict[str, Any]:
        """The Secret as it is, or the CA this replica just stored in a new one."""
        name, namespace = self.settings.webhook_ca_secret, self.settings.webhook_namespace
        secret = await kube.get_secret(namespace, name)
        if secret is not None:
            return secret
        ca = pki.make_ca(CA_COMMON_NAME, days=CA_DAYS)
        body = self._secret_body(ca, owner=owner)
        if await kube.create_secret(namespace, body, field_manager=FIELD_MANAGER) is not None:
            log.info("created the webhook CA in Secret %s/%s", namespace, name)
            return ca
        # Another replica created it first: read theirs.
        secret = await kube.get_secret(namespace, name)
        if secret is None:  # and someone deleted it since: the next round starts over
            raise ApiException(status=404, reason=f"Secret {namespace}/{name} vanished after a conflict")
        return secret

    async def ensure_ca(self, kube: Kube) -> pki.KeyPair:
        """Create-or-get the CA Secret; replace it only if it is unusable."""
        name, namespace = self.settings.webhook_ca_secret, self.settings.webhook_namespace
        owner = await self._owner(kube)

        async def step() -> pki.KeyPair:
            secret = await self._read_or_create(kube, owner)
            if isinstance(secret, pki.KeyPair):
                return secret
            ca = _ca_from_secret(secret)
            if ca is not None:
                await self._adopt(kube, secret, owner)
                return ca
            ca = pki.make_ca(CA_COMMON_NAME, days=CA_DAYS)
            body = self._secret_body(ca, secret["metadata"].get("resourceVersion"), owner)
            await kube.replace_secret(namespace, name, body, field_manager=FIELD_MANAGER)
            log.warning("replaced an unusable or expiring webhook CA in Secret %s/%s", namespace, name)
            return ca

        return await retry_conflicts(step, f"creating or reading Secret {namespace}/{name}")

    async def _adopt(self, kube: Kube, secret: Mapping[str, Any], owner: dict[str, Any]) -> None:
        """Give a Secret made before it had an owner (an older webhook) its owner and labels."""
        metadata = secret["metadata"]
        refs = [ref.get("uid") for ref in metadata.get("ownerReferences") or []]
        wanted = owner.get("ownerReferences") or []
        if not wanted or wanted[0]["uid"] in refs:
            return
        patch = {"metadata": {"labels": owner["labels"], "ownerReferences": wanted}}
        await kube.patch_secret(metadata["namespace"], metadata["name"], patch, field_manager=FIELD_MANAGER)
        log.info("gave the webhook CA Secret its owner, Deployment %s", wanted[0]["name"])

    # The serving certificate --------------------------------------------------
    def issue_serving(self, ca: pki.KeyPair) -> None:
        """Issue this replica's serving certificate and write it where uvicorn reads it."""
        service, namespace = self.settings.webhook_service, self.settings.webhook_namespace
        # Clients check the DNS names; a common name longer than 64 characters is invalid.
        pair = pki.issue(ca, service[:64], dns_names=dns_names(service, namespace), days=SERVING_DAYS)
        self.files.write(pair)

    def _signed_by(self, ca: pki.KeyPair) -> bool:
        try:
            cert = x509.load_pem_x509_certificate(self.files.cert.read_bytes())
            cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.cert))
        except (OSError, ValueError, TypeError, InvalidSignature):
            return False
        return True

    # caBundle -----------------------------------------------------------------
    async def patch_ca_bundles(self, api: client.ApiClient, ca: pki.KeyPair) -> bool:
        """Patch both configurations; True when both exist (they may not yet, see sync waves)."""
        return await patch_ca_bundles(Kube(api), self.settings, _b64(ca.cert), self.metrics)

    # Together -------------------------------------------------------------------
    async def sync(self, api: client.ApiClient) -> None:
        """One round: CA, serving certificate (re-issued if needed, then reloaded), caBundle."""
        kube = Kube(api)
        ca = await self.ensure_ca(kube)
        stale = (
            not self.files.cert.exists() or not self._signed_by(ca) or _expiring(self.files.cert.read_bytes())
        )
        if stale:
            self.issue_serving(ca)
            log.info("issued a serving certificate for %s", self.settings.webhook_service)
        self.files.reload()
        self.ca = ca
        if not await patch_ca_bundles(kube, self.settings, _b64(ca.cert), self.metrics):
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

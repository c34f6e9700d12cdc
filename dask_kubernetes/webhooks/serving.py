"""The serving certificate on disk: the files uvicorn reads, and reloading them in place.

Whoever writes the files (the webhook's own CA, see :mod:`.tls`, or cert-manager
through a mounted Secret), :class:`ServingFiles` loads a changed pair into the live
SSL context, so new handshakes use it without a restart.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import logging
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dask_kubernetes import pki
from dask_kubernetes.webhooks.metrics import Metrics
from dask_kubernetes.webhooks.state import BackgroundTask, WebhookState

log = logging.getLogger(__name__)


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

    def write(self, pair: pki.KeyPair) -> None:
        """Write a new pair where uvicorn reads it, each file replaced in one step."""
        self.cert.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.key, pair.key, 0o600)
        _write_atomically(self.cert, pair.cert, 0o644)


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


def watch_files(files: ServingFiles, interval: float) -> BackgroundTask:
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

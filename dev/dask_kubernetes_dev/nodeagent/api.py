"""A small asyncio Kubernetes API client for the node agent (test infrastructure only).

The agent needs a handful of verbs, long-running watches and retries with back-off,
all from one event loop with one task per Pod.  The official ``kubernetes`` client is
synchronous, so only its kubeconfig loader is reused; requests go through aiohttp.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"


class ApiError(Exception):
    """The API server answered with a status the caller has to handle (404, 409, 422, ...)."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:500]}")
        self.status = status
        self.body = body


class Backoff:
    """Exponential back-off delays for retries: doubling from ``initial`` up to ``cap``."""

    def __init__(self, initial: float = 0.2, cap: float = 5.0) -> None:
        self.initial = initial
        self.cap = cap
        self.current = initial

    def next(self) -> float:
        """Return the delay to wait now and double the next one."""
        delay = self.current
        self.current = min(self.cap, self.current * 2)
        return delay

    def reset(self) -> None:
        """Start again from the initial delay after a success."""
        self.current = self.initial


class KubeAPI:
    """Authenticated requests and watches against one API server."""

    def __init__(self, server: str, headers: Mapping[str, str], ssl_context: ssl.SSLContext) -> None:
        self.server = server.rstrip("/")
        self._headers = dict(headers)
        self._ssl = ssl_context
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_kubeconfig(cls, path: Path) -> KubeAPI:
        """Build a client from a kubeconfig, through the official client's loader."""
        from kubernetes import client, config

        cfg = client.Configuration()
        config.load_kube_config(config_file=str(path), client_configuration=cfg)
        ctx = (
            ssl.create_default_context(cafile=cfg.ssl_ca_cert)
            if cfg.ssl_ca_cert
            else ssl.create_default_context()
        )
        if not cfg.verify_ssl:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if cfg.cert_file:
            ctx.load_cert_chain(cfg.cert_file, cfg.key_file)
        headers = {}
        token = cfg.api_key.get("authorization") or cfg.api_key.get("BearerToken")
        if token:
            headers["Authorization"] = token if token.startswith("Bearer ") else f"Bearer {token}"
        return cls(cfg.host, headers, ctx)

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared HTTP session; unlimited connections because every watch holds one."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self._ssl, limit=0),
                headers=self._headers,
                read_bufsize=2**21,
            )
        return self._session

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = JSON,
        retry_for: float | None = 120.0,
        timeout: float = 30.0,
    ) -> Any:
        """Send one request, retrying connection errors and 429/5xx for up to ``retry_for`` seconds.

        ``retry_for=None`` retries forever, for writes that must eventually land.  Other
        error statuses raise :class:`ApiError` at once so the caller can react to them.
        """
        loop = asyncio.get_running_loop()
        deadline = None if retry_for is None else loop.time() + retry_for
        backoff = Backoff()
        data = None if body is None else json.dumps(body)
        headers = {"Content-Type": content_type, "Accept": JSON} if data is not None else {"Accept": JSON}
        while True:
            try:
                async with self.session.request(
                    method,
                    self.server + path,
                    params=params,
                    data=data,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=timeout),
                ) as resp:
                    text = await resp.text()
                    if resp.status < 300:
                        return json.loads(text) if text else None
                    if resp.status not in RETRY_STATUSES:
                        raise ApiError(resp.status, text)
                    failure = f"HTTP {resp.status}"
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                failure = repr(exc)
            if deadline is not None and loop.time() >= deadline:
                raise ApiError(0, f"{method} {path} kept failing: {failure}")
            delay = backoff.next()
            log.debug("retrying %s %s in %.1fs after %s", method, path, delay, failure)
            await asyncio.sleep(delay)

    async def get(self, path: str, **params: str) -> Any:
        """GET an object or list."""
        return await self.request("GET", path, params=params or None)

    async def get_optional(self, path: str) -> dict[str, Any] | None:
        """GET an object, or None when the API server answers 404 Not Found."""
        try:
            obj: dict[str, Any] = await self.get(path)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return obj

    async def post(self, path: str, body: Any) -> Any:
        """Create an object."""
        return await self.request("POST", path, body=body)

    async def merge_patch(self, path: str, body: Any, *, retry_for: float | None = 120.0) -> Any:
        """Apply a JSON merge patch; lists in ``body`` replace the stored lists whole."""
        return await self.request("PATCH", path, body=body, content_type=MERGE_PATCH, retry_for=retry_for)

    async def delete(self, path: str, body: Any = None) -> Any:
        """Delete an object, with optional DeleteOptions."""
        return await self.request("DELETE", path, body=body)

    async def watch(
        self, path: str, params: Mapping[str, str] | None = None
    ) -> AsyncIterator[tuple[str, Any]]:
        """List then watch ``path`` forever, yielding ``("SYNC", items)`` and ``(type, object)``.

        A ``SYNC`` carries the full list after every (re-)list, so the consumer can drop
        objects it missed the deletion of.  410 Gone and broken connections lead to a
        re-list or a resumed watch, with back-off; the generator never ends by itself.
        """
        params = dict(params or {})
        resource_version: str | None = None
        backoff = Backoff(0.5, 10.0)
        while True:
            if resource_version is None:
                try:
                    listing = await self.request("GET", path, params=params, retry_for=None, timeout=60)
                except ApiError as exc:
                    log.warning("listing %s failed: %s", path, exc)
                    await asyncio.sleep(backoff.next())
                    continue
                resource_version = listing["metadata"]["resourceVersion"]
                yield "SYNC", listing.get("items") or []
            query = {
                **params,
                "watch": "1",
                "resourceVersion": resource_version,
                "allowWatchBookmarks": "true",
                "timeoutSeconds": "300",
            }
            try:
                async with self.session.get(
                    self.server + path,
                    params=query,
                    timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=330),
                ) as resp:
                    if resp.status == 410:
                        resource_version = None
                        continue
                    if resp.status != 200:
                        raise ApiError(resp.status, await resp.text())
                    async for line in resp.content:
                        if not line.strip():
                            continue
                        event = json.loads(line)
                        kind, obj = event.get("type"), event.get("object") or {}
                        if kind == "ERROR":
                            if obj.get("code") == 410:
                                resource_version = None
                            else:
                                log.warning("watch %s error: %s", path, obj.get("message"))
                                await asyncio.sleep(backoff.next())
                            break
                        resource_version = obj["metadata"]["resourceVersion"]
                        backoff.reset()
                        if kind != "BOOKMARK":
                            yield kind, obj
            except (aiohttp.ClientError, TimeoutError, OSError, ValueError, ApiError) as exc:
                log.info("watch %s interrupted (%r); resuming", path, exc)
                await asyncio.sleep(backoff.next())

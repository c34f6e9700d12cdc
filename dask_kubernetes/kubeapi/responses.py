"""Decoding the API server's answers: raw responses, custom objects, and its own error messages."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from typing import Any

from kubernetes_asyncio.client.rest import ApiException


async def read(response: Any) -> bytes:
    """Read a raw (``_preload_content=False``) response; errors raise ApiException.

    Raw responses skip the client's own status check, so it is done here.  The
    stubs type such a call's result as the decoded model, hence ``Any``.
    """
    body: bytes = await response.read()
    if response.status >= 400:
        exc = ApiException(status=response.status, reason=response.reason)
        exc.body = body
        raise exc
    return body


async def decode_json(response: Any) -> dict[str, Any]:
    """Decode a raw response's JSON object; errors raise ApiException."""
    data: dict[str, Any] = json.loads(await read(response))
    return data


async def raw(pending: Awaitable[Any], *, unless: int | None = None) -> dict[str, Any] | None:
    """Await a raw call and decode it; None when the API answers with status ``unless``."""
    try:
        return await decode_json(await pending)
    except ApiException as exc:
        if unless is not None and exc.status == unless:
            return None
        raise


async def decoded(pending: Awaitable[Any]) -> dict[str, Any]:
    """Await a call the client decodes itself (custom objects come back as dicts)."""
    data: dict[str, Any] = await pending
    return data


def api_message(exc: BaseException) -> str:
    """Return the API server's own message of an error (its Status ``message``), for status and events."""
    if not isinstance(exc, ApiException):
        return str(exc) or type(exc).__name__
    try:
        status = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        status = {}
    message = status.get("message") if isinstance(status, dict) else None
    return str(message or f"{exc.status} {exc.reason}")

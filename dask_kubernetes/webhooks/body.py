"""Read a request body up to a limit, refusing a larger one before buffering it.

``await request.body()`` buffers whatever the client sends; one 500 MB request
would take the webhook (limit 256Mi, ``failurePolicy: Fail``) past its memory and
take validation down for the whole cluster.  :func:`read_limited` refuses from the
``Content-Length`` header before reading anything, and otherwise (a chunked body
has none) counts while streaming and stops at the first chunk past the limit.
uvicorn reads the socket only as the app asks for more, so the unread rest of the
body is never held in memory.
"""

from __future__ import annotations

from fastapi import Request


class BodyTooLarge(Exception):
    """A body over the limit; answered with 413 and never read further."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        self.limit = limit
        self.declared = declared
        size = f"{declared} bytes" if declared is not None else "more than that"
        super().__init__(f"the body is larger than the webhook accepts ({limit} bytes): {size}")


class BadLength(ValueError):
    """A ``Content-Length`` that is not a non-negative integer; answered with 400."""


async def read_limited(request: Request, limit: int) -> bytes:
    """Return the whole body, or raise :class:`BodyTooLarge` as soon as it is known to exceed ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise BadLength(f"Content-Length {declared[:32]!r} is not a number of bytes")
        if int(declared) > limit:
            raise BodyTooLarge(limit, int(declared))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)

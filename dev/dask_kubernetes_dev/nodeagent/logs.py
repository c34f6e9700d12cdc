"""Container log files and the kubelet's log endpoint (node agent, test infrastructure only).

Container output is stored in the CRI log format (``<RFC3339Nano> <stream> <P|F> <text>``),
one file per container run, so ``--timestamps``, ``--since`` and ``--previous`` can be
answered.  :class:`LogServer` serves ``/containerLogs/{ns}/{pod}/{container}`` over HTTPS
at the Node's InternalIP, where the API server's ``pods/log`` proxy looks for a kubelet;
that is how ``kubectl logs`` and ``KubeCluster.get_logs()`` reach local processes.  With
the Go streaming endpoint (:mod:`.streaming`) in front, it serves plain HTTP on a unix
socket instead and the Go side forwards the log requests.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from aiohttp import web

from dask_kubernetes import pki
from dask_kubernetes.api import times

log = logging.getLogger(__name__)

MAX_LINE = 16 * 1024


def parse_timestamp(text: str) -> datetime.datetime:
    """Parse an RFC 3339 time with any number of fraction digits; ValueError when malformed."""
    parsed = times.parse_datetime(text)
    if parsed is None:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    return parsed


def format_line(when: datetime.datetime, stream: str, content: bytes, *, partial: bool) -> bytes:
    """One CRI log line; ``content`` carries no newline."""
    return (
        f"{times.format_nano_datetime(when)} {stream} {'P' if partial else 'F'} ".encode() + content + b"\n"
    )


@dataclass(frozen=True)
class Entry:
    """One parsed CRI log line."""

    timestamp: str
    stream: str
    partial: bool
    content: bytes

    def render(self, timestamps: bool) -> bytes:
        """The bytes ``kubectl logs`` shows for this line."""
        prefix = (self.timestamp + " ").encode() if timestamps else b""
        return prefix + self.content + (b"" if self.partial else b"\n")


def parse_line(line: bytes) -> Entry | None:
    """Parse one CRI line (without its newline); ``None`` for a malformed one."""
    parts = line.split(b" ", 3)
    if len(parts) < 3:
        return None
    content = parts[3] if len(parts) == 4 else b""
    return Entry(parts[0].decode(), parts[1].decode(), parts[2] == b"P", content)


class LogWriter:
    """Turns a process's stdout and stderr chunks into CRI lines in one file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[bytes] = path.open("ab", buffering=0)
        self._pending: dict[str, bytes] = {"stdout": b"", "stderr": b""}

    def feed(self, stream: str, chunk: bytes) -> None:
        """Write the complete lines in ``chunk``; keep a trailing partial line for later."""
        data = self._pending[stream] + chunk
        *lines, rest = data.split(b"\n")
        when = datetime.datetime.now(datetime.UTC)
        out: list[bytes] = []
        pieces = [*lines, rest]
        for index, piece in enumerate(pieces):
            while len(piece) > MAX_LINE:  # over-long lines become partial lines, as CRI runtimes do
                out.append(format_line(when, stream, piece[:MAX_LINE], partial=True))
                piece = piece[MAX_LINE:]
            if index < len(lines):
                out.append(format_line(when, stream, piece, partial=False))
            else:
                self._pending[stream] = piece
        if out:
            self._file.write(b"".join(out))

    def close(self) -> None:
        """Flush what is left of each stream as a final line and close the file."""
        when = datetime.datetime.now(datetime.UTC)
        for stream, rest in self._pending.items():
            if rest:
                self._file.write(format_line(when, stream, rest, partial=False))
        self._pending = {"stdout": b"", "stderr": b""}
        self._file.close()


@dataclass(frozen=True)
class LogOptions:
    """The query parameters of a kubelet log request."""

    follow: bool = False
    tail: int | None = None
    timestamps: bool = False
    since: datetime.datetime | None = None
    limit_bytes: int | None = None
    previous: bool = False

    @classmethod
    def from_query(cls, query: dict[str, str]) -> LogOptions:
        """Parse ``follow``, ``tailLines``, ``timestamps``, ``sinceSeconds``/``sinceTime``, ``limitBytes``."""

        def flag(name: str) -> bool:
            return query.get(name, "").lower() in ("true", "1")

        since = None
        if query.get("sinceTime"):
            since = parse_timestamp(query["sinceTime"])
        elif query.get("sinceSeconds"):
            since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(
                seconds=int(query["sinceSeconds"])
            )
        tail = int(query["tailLines"]) if query.get("tailLines") not in (None, "") else None
        limit = int(query["limitBytes"]) if query.get("limitBytes") not in (None, "") else None
        return cls(flag("follow"), tail, flag("timestamps"), since, limit, flag("previous"))


def select(entries: list[Entry], options: LogOptions) -> list[Entry]:
    """Apply ``since`` and ``tail`` to the lines already written."""
    if options.since is not None:
        entries = [e for e in entries if parse_timestamp(e.timestamp) >= options.since]
    if options.tail is not None:
        entries = entries[-options.tail :] if options.tail > 0 else []
    return entries


def _complete_lines(data: bytes) -> tuple[list[Entry], int]:
    """Parse the complete lines of ``data``; return them and how many bytes they used."""
    end = data.rfind(b"\n") + 1
    entries = [e for e in (parse_line(line) for line in data[:end].split(b"\n") if line) if e is not None]
    return entries, end


async def stream_log(path: Path, options: LogOptions, finished: Callable[[], bool]) -> AsyncIterator[bytes]:
    """Yield a log's rendered lines; with ``follow``, keep going until the container ended."""
    sent = 0

    def limited(chunk: bytes) -> bytes:
        nonlocal sent
        if options.limit_bytes is not None:
            chunk = chunk[: max(0, options.limit_bytes - sent)]
        sent += len(chunk)
        return chunk

    with path.open("rb") as handle:
        entries, offset = _complete_lines(handle.read())
        chunk = limited(b"".join(e.render(options.timestamps) for e in select(entries, options)))
        if chunk:
            yield chunk
        while options.follow and (options.limit_bytes is None or sent < options.limit_bytes):
            done = finished()
            handle.seek(offset)
            entries, used = _complete_lines(handle.read())
            offset += used
            if options.since is not None:
                entries = select(entries, LogOptions(since=options.since))
            chunk = limited(b"".join(e.render(options.timestamps) for e in entries))
            if chunk:
                yield chunk
            elif done:
                return
            else:
                await asyncio.sleep(0.2)


@dataclass(frozen=True)
class LogSource:
    """A container run's log file and whether that run has ended (for ``follow``)."""

    path: Path
    finished: Callable[[], bool]


class LogLookupError(Exception):
    """No log for the request; carries the HTTP status the kubelet would answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


Resolver = Callable[[str, str, str, bool], LogSource]


def write_serving_certificate(cert_dir: Path, host: str) -> tuple[Path, Path]:
    """Write a self-signed kubelet serving certificate for ``host``; return the cert and key paths.

    The API server does not verify kubelet certificates here (no ``--kubelet-certificate-authority``).
    """
    ca = pki.make_ca("dask-kubernetes-node-agent-ca")
    serving = pki.issue(ca, "node-agent", dns_names=["localhost"], ip_addresses=[host])
    cert_dir.mkdir(parents=True, exist_ok=True)
    cert, key = cert_dir / "kubelet.crt", cert_dir / "kubelet.key"
    cert.write_bytes(serving.cert + ca.cert)
    key.write_bytes(serving.key)
    key.chmod(0o600)
    return cert, key


class LogServer:
    """HTTPS server at the gateway IP with the kubelet's ``/containerLogs`` path."""

    def __init__(
        self, host: str, cert_dir: Path, resolve: Resolver, routes: Sequence[web.RouteDef] = ()
    ) -> None:
        self.host = host
        self.cert_dir = cert_dir
        self.resolve = resolve
        self.routes = list(routes)
        self.port = 0
        self._runner: web.AppRunner | None = None

    def _ssl(self) -> ssl.SSLContext:
        cert, key = write_serving_certificate(self.cert_dir, self.host)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        return ctx

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/containerLogs/{namespace}/{pod}/{container}", self._logs)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_routes(self.routes)
        return app

    async def start(self) -> int:
        """Listen on a free port of the gateway IP; return the port for the Node's daemonEndpoints."""
        self._runner = web.AppRunner(self._app(), access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock, ssl_context=self._ssl()).start()
        return self.port

    async def start_unix(self, path: Path) -> None:
        """Serve plain HTTP on a root-only unix socket, behind the Go kubelet endpoint (:mod:`.streaming`)."""
        self._runner = web.AppRunner(self._app(), access_log=None)
        await self._runner.setup()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        await web.UnixSite(self._runner, str(path)).start()
        path.chmod(0o600)

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _logs(self, request: web.Request) -> web.StreamResponse:
        try:
            options = LogOptions.from_query(dict(request.query))
        except ValueError as exc:
            return web.Response(status=400, text=f"bad query: {exc}")
        info = request.match_info
        try:
            source = self.resolve(info["namespace"], info["pod"], info["container"], options.previous)
        except LogLookupError as exc:
            return web.Response(status=exc.status, text=str(exc))
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        try:
            async for chunk in stream_log(source.path, options, source.finished):
                await response.write(chunk)
        except (ConnectionResetError, FileNotFoundError):
            return response
        await response.write_eof()
        return response

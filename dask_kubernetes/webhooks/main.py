"""``dask-kubernetes webhook``: get a serving certificate, then serve the app with uvicorn over TLS."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

import uvicorn
from pydantic import ValidationError

from dask_kubernetes.settings import Settings
from dask_kubernetes.webhooks import app, metrics, tls


def main(argv: Sequence[str]) -> int:
    """Run the webhook until SIGTERM; flags override the ``DASK_OPERATOR_WEBHOOK_*`` settings."""
    parser = argparse.ArgumentParser(prog="dask-kubernetes webhook", description=__doc__)
    parser.add_argument("--host", dest="webhook_host")
    parser.add_argument("--port", dest="webhook_port", type=int)
    parser.add_argument("--cert-file", dest="webhook_cert_file", help="serving certificate (else own CA)")
    parser.add_argument("--key-file", dest="webhook_key_file")
    args = parser.parse_args(list(argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings(**{k: v for k, v in vars(args).items() if v is not None})
        registry = metrics.Metrics()
        files, tasks = asyncio.run(tls.prepare(settings, registry))
    except (ValidationError, tls.TLSError) as exc:
        print(f"dask-kubernetes webhook: {exc}", file=sys.stderr)
        return 2
    webhook = app.create_app(settings, connect=True, tasks=tasks, metrics=registry)
    config = uvicorn.Config(
        webhook,
        host=settings.webhook_host,
        port=settings.webhook_port,
        ssl_certfile=str(files.cert),
        ssl_keyfile=str(files.key),
        access_log=settings.webhook_access_log,
        server_header=False,
        lifespan="on",
        # Longer than the API server's idle keep-alive (90 s): when uvicorn closed an idle
        # connection first (its default is 5 s), a request the API server sent on it at that
        # moment failed with EOF, and a fail-closed webhook refused the user's apply.
        timeout_keep_alive=120,
    )
    config.load()
    files.context = config.ssl  # renewals load into the live context (tls.ServingFiles.reload)
    uvicorn.Server(config).run()
    return 0

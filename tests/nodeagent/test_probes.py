import asyncio

import aiohttp
import pytest
from aiohttp import web

from dask_kubernetes_dev.nodeagent import probes


def test_timing_defaults():
    timing = probes.ProbeTiming.from_spec({"periodSeconds": 2})
    assert (timing.period, timing.timeout, timing.failure_threshold, timing.success_threshold) == (2, 1, 3, 1)


def test_resolve_port():
    container = {"name": "c", "ports": [{"name": "http", "containerPort": 8787}]}
    assert probes.resolve_port("http", container) == 8787
    assert probes.resolve_port(80, container) == 80
    assert probes.resolve_port("81", container) == 81
    with pytest.raises(ValueError):
        probes.resolve_port("nope", container)


def test_run_probe_reports_flips_after_thresholds():
    results = iter([False, True, True, False, False, True])
    reports = []

    async def check():
        try:
            return next(results)
        except StopIteration:
            raise asyncio.CancelledError from None

    timing = probes.ProbeTiming(period=0, success_threshold=2, failure_threshold=2)
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(probes.run_probe(timing, check, reports.append))
    assert reports == [True, False]


def test_startup_probe_stops_after_success():
    calls = []

    async def check():
        calls.append(1)
        return len(calls) >= 2

    reports = []
    asyncio.run(probes.run_probe(probes.ProbeTiming(period=0), check, reports.append, stop_on_success=True))
    assert reports == [True] and len(calls) == 2


def test_http_and_tcp_checks_against_a_local_server():
    async def go():
        app = web.Application()

        async def health(request):
            return web.Response(text="ok")

        async def bad(request):
            return web.Response(status=500)

        app.router.add_get("/health", health)
        app.router.add_get("/bad", bad)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        container = {"name": "c", "ports": [{"name": "web", "containerPort": port}]}
        async with aiohttp.ClientSession() as session:

            def make(probe):
                return probes.make_check(
                    probe, container=container, pod_ip="127.0.0.1", pid=0, env={}, session=session
                )

            results = [
                await make({"httpGet": {"path": "/health", "port": "web"}})(),
                await make({"httpGet": {"path": "/bad", "port": port}})(),
                await make({"tcpSocket": {"port": port}})(),
                await make({"tcpSocket": {"port": 1}})(),
                await make({"httpGet": {"path": "/", "port": "missing"}})(),
            ]
        await runner.cleanup()
        return results

    assert asyncio.run(go()) == [True, False, True, False, False]

"""Fixtures of the fast tier: fake time (looptime) and a fake world, no control plane."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import looptime
import pytest

from tests.operator.fast.fakes import World


@pytest.fixture
def run() -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """Run a coroutine on an event loop with fake time: sleeps pass instantly, in order."""

    def runner(coro: Coroutine[Any, Any, Any]) -> Any:
        loop = looptime.new_event_loop(start=0)
        try:
            return loop.run_until_complete(coro)
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            asyncio.set_event_loop(None)

    return runner


@pytest.fixture
def world() -> World:
    return World()

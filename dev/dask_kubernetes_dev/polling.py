"""The one polling loop of the harness, the tests and the benchmarks.

Timeouts here only bound a failing wait; nothing asserts how long anything took.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["TimedOut", "wait_for"]

T = TypeVar("T")


class TimedOut(AssertionError):
    """A wait ran out of time; the message names what it waited for."""


def wait_for(
    predicate: Callable[[], T],
    *,
    timeout: float,
    what: str,
    interval: float = 0.5,
    transient: tuple[type[BaseException], ...] = (),
    error: type[Exception] = TimedOut,
) -> T:
    """Call ``predicate`` every ``interval`` seconds until it returns something truthy; return that.

    After ``timeout`` seconds raise ``error`` (:class:`TimedOut`) naming ``what`` and
    the last value seen.  An exception of a ``transient`` type counts as "not yet"
    (the timeout then names the last one); any other propagates at once.  The
    predicate is called at least once.
    """
    deadline = time.monotonic() + timeout
    last_seen: object = None
    last_error: BaseException | None = None
    while True:
        try:
            result = predicate()
            if result:
                return result
            last_seen = result
        except transient as exc:
            last_error = exc
        if time.monotonic() > deadline:
            if last_error is not None:
                detail = f"last error: {(str(last_error).splitlines() or [''])[0][:200]}"
            else:
                detail = f"last seen: {last_seen!r}"
            raise error(f"timed out after {timeout:g} s waiting for {what} ({detail})")
        time.sleep(interval)

"""Times as the Kubernetes API writes them: RFC 3339 in UTC.

``metav1.Time`` has whole seconds (``2026-12-02T15:04:05Z``); ``metav1.MicroTime``
(Leases, Events' ``eventTime``) has microseconds.  Reading accepts either, and a
fraction of any length (CRI log lines carry nanoseconds).  Every module that reads
or writes an API time uses these, so there is one place that knows the format.
"""

from __future__ import annotations

import datetime
import re

_FRACTION = re.compile(r"\.(\d+)")


def format_time(when: float) -> str:
    """Format a Unix time as ``metav1.Time``: whole seconds, UTC."""
    return datetime.datetime.fromtimestamp(when, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(when: float) -> str:
    """Format a Unix time as ``metav1.MicroTime``: microseconds, UTC."""
    return datetime.datetime.fromtimestamp(when, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_datetime(value: datetime.datetime, *, micro: bool = False) -> str:
    """Format an aware or naive-UTC datetime as ``metav1.Time`` (or ``MicroTime``)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")


def now() -> str:
    """The current time as ``metav1.Time``."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value: object) -> datetime.datetime | None:
    """Parse an API time into an aware UTC datetime; None when absent or malformed.

    Python keeps microseconds, so a longer fraction is cut to six digits.
    """
    if not value or not isinstance(value, str):
        return None
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value.strip())
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(datetime.UTC)


def parse_time(value: object) -> float | None:
    """Parse an API time into a Unix time; None when absent or malformed."""
    parsed = parse_datetime(value)
    return None if parsed is None else parsed.timestamp()


def format_nano_datetime(value: datetime.datetime) -> str:
    """Format a UTC datetime as RFC 3339 with nanoseconds, as CRI log lines carry it.

    Python keeps microseconds, so the last three digits are always zero.
    """
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"

"""Kubernetes resource quantities (``500m``, ``2``, ``6Gi``, ``1e3``) as exact decimals.

The CRD schema only says a quantity is an integer or a string, so the webhook has to
parse them itself to compare requests with limits, and ``--memory-limit`` with the
container's memory.  The grammar is the API server's (``resource.ParseQuantity``).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
)
# Exponents past this are not quantities anyone means; refuse them rather than
# building enormous decimals from hostile input.
_MAX_EXPONENT = 40


def parse(value: Any) -> Decimal | None:
    """Return the quantity's value, or None when ``value`` is not a valid quantity."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if not isinstance(value, str) or len(value) > 64:
        return None
    match = _QUANTITY.match(value)
    if not match:
        return None
    try:
        number = Decimal(match["number"])
    except InvalidOperation:  # pragma: no cover - the pattern only admits decimals
        return None
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    exponent = int(suffix[1:])
    if abs(exponent) > _MAX_EXPONENT:
        return None
    return number.scaleb(exponent)


def describe(value: Decimal) -> str:
    """Render a parsed quantity for a message, without a trailing ``.000``."""
    normal = value.normalize()
    return f"{normal:f}" if normal == normal.to_integral() else str(normal)

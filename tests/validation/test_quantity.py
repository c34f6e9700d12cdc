"""Kubernetes quantities, parsed as the API server does."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dask_kubernetes.validation import quantity


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Decimal("0.5")),
        ("2", Decimal(2)),
        (2, Decimal(2)),
        ("1.5", Decimal("1.5")),
        (".5", Decimal("0.5")),
        ("6Gi", Decimal(6 * 2**30)),
        ("6G", Decimal(6 * 10**9)),
        ("128974848", Decimal(128974848)),
        ("129e6", Decimal(129 * 10**6)),
        ("123Mi", Decimal(123 * 2**20)),
        ("+1k", Decimal(1000)),
        ("1E3", Decimal(1000)),
    ],
)
def test_valid_quantities(text, value):
    assert quantity.parse(text) == value


@pytest.mark.parametrize(
    "text", ["", "two", "1.5.5", "Gi", "1 Gi", "1gi", "1e999", True, None, 1.5, [], "1" * 65]
)
def test_invalid_quantities(text):
    assert quantity.parse(text) is None


def test_describe_drops_trailing_zeros():
    assert quantity.describe(Decimal("2.000")) == "2"
    assert quantity.describe(Decimal("0.50")) == "0.5"

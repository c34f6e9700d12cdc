"""Field errors: what is wrong, and exactly where."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class FieldError:
    """One problem with one field, named by its path (``spec.worker.spec.containers[0].image``).

    ``cause`` is the Kubernetes ``StatusCause`` type the webhook reports it as
    (``FieldValueInvalid``, ``FieldValueRequired``, ...), so clients that read
    ``details.causes[]`` see the same vocabulary the API server itself uses.
    """

    path: str
    message: str
    cause: str = "FieldValueInvalid"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def field_path(parts: Iterable[str | int]) -> str:
    """Join JSON path parts the way Kubernetes names fields: dots, and [i] for list items."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<root>"

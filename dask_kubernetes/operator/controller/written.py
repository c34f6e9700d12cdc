"""Spec fields a reconcile writes into a child, written once per change.

If the API server stores a value differently from how it was sent (defaults,
pruning), comparing the child with the wanted value would write it again on every
reconcile.  So the value written last, with the child's generation after the
write, is remembered: the same value is not written again until the child
changes or the wanted value does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dask_kubernetes.api import naming
from dask_kubernetes.operator.runtime.context import Context, Key


@dataclass
class WrittenSpecs:
    """Per child: (hash of the value written, the child's generation after the write)."""

    last: dict[Key, tuple[str, Any]] = field(default_factory=dict)


async def replace_once(
    ctx: Context, plural: str, child: dict[str, Any], path: str, want: Any
) -> dict[str, Any]:
    """Replace the field at ``path`` of ``child`` with ``want``, unless it was written already."""
    meta = child["metadata"]
    key = (plural, meta["namespace"], meta["name"])
    last = ctx.cache(WrittenSpecs).last
    if last.get(key) == (naming.template_hash(want), meta.get("generation")):
        return child
    updated: dict[str, Any] = await ctx.kube.replace_field(
        plural, meta["namespace"], meta["name"], path, want
    )
    ctx.store.remember(plural, updated)
    last[key] = (naming.template_hash(want), updated["metadata"].get("generation"))
    return updated

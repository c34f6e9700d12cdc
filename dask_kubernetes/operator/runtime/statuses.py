"""Write status subresources only when something changed, with kstatus conditions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dask_kubernetes.api import bodies
from dask_kubernetes.operator.decisions import conditions
from dask_kubernetes.operator.runtime.context import Context


async def write(
    ctx: Context,
    plural: str,
    obj: Mapping[str, Any],
    fields: Mapping[str, Any],
    verdict: conditions.Verdict,
    *,
    observed: bool = True,
    guarded: bool = False,
) -> bool:
    """Merge ``fields`` and the verdict's conditions into the status; skip the call if nothing changed.

    ``observed`` says the operator acted on the current generation; only then does
    ``observedGeneration`` move (kstatus reads an object as current from it).
    ``guarded`` makes the write conditional on the object's resourceVersion: for
    transitions that must happen once (a DaskJob's attempt count).
    """
    meta = obj["metadata"]
    old = bodies.status_of(obj)
    generation = int(meta.get("generation") or 0)
    if not observed:
        generation = int(old.get("observedGeneration") or 0)
    new = dict(fields)
    new["observedGeneration"] = generation
    new["conditions"] = conditions.apply_verdict(bodies.conditions_of(obj), verdict, generation)
    if not conditions.status_changed(old, new):
        return False
    version = str(meta.get("resourceVersion")) if guarded and meta.get("resourceVersion") else None
    written = await ctx.kube.patch_status(
        plural, meta["namespace"], meta["name"], new, resource_version=version
    )
    if written is not None:
        ctx.store.remember(plural, written)
    return True


def stalled_message(obj: Mapping[str, Any]) -> str | None:
    """Return the message of a Stalled=True condition already recorded, if any."""
    stalled = bodies.condition(obj, conditions.STALLED)
    if stalled is not None and stalled.get("status") == "True":
        return str(stalled.get("message", ""))
    return None

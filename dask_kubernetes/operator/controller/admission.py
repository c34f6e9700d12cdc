"""Before a reconcile builds children: its own check of the spec, and the API server's dry run.

:func:`reject_if_unbuildable` checks only what the operator needs to build
objects (:mod:`dask_kubernetes.operator.decisions.buildable`); :func:`admit`
asks the API server, in a dry run, whether it would take a Pod of a new
template, so Pod Security, quotas and other webhooks answer before anything
is created.  Templates admitted once are remembered in :class:`AdmittedTemplates`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dask_kubernetes.api import constants
from dask_kubernetes.operator.decisions import buildable, conditions
from dask_kubernetes.operator.runtime import children, statuses
from dask_kubernetes.operator.runtime.context import Context


@dataclass
class AdmittedTemplates:
    """Pod templates the API server admitted in a dry run: (namespace, owner, template) -> until when."""

    until: dict[tuple[str, str, str], float] = field(default_factory=dict)


async def reject_if_unbuildable(
    ctx: Context, plural: str, obj: Mapping[str, Any], extra: Mapping[str, Any]
) -> bool:
    """Check what the operator needs to build children; on errors set Stalled and return True.

    Only that: admission rules (the webhook's) are not run again here, so a
    stricter rule in a new release never stalls a running cluster.  What the API
    server would refuse in a Pod is found by the dry run (:func:`admit`).
    """
    errors = buildable.problems(plural, obj)
    if not errors:
        return False
    message = "invalid spec: " + "; ".join(errors)
    if statuses.stalled_message(obj) != message:
        await ctx.events.warning(obj, constants.REASON_INVALID_SPEC, message)
    verdict = conditions.Verdict(
        ready=False, reason=constants.REASON_INVALID_SPEC, message=message, stalled=True
    )
    await statuses.write(ctx, plural, obj, extra, verdict)
    return True


async def admit(ctx: Context, owner: Mapping[str, Any], pod: Mapping[str, Any], template: str) -> None:
    """Dry-run a Pod of a new template on the API server; raise :class:`Refused` if refused.

    The API server's own validation, Pod Security admission, quotas and webhooks
    answer, and a refusal reaches the owner's status instead of the log.  A
    template admitted once is trusted for ``admission_recheck`` seconds.
    """
    admitted = ctx.cache(AdmittedTemplates).until
    meta = owner["metadata"]
    key = (meta["namespace"], f"{owner['kind']}/{meta['name']}", template)
    if admitted.get(key, 0) > ctx.clock():
        return
    # A generated name: the Pod being replaced (the scheduler's) may still exist under the real one.
    probe = {**pod, "metadata": {**pod["metadata"], "generateName": f"{pod['metadata']['name'][:50]}-"}}
    del probe["metadata"]["name"]
    what = f"Pod {pod['metadata']['name']}"
    await children.refused_as(what, ctx.kube.create_pod(meta["namespace"], probe, dry_run=True))
    admitted[key] = ctx.clock() + ctx.settings.admission_recheck

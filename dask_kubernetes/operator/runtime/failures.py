"""Errors users can see: a refused Pod becomes Stalled, a persistent failure Reconciling.

The API server's own message goes into the condition and into a Warning Event
(rate-limited by :class:`.events.Recorder`), so ``kubectl describe`` tells what the
operator's log would.  A refusal is a verdict on the current generation (it moves
``observedGeneration``); a transient failure is not.
"""

from __future__ import annotations

from kubernetes_asyncio.client.rest import ApiException

from dask_kubernetes.api import constants
from dask_kubernetes.kubeapi import api_message
from dask_kubernetes.operator.decisions import conditions
from dask_kubernetes.operator.runtime import statuses
from dask_kubernetes.operator.runtime.context import Context

# API answers that only a change of spec or policy can turn around.
REFUSAL_CODES = (400, 403, 422)


class Refused(Exception):  # noqa: N818  (a verdict, not a bug)
    """The API server refused an object the operator built (Pod Security, quota, invalid)."""

    def __init__(self, what: str, message: str, *, retry_after: float = 60.0) -> None:
        super().__init__(f"{what} refused: {message}")
        self.what = what
        self.message = message
        self.retry_after = retry_after


def refusal(exc: BaseException, what: str) -> Refused | None:
    """Turn an API error into a :class:`Refused` when only a user can fix it; None otherwise."""
    if isinstance(exc, ApiException) and exc.status in REFUSAL_CODES:
        return Refused(what, api_message(exc))
    return None


async def report_refusal(ctx: Context, plural: str, namespace: str, name: str, refused: Refused) -> float:
    """Mark the object Stalled with the API server's message; recheck later (policy may change)."""
    obj = ctx.store.get(plural, namespace, name)
    if obj is not None and not obj["metadata"].get("deletionTimestamp"):
        message = str(refused)
        await ctx.events.warning(obj, constants.REASON_REFUSED, message)
        verdict = conditions.Verdict(False, constants.REASON_REFUSED, message, stalled=True)
        extra = {"phase": "Error"} if plural != constants.PLURAL_JOB else {}
        # A verdict on this generation: kstatus reads Stalled with a current
        # observedGeneration as Failed, so Flux and Argo CD stop waiting.
        await statuses.write(ctx, plural, obj, extra, verdict)
    return refused.retry_after


async def report_error(
    ctx: Context, plural: str, namespace: str, name: str, exc: BaseException, attempts: int
) -> None:
    """After a few failures in a row, show the error as Reconciling=True with its message."""
    if attempts < ctx.settings.error_report_after:
        return
    obj = ctx.store.get(plural, namespace, name)
    if obj is None or obj["metadata"].get("deletionTimestamp"):
        return
    message = f"reconcile failed {attempts} times in a row: {api_message(exc)}"
    await ctx.events.warning(obj, constants.REASON_RECONCILE_ERROR, message)
    verdict = conditions.Verdict(False, constants.REASON_RECONCILE_ERROR, message, reconciling=True)
    await statuses.write(ctx, plural, obj, {}, verdict, observed=False)

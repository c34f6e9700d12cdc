"""From a queue key to its reconcile, and from a failed reconcile to a status a user can see.

The :class:`~.context.Context` calls :func:`dispatch` for every key the work
queue hands out and :func:`on_error` for a reconcile that keeps failing; both
turn failures into status through :mod:`.failures`.
"""

from __future__ import annotations

from dask_kubernetes.operator.runtime import failures
from dask_kubernetes.operator.runtime.context import Context, Key


async def dispatch(ctx: Context, key: Key) -> float | None:
    """Run the reconcile of one object; a refusal becomes Stalled, with the API server's words."""
    plural, namespace, name = key
    try:
        return await ctx.reconcilers[plural](ctx, namespace, name)
    except failures.Refused as refusal:
        return await failures.report_refusal(ctx, plural, namespace, name, refusal)


async def on_error(ctx: Context, key: Key, exc: BaseException, attempts: int) -> None:
    """Report a reconcile that raised: its object reads Reconciling with the error after a few tries."""
    plural, namespace, name = key
    await failures.report_error(ctx, plural, namespace, name, exc, attempts)

"""DaskAutoscaler: poll the scheduler's adaptive target and scale one worker group.

The target is clamped to ``[minimum, maximum]``; scale-up is immediate, scale-down
waits until a lower target has held for a while (see
:func:`dask_kubernetes.operator.decisions.autoscaling.decide`).
"""

from __future__ import annotations

import time
from typing import Any, cast

import kopf

from dask_kubernetes.api import bodies, constants, naming, times
from dask_kubernetes.operator.controller import admission, preflight, schedulers
from dask_kubernetes.operator.decisions import autoscaling, conditions, suspension
from dask_kubernetes.operator.runtime import children, statuses
from dask_kubernetes.operator.runtime.context import Context
from dask_kubernetes.operator.runtime.scheduler_client import SchedulerUnreachable

PLURAL = constants.PLURAL_AUTOSCALER
RESOURCE = (constants.GROUP, constants.VERSION, PLURAL)


async def _scale(
    ctx: Context, scaler: bodies.DaskAutoscaler, group_name: str, current: int, replicas: int, target: int
) -> None:
    """Set the worker group's replicas, and say so in an event on the autoscaler."""
    patch = {"spec": {"worker": {"replicas": replicas}}}
    namespace = scaler["metadata"]["namespace"]
    patched = await ctx.kube.patch(constants.PLURAL_WORKER_GROUP, namespace, group_name, patch)
    ctx.store.remember(constants.PLURAL_WORKER_GROUP, patched)
    await ctx.events.normal(
        scaler,
        constants.REASON_AUTOSCALED,
        f"scaled {group_name} from {current} to {replicas} (scheduler wants {target})",
    )


async def reconcile(ctx: Context, namespace: str, name: str) -> float | None:
    """Poll the scheduler once and scale the target group if the decision changed; poll again soon."""
    scaler = cast("bodies.DaskAutoscaler | None", children.live(ctx, PLURAL, namespace, name))
    if scaler is None:
        return None
    if await admission.reject_if_unbuildable(ctx, PLURAL, scaler, {}):
        return None
    poll = ctx.settings.autoscaler_interval
    spec = scaler["spec"]
    cluster = spec["cluster"]
    cluster_obj = ctx.store.get(constants.PLURAL_CLUSTER, namespace, cluster)
    if cluster_obj is not None:
        await preflight.join_cluster(ctx, PLURAL, scaler, cluster_obj)
    group_name = spec.get("workerGroup") or naming.default_worker_group_name(cluster)
    status = bodies.status_of(scaler)
    fields: dict[str, Any] = {k: status[k] for k in ("desiredWorkers", "lastScaleTime") if k in status}
    if cluster_obj is not None and suspension.is_suspended(cluster_obj):
        message = f"DaskCluster {cluster!r} is suspended (spec.suspend): not scaling {group_name!r}"
        verdict = conditions.Verdict(True, constants.REASON_CLUSTER_SUSPENDED, message, suspended=True)
        await statuses.write(ctx, PLURAL, scaler, {**fields, "scaleDownSince": None}, verdict)
        return poll
    group = ctx.store.get(constants.PLURAL_WORKER_GROUP, namespace, group_name)
    address = schedulers.ready_scheduler(ctx, namespace, cluster)
    if group is None or address is None:
        message = f"waiting for worker group {group_name!r} and a ready scheduler of {cluster!r}"
        await statuses.write(
            ctx, PLURAL, scaler, fields, conditions.Verdict(False, "Waiting", message, reconciling=True)
        )
        return poll
    try:
        target = await ctx.scheduler(address).adaptive_target()
    except SchedulerUnreachable as exc:
        verdict = conditions.Verdict(False, "SchedulerUnreachable", str(exc), reconciling=True)
        await statuses.write(ctx, PLURAL, scaler, fields, verdict)
        return poll
    current = int(group["spec"]["worker"].get("replicas", 0))
    decision = autoscaling.decide(
        current=current,
        target=target,
        minimum=int(spec.get("minimum", 0)),
        maximum=int(spec["maximum"]),
        now=time.time(),
        below_since=times.parse_time(status.get("scaleDownSince")),
        scale_down_delay=ctx.settings.autoscaler_scale_down_delay,
    )
    if decision.replicas != current:
        await _scale(ctx, scaler, group_name, current, decision.replicas, target)
        fields["lastScaleTime"] = times.now()
    fields["desiredWorkers"] = decision.replicas
    fields["scaleDownSince"] = (
        None if decision.below_since is None else times.format_time(decision.below_since)
    )
    message = f"{group_name}: {decision.replicas} workers (scheduler wants {target})"
    await statuses.write(ctx, PLURAL, scaler, fields, conditions.Verdict(True, "Scaling", message))
    return poll


@kopf.on.event(*RESOURCE)
async def daskautoscaler_event(type: str | None, body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
    """Reconcile when the autoscaler changes; the queue then polls on a steady beat."""
    ctx: Context = memo.ctx
    ctx.observe(PLURAL, type, body, kwargs)

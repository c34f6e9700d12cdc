"""Retire workers through the scheduler before their Pods go, so that no data is lost.

The order is what makes it safe:

1. Choose the workers, only among the Pods of the group being scaled (or the
   old-template Pods of a rollout), preferring workers that hold the least data.
2. Record the choice on each Pod (``retiring: pending:<time>``) *before* asking
   the scheduler.  A restarted operator finds the mark and finishes that
   retirement instead of choosing other workers.
3. Ask the scheduler to retire exactly those workers, by address (HTTP API, then
   RPC).  It moves their data to other workers first.
4. Mark each worker it confirmed ``retired``, then delete its Pod.  A worker the
   scheduler does not know holds no data and is confirmed as is.
5. Only when the scheduler cannot be asked at all, remove the newest workers
   (LIFO) with a Warning Event saying their data may be lost.  A worker whose data
   could not be moved within ``retire_timeout`` is deleted with a Warning too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from dask_kubernetes.api import constants
from dask_kubernetes.operator.controller import schedulers
from dask_kubernetes.operator.decisions import pods, scaling
from dask_kubernetes.operator.runtime import children
from dask_kubernetes.operator.runtime.context import Context
from dask_kubernetes.operator.runtime.scheduler_client import SchedulerUnreachable, WorkerInfo

log = logging.getLogger(__name__)
RETRY_INCOMPLETE = 5.0  # seconds before asking again about workers not yet retired


async def _mark(ctx: Context, namespace: str, names: Sequence[str], value: str) -> None:
    for name in names:
        ctx.store.remember(
            "pods", await ctx.kube.annotate_pod(namespace, name, {constants.ANNOTATION_RETIRING: value})
        )


async def _ask_workers(ctx: Context, group: Mapping[str, Any]) -> tuple[Any, dict[str, WorkerInfo] | None]:
    """Return (client, connected workers), or (None, None) when the scheduler cannot be asked."""
    meta = group["metadata"]
    scheduler = schedulers.scheduler_pod(ctx, meta["namespace"], group["spec"]["cluster"])
    address = schedulers.scheduler_address(scheduler) if scheduler is not None else None
    if address is None:
        return None, None
    client = ctx.scheduler(address)
    try:
        return client, await client.workers()
    except SchedulerUnreachable as exc:
        log.warning("%s/%s: %s", meta["namespace"], meta["name"], exc)
        return None, None


async def _lifo(ctx: Context, group: Mapping[str, Any], plan: scaling.Plan) -> None:
    namespace = group["metadata"]["namespace"]
    chosen = list(plan.resume) + scaling.lifo(plan.candidates, plan.retire)
    await _mark(ctx, namespace, chosen, scaling.RETIRE_LIFO)
    await ctx.events.warning(
        group,
        constants.REASON_LIFO_FALLBACK,
        f"could not ask the scheduler which workers to retire; removing the newest {len(chosen)} "
        f"({', '.join(chosen)}): data held on them may be lost and recomputed",
    )
    for name in chosen:
        await children.delete_pod(ctx, namespace, name)


async def retire(
    ctx: Context, group: Mapping[str, Any], members: Sequence[Mapping[str, Any]], plan: scaling.Plan
) -> float | None:
    """Finish pending retirements and retire ``plan.retire`` more workers; return a requeue delay."""
    namespace = group["metadata"]["namespace"]
    client, workers = await _ask_workers(ctx, group)
    if client is None or workers is None:
        await _lifo(ctx, group, plan)
        return None
    addresses = scaling.worker_addresses(workers, members)
    held: dict[str, int | None] = {name: workers[addr].managed_bytes for name, addr in addresses.items()}
    victims = scaling.choose_victims(plan.candidates, plan.retire, held)
    now = ctx.clock()
    await _mark(ctx, namespace, victims, scaling.retiring_value(scaling.RETIRE_PENDING, now))
    targets = list(plan.resume) + victims
    connected = [addresses[name] for name in targets if name in addresses]
    try:
        retired = await client.retire_workers(connected) if connected else {}
    except SchedulerUnreachable as exc:
        log.warning("%s/%s: %s", namespace, group["metadata"]["name"], exc)
        await _lifo(ctx, group, scaling.Plan(resume=targets))
        return None
    confirmed = [name for name in targets if name not in addresses or addresses[name] in retired]
    await _mark(ctx, namespace, confirmed, scaling.RETIRE_DONE)
    if confirmed:
        how = getattr(client, "last_path", "") or "scheduler"
        await ctx.events.normal(
            group,
            constants.REASON_RETIRED,
            f"retired {len(confirmed)} worker(s) via {how}: {', '.join(confirmed)}",
        )
    for name in confirmed:
        await children.delete_pod(ctx, namespace, name)
    overdue = []
    by_name = {pods.name(p): p for p in members}
    for name in targets:
        if name in confirmed:
            continue
        since = scaling.retiring_state(by_name[name])[1] if name in by_name else now
        if since is not None and now - since >= ctx.settings.retire_timeout:
            overdue.append(name)
    if overdue:
        await ctx.events.warning(
            group,
            constants.REASON_RETIRE_INCOMPLETE,
            f"the scheduler could not move the data off {', '.join(overdue)} within "
            f"{ctx.settings.retire_timeout:.0f}s; deleting them anyway: their data will be recomputed",
        )
        await _mark(ctx, namespace, overdue, scaling.RETIRE_DONE)
        for name in overdue:
            await children.delete_pod(ctx, namespace, name)
    return RETRY_INCOMPLETE if len(confirmed) + len(overdue) < len(targets) else None

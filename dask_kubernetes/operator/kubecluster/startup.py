"""The waits of ``KubeCluster`` start-up: for the operator, the scheduler Pod and the scheduler itself.

Each says what it waits for through ``report(component, value)`` and fails with
an error that says what to do.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from distributed.core import rpc

from dask_kubernetes.api import bodies, constants, naming
from dask_kubernetes.exceptions import CrashLoopBackOffError, SchedulerStartupError, ValidationError
from dask_kubernetes.kubeapi import Kube
from dask_kubernetes.operator.decisions import pods
from dask_kubernetes.operator.kubecluster import diagnose

log = logging.getLogger(__name__)
Report = Callable[[str, str], None]


async def wait_for_operator(kube: Kube, name: str, namespace: str, timeout: float, report: Report) -> None:
    """Wait until the operator has given the DaskCluster a phase; an invalid one raises ValidationError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        obj = await kube.get(constants.PLURAL_CLUSTER, namespace, name)
        if obj is None:
            raise RuntimeError(f"DaskCluster {name} was deleted while starting")
        status = bodies.status_of(obj)
        if status.get("phase"):
            report("DaskCluster", status["phase"])
            if status["phase"] == "Error":
                stalled = bodies.condition(obj, "Stalled")
                raise ValidationError(stalled["message"] if stalled else f"DaskCluster {name} is invalid")
            return
        await asyncio.sleep(0.25)
    raise TimeoutError(
        f"Dask Cluster resource not actioned after {timeout:.0f} seconds, "
        f"is the Dask Operator running? (DaskCluster {name} in namespace {namespace} "
        "has no status.phase: check the operator's Pod and logs)"
    )


async def scheduler_pod(kube: Kube, name: str, namespace: str) -> dict[str, Any] | None:
    """The cluster's scheduler Pod, found by its labels.

    Upstream's operator runs the scheduler as a Deployment, whose Pod is not named
    ``{name}-scheduler``; the labels are the same for both operators.
    """
    found = [
        pod
        for pod in await kube.list_pods(namespace, naming.scheduler_selector(name))
        if not pods.is_terminating(pod)
    ]
    return max(found, key=pods.created) if found else None


async def wait_for_scheduler(
    kube: Kube, name: str, namespace: str, timeout: float, report: Report, say: Callable[[str], None]
) -> None:
    """Wait until the scheduler Pod is Ready; fail only if it crash-loops.

    As upstream's, a scheduler that is merely slow (an image pull on a real
    cluster) is waited for past ``timeout``, and the cluster is kept; ``say``
    tells the user once that it is still waiting.
    """
    deadline = time.monotonic() + timeout
    warned = False
    while True:
        pod = await scheduler_pod(kube, name, namespace)
        if pod is not None:
            if pods.crash_looping(pod):
                logs = await kube.pod_logs(namespace, pods.name(pod), tail=200)
                report("Scheduler Pod", "CrashLoopBackOff")
                raise SchedulerStartupError(
                    "Scheduler failed to start.",
                    "Scheduler Pod logs:",
                    diagnose.startup_failure_detail(pod, logs),
                ) from CrashLoopBackOffError(logs)
            ready = pods.is_ready(pod)
            report("Scheduler Pod", "Ready" if ready else pods.phase(pod))
            if ready:
                return
        if not warned and time.monotonic() > deadline:
            warned = True
            problems = diagnose.container_problems(pod or {})
            message = (
                f"the scheduler of {name} is not Ready after {timeout:.0f}s "
                f"({'; '.join(problems) or (pods.phase(pod) if pod else 'no Pod yet')}); still waiting"
            )
            log.warning(message)
            say(message)
        await asyncio.sleep(0.5)


async def wait_for_comm(comm: rpc, timeout: float) -> None:
    """Wait until the scheduler answers on its comm; OSError once ``timeout`` has passed."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            await comm.identity()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)

"""Helpers of the operator's end-to-end tests: data on workers, the operator Deployment, processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from typing import Any

import distributed
import numpy as np

from dask_kubernetes.operator import make_cluster_spec
from dask_kubernetes_dev.polling import wait_for
from dask_kubernetes_dev.processes import pids_of_pod
from tests.operator.e2e.conftest import OPERATOR_NAMESPACE, Kubectl, is_ready, operator_pods

DEPLOYMENT = "deployment/dask-kubernetes-operator"


def scheduler_client(k: Kubectl, cluster: str) -> distributed.Client:
    """A client on the pod network, straight to the scheduler Pod."""
    ip = k.get("pod", f"{cluster}-scheduler")["status"]["podIP"]
    return distributed.Client(f"tcp://{ip}:8786", timeout=60)


def count_retirements(client: distributed.Client) -> None:
    """Wrap the scheduler's retire_workers so that the test can count retirements per worker name."""

    def install(dask_scheduler: Any) -> None:
        original = dask_scheduler.retire_workers
        dask_scheduler.test_retired = []

        async def counted(*args: Any, **kwargs: Any) -> Any:
            result = await original(*args, **kwargs)
            dask_scheduler.test_retired.extend(str(info.get("name")) for info in result.values())
            return result

        dask_scheduler.retire_workers = counted

    client.run_on_scheduler(install)


def retirements(client: distributed.Client) -> list[str]:
    """Names of the workers the scheduler retired since :func:`count_retirements`."""
    return list(client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.test_retired))


class Data:
    """100 scattered keys and a persisted array, spread over the workers; checks nothing was lost."""

    def __init__(self, client: distributed.Client) -> None:
        import dask.array as da

        self.client = client
        self.futures = client.scatter(list(range(100)), broadcast=False)
        self.array = da.arange(20_000, chunks=1_000).persist()
        distributed.wait(self.array)
        self.keys = {f.key for f in self.futures}

    def holders(self) -> set[str]:
        """Worker addresses holding the scattered keys."""
        return {w for ws in self.client.who_has(self.futures).values() for w in ws}

    def lost(self) -> int:
        """How many scattered keys lost all their replicas (or were cancelled)."""
        who = self.client.who_has(self.futures)
        missing = sum(1 for key in self.keys if not who.get(key))
        cancelled = sum(1 for f in self.futures if f.status != "finished")
        return max(missing, cancelled)

    def intact(self) -> bool:
        """Everything computes to the right value."""
        return sum(self.client.gather(self.futures)) == sum(range(100)) and int(
            self.array.sum().compute()
        ) == int(np.arange(20_000).sum())


def group_pod_names(k: Kubectl, group: str) -> dict[str, int]:
    """Pod name -> restart count of a group's (non-terminating) worker Pods."""
    out = {}
    for pod in k.items("pods", f"dask.org/workergroup-name={group}"):
        if pod["metadata"].get("deletionTimestamp"):
            continue
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        out[pod["metadata"]["name"]] = sum(int(s.get("restartCount") or 0) for s in statuses)
    return out


def group_converged(k: Kubectl, group: str, n: int) -> bool:
    """A DaskWorkerGroup is Ready with ``n`` ready replicas and ``n`` (non-terminating) worker Pods."""
    obj = k.get("daskworkergroup", group)
    return is_ready(obj) and obj["status"]["readyReplicas"] == n and len(group_pod_names(k, group)) == n


def scheduler_running(name: str, *argv: str) -> dict[str, Any]:
    """A ``make_cluster_spec`` cluster without workers whose scheduler container runs ``argv``."""
    spec = make_cluster_spec(name=name, n_workers=0)
    spec["spec"]["scheduler"]["spec"]["containers"][0]["args"] = list(argv)
    return spec


def operator_kubectl(k: Kubectl, *args: str, check: bool = True) -> Any:
    """kubectl in the operator's namespace."""
    return k.target.kubectl("-n", OPERATOR_NAMESPACE, *args, check=check)


def wait_operator_rolled_out(k: Kubectl) -> None:
    """Wait until the operator Deployment has rolled out and its Pods are Ready."""
    operator_kubectl(k, "rollout", "status", DEPLOYMENT, "--timeout=240s")


@contextlib.contextmanager
def operator_env(k: Kubectl, **env: str) -> Iterator[None]:
    """Run the operator with extra environment variables, restored afterwards."""
    pairs = [f"{key}={value}" for key, value in env.items()]
    operator_kubectl(k, "set", "env", DEPLOYMENT, *pairs)
    wait_operator_rolled_out(k)
    try:
        yield
    finally:
        operator_kubectl(k, "set", "env", DEPLOYMENT, *[f"{key}-" for key in env])
        wait_operator_rolled_out(k)


@contextlib.contextmanager
def operator_replicas(k: Kubectl, n: int) -> Iterator[None]:
    """Run ``n`` operator replicas, and the chart's number again afterwards."""
    before = json.loads(operator_kubectl(k, "get", DEPLOYMENT, "-o", "json").stdout)["spec"]["replicas"]
    operator_kubectl(k, "scale", DEPLOYMENT, f"--replicas={n}")
    if n:
        wait_operator_rolled_out(k)
    else:
        wait_for(lambda: not operator_pods(k), timeout=120, what="no operator Pods")
    try:
        yield
    finally:
        operator_kubectl(k, "scale", DEPLOYMENT, f"--replicas={before}")
        wait_operator_rolled_out(k)


def kill_9(pod_name: str) -> int:
    """SIGKILL every process of a Pod, as ``kill -9`` would; return how many were killed."""
    killed = 0
    for pid in pids_of_pod(pod_name):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            killed += 1
    return killed


def operator_restarts(k: Kubectl) -> int:
    """Container restarts of all the operator's Pods."""
    selector = "app.kubernetes.io/name=dask-kubernetes-operator"
    pods = json.loads(operator_kubectl(k, "get", "pods", "-l", selector, "-o", "json").stdout)["items"]
    return sum(
        int(s.get("restartCount") or 0) for p in pods for s in p["status"].get("containerStatuses") or []
    )

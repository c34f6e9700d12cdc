"""DaskAutoscaler grows the default group under load and shrinks it when idle."""

from __future__ import annotations

import distributed

from dask_kubernetes_dev.polling import wait_for
from tests.operator.e2e.conftest import example, wait_ready


def _replicas(k):
    return k.get("daskworkergroup", "simple-default")["spec"]["worker"]["replicas"]


def test_autoscaler_follows_the_load_within_bounds(k):
    (cluster,) = example("cluster.yaml")
    cluster["spec"]["worker"]["replicas"] = 1
    k.apply(cluster)
    wait_ready(k, "daskcluster", "simple")
    (scaler,) = example("autoscaler.yaml")
    scaler["spec"].update(minimum=1, maximum=4)
    k.apply(scaler)
    ip = k.get("pod", "simple-scheduler")["status"]["podIP"]
    seen = []
    with distributed.Client(f"tcp://{ip}:8786", timeout=60) as client:
        import time

        futures = client.map(lambda i: time.sleep(3) or i, range(200), pure=False)
        wait_for(lambda: seen.append(_replicas(k)) or seen[-1] > 1, timeout=240, what="the group to grow")
        wait_for(
            lambda: seen.append(_replicas(k)) or seen[-1] == 4, timeout=240, what="the group to reach maximum"
        )
        client.cancel(futures)
    wait_for(
        lambda: seen.append(_replicas(k)) or seen[-1] == 1, timeout=300, what="the group to shrink to minimum"
    )
    assert all(1 <= n <= 4 for n in seen)
    status = k.get("daskautoscaler", "simple")["status"]
    assert status["desiredWorkers"] == 1
    events = k(
        "get", "events", "--field-selector", "involvedObject.name=simple,involvedObject.kind=DaskAutoscaler"
    ).stdout
    assert "Autoscaled" in events

"""spec.suspend on the real API server: workers go, then the scheduler; resume brings the spec back.

tests/operator/fast/test_suspend.py shows the same decisions on the fake API.  Here a
watch records the order in which the cluster's Pods go, the real kstatus library and
the Argo CD health check (under gopher-lua) read the live objects, and every resume
is checked for Pods left behind: exactly the scheduler and ``replicas`` workers of
the group's current template, Ready.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import ProtocolError

from dask_kubernetes.api import constants
from dask_kubernetes.operator.builders import worker as worker_builder
from dask_kubernetes_dev.kstatus import kstatus
from dask_kubernetes_dev.luahealth import luahealth
from dask_kubernetes_dev.polling import wait_for
from tests.operator.e2e.conftest import Kubectl, condition, example, is_ready, wait_ready

CLUSTER = "simple"
GROUP = "simple-default"
SELECTOR = f"{constants.LABEL_CLUSTER_NAME}={CLUSTER}"


class PodTimeline:
    """The order in which the cluster's Pods start terminating and are gone, from one watch.

    The API server orders every change of a namespace's Pods, so the index of an
    entry says what came first.  A dropped connection resumes from the last version seen.
    """

    def __init__(self, k: Kubectl) -> None:
        self.api = client.CoreV1Api(config.new_client_from_config(str(k.target.kubeconfig)))
        self.namespace = k.namespace
        self.entries: list[tuple[str, str]] = []  # (what, pod name): "terminating" or "deleted"
        self.stopped = threading.Event()
        self.watch = watch.Watch()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _seen(self, what: str, name: str) -> None:
        if (what, name) not in self.entries:
            self.entries.append((what, name))

    def _run(self) -> None:
        version = self.api.list_namespaced_pod(
            self.namespace, label_selector=SELECTOR
        ).metadata.resource_version
        while not self.stopped.is_set():
            try:
                for event in self.watch.stream(
                    self.api.list_namespaced_pod,
                    self.namespace,
                    label_selector=SELECTOR,
                    resource_version=version,
                ):
                    pod = event["object"]
                    version = pod.metadata.resource_version
                    if pod.metadata.deletion_timestamp or event["type"] == "DELETED":
                        self._seen("terminating", pod.metadata.name)
                    if event["type"] == "DELETED":
                        self._seen("deleted", pod.metadata.name)
            except (ProtocolError, ApiException, OSError) as exc:
                if isinstance(exc, ApiException) and exc.status == 410:  # too old: start from now
                    version = None
                self.watch = watch.Watch()

    def first(self, what: str, name: str) -> int:
        """Where ``what`` happened to Pod ``name`` in the timeline."""
        return self.entries.index((what, name))

    def __enter__(self) -> PodTimeline:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.watch.stop()


def _cluster(replicas: int) -> dict[str, Any]:
    (cluster,) = example("cluster.yaml")
    cluster["spec"]["worker"]["replicas"] = replicas
    return cluster


def set_suspend(k: Kubectl, value: bool) -> None:
    """Patch spec.suspend, as `kubectl patch` or a Git commit would."""
    k("patch", "daskcluster", CLUSTER, "--type=merge", "-p", json.dumps({"spec": {"suspend": value}}))


def cluster_pods(k: Kubectl) -> list[dict[str, Any]]:
    """Every Pod of the cluster, terminating ones included."""
    return k.items("pods", SELECTOR)


def conditions_of(obj: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Condition type -> (status, reason)."""
    return {c["type"]: (c["status"], c.get("reason", "")) for c in obj["status"]["conditions"]}


def _current(obj: dict[str, Any] | None) -> bool:
    return bool(obj and (obj.get("status") or {}).get("observedGeneration") == obj["metadata"]["generation"])


def wait_suspended(k: Kubectl, timeout: float = 300) -> tuple[dict[str, Any], dict[str, Any]]:
    """Wait until no Pod of the cluster is left and cluster and group say Suspended; return both."""

    def done() -> tuple[dict[str, Any], dict[str, Any]] | None:
        if cluster_pods(k):
            return None
        cluster, group = k.get("daskcluster", CLUSTER), k.get("daskworkergroup", GROUP)
        for obj in (cluster, group):
            cond = condition(obj, "Suspended")
            if not (
                _current(obj) and cond and cond["status"] == "True" and obj["status"]["phase"] == "Suspended"
            ):
                return None
        return cluster, group

    return wait_for(done, timeout=timeout, what="no Pod of the cluster left, and both objects Suspended")


def running_as_specified(k: Kubectl, replicas: int) -> dict[str, Any] | None:
    """The group, when exactly the scheduler and ``replicas`` workers of its current template run Ready."""
    cluster, group = k.get("daskcluster", CLUSTER), k.get("daskworkergroup", GROUP)
    if not (is_ready(cluster) and is_ready(group)):
        return None
    pods = cluster_pods(k)
    workers = [p for p in pods if p["metadata"]["labels"].get(constants.LABEL_COMPONENT) == "worker"]
    schedulers = [p for p in pods if p["metadata"]["labels"].get(constants.LABEL_COMPONENT) == "scheduler"]
    template = worker_builder.worker_template_hash(group)
    current = [
        p for p in workers if p["metadata"]["labels"].get(constants.LABEL_WORKER_TEMPLATE_HASH) == template
    ]
    if len(pods) != replicas + 1 or len(schedulers) != 1 or len(current) != replicas:
        return None
    ready = [p for p in pods if condition(p, "Ready") and condition(p, "Ready")["status"] == "True"]
    return group if len(ready) == len(pods) else None


def wait_running(k: Kubectl, replicas: int, timeout: float = 300) -> dict[str, Any]:
    """Wait for :func:`running_as_specified`; return the group."""
    return wait_for(
        lambda: running_as_specified(k, replicas),
        timeout=timeout,
        what=f"the scheduler and {replicas} Ready workers of the current template, and nothing else",
    )


def _start(k: Kubectl, replicas: int) -> None:
    k.apply(_cluster(replicas))
    wait_ready(k, "daskcluster", CLUSTER, timeout=300)
    wait_running(k, replicas)


def _events(k: Kubectl, kind: str, name: str) -> list[dict[str, Any]]:
    selector = f"involvedObject.name={name},involvedObject.kind={kind}"
    return json.loads(k("get", "events", "--field-selector", selector, "-o", "json").stdout)["items"]


def wait_resumed(k: Kubectl, replicas: int) -> dict[str, Any]:
    """Wait until the spec runs again; check Suspended=False (Resumed) and the replicas; return the group."""
    group = wait_running(k, replicas)
    cluster = k.get("daskcluster", CLUSTER)
    for obj in (cluster, group):
        assert conditions_of(obj)["Suspended"] == ("False", "Resumed"), obj["status"]
    assert group["spec"]["worker"]["replicas"] == replicas
    return group


def _resume(k: Kubectl, replicas: int) -> dict[str, Any]:
    set_suspend(k, False)
    return wait_resumed(k, replicas)


def test_suspend_deletes_workers_then_the_scheduler_keeps_the_rest_and_resume_restores_it(k):
    _start(k, 3)
    workers = [p["metadata"]["name"] for p in cluster_pods(k) if "-worker-" in p["metadata"]["name"]]
    with PodTimeline(k) as timeline:
        set_suspend(k, True)
        cluster, group = wait_suspended(k)
        wait_for(
            lambda: ("deleted", f"{CLUSTER}-scheduler") in timeline.entries, timeout=60, what="the watch"
        )
    # Workers first: the scheduler starts terminating only once every worker is gone.
    scheduler_goes = timeline.first("terminating", f"{CLUSTER}-scheduler")
    assert len(workers) == 3
    assert all(timeline.first("deleted", w) < scheduler_goes for w in workers), timeline.entries
    # Kept: the Service, the group and its replicas.
    assert k.get("service", f"{CLUSTER}-scheduler") is not None
    assert group["spec"]["worker"]["replicas"] == 3
    assert (group["status"]["replicas"], group["status"]["workers"]) == (0, "0/3")
    for obj in (cluster, group):
        got = conditions_of(obj)
        assert got["Suspended"] == ("True", "Suspended")
        assert got["Ready"] == ("True", "Suspended")
        assert got["Reconciling"][0] == "False" and got["Stalled"][0] == "False"
        assert luahealth(obj) == ("Suspended", condition(obj, "Suspended")["message"])
    warnings = [e for e in _events(k, "DaskCluster", CLUSTER) if e["reason"] == "Suspending"]
    assert warnings and warnings[0]["type"] == "Warning" and "lost" in warnings[0]["message"]

    group = _resume(k, 3)
    assert luahealth(k.get("daskcluster", CLUSTER))[0] == "Healthy"
    assert kstatus(group)[0] == "Current"


def test_kstatus_reads_a_suspended_cluster_its_group_and_autoscaler_current(k):
    _start(k, 1)
    k.apply(example("autoscaler.yaml"))
    set_suspend(k, True)
    cluster, group = wait_suspended(k)
    scaler = wait_for(
        lambda: (lambda o: o if _current(o) and condition(o, "Suspended") else None)(
            k.get("daskautoscaler", CLUSTER)
        ),
        timeout=120,
        what="the autoscaler to say Suspended",
    )
    readings = {obj["kind"]: kstatus(obj) for obj in (cluster, group, scaler)}
    assert all(status == "Current" for status, _ in readings.values()), readings


def _env(pod: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value") for e in pod["spec"]["containers"][0].get("env") or []}


def _templates(k: Kubectl) -> set[str | None]:
    """Template hashes of the group's worker Pods that are not terminating."""
    return {
        p["metadata"]["labels"].get(constants.LABEL_WORKER_TEMPLATE_HASH)
        for p in k.items("pods", f"{constants.LABEL_WORKER_GROUP}={GROUP}")
        if not p["metadata"].get("deletionTimestamp")
    }


def test_suspend_during_a_rollout_resumes_to_the_new_template_only(k):
    _start(k, 3)
    old = worker_builder.worker_template_hash(k.get("daskworkergroup", GROUP))
    cluster = _cluster(3)
    cluster["spec"]["worker"]["spec"]["containers"][0]["env"] = [{"name": "ROLLED", "value": "rolled"}]
    k.apply(cluster)
    new = wait_for(
        lambda: (lambda h: h if h != old else None)(
            worker_builder.worker_template_hash(k.get("daskworkergroup", GROUP))
        ),
        timeout=120,
        what="the group to take the new template",
    )
    wait_for(lambda: {old, new} <= _templates(k), timeout=240, what="old and new worker Pods at once")
    set_suspend(k, True)
    _, group = wait_suspended(k)
    assert group["spec"]["worker"]["replicas"] == 3
    group = _resume(k, 3)
    assert worker_builder.worker_template_hash(group) == new
    workers = [p for p in cluster_pods(k) if "-worker-" in p["metadata"]["name"]]
    assert all(_env(p).get("ROLLED") == "rolled" for p in workers)
    assert _templates(k) == {new}


def test_suspend_right_after_a_scale_down_resumes_to_the_new_replicas(k):
    _start(k, 3)
    k("scale", "daskcluster", CLUSTER, "--replicas=1")
    wait_for(
        lambda: k.get("daskworkergroup", GROUP)["spec"]["worker"]["replicas"] == 1,
        timeout=60,
        what="the group to be told 1 replica",
    )
    set_suspend(k, True)
    _, group = wait_suspended(k)
    assert group["spec"]["worker"]["replicas"] == 1
    _resume(k, 1)


def test_suspend_keeps_the_replicas_a_worker_group_was_scaled_to(k):
    # KubeCluster.scale() and `kubectl scale daskworkergroup` set the group, not the cluster.
    _start(k, 1)
    k("scale", "daskworkergroup", GROUP, "--replicas=2")
    wait_running(k, 2)
    set_suspend(k, True)
    _, group = wait_suspended(k)
    assert group["spec"]["worker"]["replicas"] == 2
    _resume(k, 2)


def test_an_autoscaler_of_a_suspended_cluster_stands_still(k):
    _start(k, 1)
    set_suspend(k, True)
    wait_suspended(k)
    (scaler,) = example("autoscaler.yaml")
    scaler["spec"].update(minimum=2, maximum=4)  # were it scaling, it would go to 2 at once
    k.apply(scaler)

    def standing_still() -> dict[str, Any] | None:
        obj = k.get("daskautoscaler", CLUSTER)
        got = conditions_of(obj) if _current(obj) and obj.get("status", {}).get("conditions") else {}
        return obj if got.get("Ready") == ("True", "ClusterSuspended") else None

    obj = wait_for(standing_still, timeout=120, what="the autoscaler to read ClusterSuspended")
    assert conditions_of(obj)["Suspended"][0] == "True"
    assert luahealth(obj)[0] == "Suspended"
    generation = k.get("daskworkergroup", GROUP)["metadata"]["generation"]
    time.sleep(15)  # three of the autoscaler's polls (5 s each): a window to see it not scale
    group = k.get("daskworkergroup", GROUP)
    assert group["spec"]["worker"]["replicas"] == 1 and group["metadata"]["generation"] == generation
    assert not [e for e in _events(k, "DaskAutoscaler", CLUSTER) if e["reason"] == "Autoscaled"]
    assert not cluster_pods(k)
    # Resumed, it scales: the test above could have seen it do so.
    set_suspend(k, False)
    wait_running(k, 2)
    assert conditions_of(k.get("daskautoscaler", CLUSTER))["Suspended"] == ("False", "Resumed")


def _hold(k: Kubectl, pod: str, finalizers: list[str]) -> None:
    k("patch", "pod", pod, "--type=merge", "-p", json.dumps({"metadata": {"finalizers": finalizers}}))


def test_resume_while_pods_are_still_being_deleted_ends_with_the_spec_running(k):
    _start(k, 2)
    held = next(p["metadata"]["name"] for p in cluster_pods(k) if "-worker-" in p["metadata"]["name"])
    # A finalizer keeps one worker Pod terminating for as long as the test needs.
    _hold(k, held, ["test.dask.org/hold"])
    try:
        set_suspend(k, True)

        def suspending() -> dict[str, Any] | None:
            obj = k.get("daskcluster", CLUSTER)
            cond = condition(obj, "Suspended") if _current(obj) else None
            return obj if cond and (cond["status"], cond["reason"]) == ("False", "Suspending") else None

        obj = wait_for(suspending, timeout=120, what="the cluster to say Suspending")
        assert luahealth(obj)[0] == "Progressing" and kstatus(obj)[0] == "InProgress"
        scheduler = f"{CLUSTER}-scheduler"
        wait_for(
            lambda: sorted(p["metadata"]["name"] for p in cluster_pods(k)) == sorted([held, scheduler]),
            timeout=120,
            what="only the held worker Pod and the scheduler left (the scheduler waits for the workers)",
        )
        set_suspend(k, False)
        wait_for(
            lambda: len([p for p in cluster_pods(k) if not p["metadata"].get("deletionTimestamp")]) == 3,
            timeout=240,
            what="the scheduler and 2 new workers",
        )
    finally:
        _hold(k, held, [])
    wait_resumed(k, 2)
    assert held not in {p["metadata"]["name"] for p in cluster_pods(k)}

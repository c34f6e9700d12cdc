"""GitOps convergence: spec edits applied as Argo CD applies them reach every running Pod, gracefully."""

from __future__ import annotations

import json
import threading

from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import ProtocolError

from dask_kubernetes import yamlio
from dask_kubernetes_dev.kstatus import kstatus
from dask_kubernetes_dev.polling import wait_for
from tests.operator.e2e.conftest import condition, example, is_ready, wait_condition, wait_ready, worker_pods
from tests.operator.e2e.helpers import Data, scheduler_client

MANAGER = "argocd-controller"


def ssa(k, obj):
    """Apply as Argo CD does with server-side apply."""
    return k(
        "apply",
        "--server-side",
        f"--field-manager={MANAGER}",
        "--force-conflicts",
        "-f",
        "-",
        input=yamlio.dump(obj),
    )


class ReadyWatch:
    """Count Ready worker Pods of a group from a watch, and remember the lowest count seen.

    A watch connection can end at any time (server timeout, a proxy closing it); the thread
    then lists again and resumes, so no drop in Ready Pods goes unseen while the test runs.
    """

    def __init__(self, k, group):
        config.load_kube_config(str(k.target.kubeconfig))
        self.api = client.CoreV1Api()
        self.namespace, self.selector = k.namespace, f"dask.org/workergroup-name={group}"
        self.ready: dict[str, bool] = {}
        self.lowest: int | None = None
        self.reconnects = 0
        self.stopped = threading.Event()
        self.watch = watch.Watch()
        self.thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _is_ready(pod) -> bool:
        return bool(
            pod.status
            and not pod.metadata.deletion_timestamp
            and any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])
        )

    def _record(self) -> None:
        count = len(self.ready)
        if self.started:
            self.lowest = count if self.lowest is None else min(self.lowest, count)

    def _run(self):
        while not self.stopped.is_set():
            try:
                listed = self.api.list_namespaced_pod(self.namespace, label_selector=self.selector)
                self.ready = {p.metadata.name: True for p in listed.items if self._is_ready(p)}
                self._record()
                for event in self.watch.stream(
                    self.api.list_namespaced_pod,
                    self.namespace,
                    label_selector=self.selector,
                    resource_version=listed.metadata.resource_version,
                ):
                    pod = event["object"]
                    if event["type"] == "DELETED" or not self._is_ready(pod):
                        self.ready.pop(pod.metadata.name, None)
                    else:
                        self.ready[pod.metadata.name] = True
                    self._record()
            except (ProtocolError, ApiException, OSError):
                pass
            if not self.stopped.is_set():
                self.reconnects += 1
                self.watch = watch.Watch()

    def __enter__(self):
        self.started = False
        self.thread.start()
        return self

    def start(self):
        self.started = True

    def __exit__(self, *exc):
        self.stopped.set()
        self.watch.stop()


def _all_pods_have(k, group, check, n):
    pods = worker_pods(k, group)
    return len(pods) == n and all(check(p) for p in pods) and is_ready(k.get("daskworkergroup", group))


def _env(pod):
    return {e["name"]: e.get("value") for e in pod["spec"]["containers"][0].get("env") or []}


EDITS = {
    "image": (
        lambda w: w["spec"]["containers"][0].update(image="ghcr.io/dask/dask:2026.8.0"),
        lambda p: p["spec"]["containers"][0]["image"] == "ghcr.io/dask/dask:2026.8.0",
    ),
    "env": (
        lambda w: (
            w["spec"]["containers"][0].setdefault("env", []).append({"name": "ROLLED", "value": "rolled"})
        ),
        lambda p: _env(p).get("ROLLED") == "rolled",
    ),
    "resources": (
        lambda w: w["spec"]["containers"][0].update(resources={"requests": {"memory": "300Mi"}}),
        lambda p: (
            p["spec"]["containers"][0].get("resources", {}).get("requests", {}).get("memory") == "300Mi"
        ),
    ),
    "args": (
        lambda w: w["spec"]["containers"][0]["args"].extend(["--nthreads", "2"]),
        lambda p: "--nthreads" in p["spec"]["containers"][0]["args"],
    ),
}


def test_each_worker_edit_rolls_out_to_every_pod_without_losing_data_or_ready_workers(k):
    """Image, env, resources and args, one after the other on one cluster, as Git commits would."""
    (cluster,) = example("cluster.yaml")
    cluster["spec"]["worker"]["replicas"] = 3
    ssa(k, cluster)
    wait_ready(k, "daskcluster", "simple", timeout=300)
    with scheduler_client(k, "simple") as dask, ReadyWatch(k, "simple-default") as ready:
        dask.wait_for_workers(3, timeout=240)
        data = Data(dask)
        ready.start()
        for edit in sorted(EDITS):
            change, check = EDITS[edit]
            change(cluster["spec"]["worker"])
            ssa(k, cluster)
            seen = []

            def rolled_out(check=check, seen=seen) -> bool:
                # kstatus on the live object, around a look at the Pods: Current must never be
                # read while a Pod of the old spec still runs.
                before = kstatus(k.get("daskcluster", "simple"))[0]
                old = [p for p in worker_pods(k, "simple-default") if not check(p)]
                after = kstatus(k.get("daskcluster", "simple"))[0]
                seen.append((before, len(old), after))
                return _all_pods_have(k, "simple-default", check, 3)

            wait_for(rolled_out, timeout=420, what=f"the {edit} rolled out", interval=1)
            wait_ready(k, "daskcluster", "simple")
            assert kstatus(k.get("daskcluster", "simple"))[0] == "Current", edit
            assert any(before == "InProgress" for before, _, _ in seen), (edit, seen)
            assert not [s for s in seen if s[1] and s[0] == "Current" and s[2] == "Current"], (edit, seen)
            assert k.get("daskcluster", "simple")["status"]["updatedReplicas"] == 3
            diff = k(
                "diff",
                "--server-side",
                f"--field-manager={MANAGER}",
                "--force-conflicts",
                "-f",
                "-",
                input=yamlio.dump(cluster),
                check=False,
            )
            assert diff.returncode == 0, (edit, diff.stdout)
            assert data.lost() == 0, edit
            assert data.intact(), edit
    assert ready.lowest is not None and ready.lowest >= 3, f"Ready workers dropped to {ready.lowest}"


def test_a_worker_group_edit_rolls_out(k):
    (cluster,) = example("cluster.yaml")
    k.apply(cluster)
    wait_ready(k, "daskcluster", "simple")
    group = {
        "apiVersion": "kubernetes.dask.org/v1",
        "kind": "DaskWorkerGroup",
        "metadata": {"name": "simple-extra"},
        "spec": {"cluster": "simple", "worker": json.loads(json.dumps(cluster["spec"]["worker"]))},
    }
    ssa(k, group)
    wait_ready(k, "daskworkergroup", "simple-extra", timeout=300)
    group["spec"]["worker"]["spec"]["containers"][0].setdefault("env", []).append(
        {"name": "EXTRA", "value": "2"}
    )
    ssa(k, group)
    wait_for(
        lambda: _all_pods_have(k, "simple-extra", lambda p: _env(p).get("EXTRA") == "2", 2),
        timeout=300,
        what="the group's edit rolled out",
    )


def test_scheduler_edit_recreates_it_and_workers_reconnect(k):
    (cluster,) = example("cluster.yaml")
    ssa(k, cluster)
    wait_ready(k, "daskcluster", "simple")
    old_uid = k.get("pod", "simple-scheduler")["metadata"]["uid"]
    cluster["spec"]["scheduler"]["spec"]["containers"][0]["env"] = [{"name": "SCHEDULER_EDIT", "value": "1"}]
    ssa(k, cluster)

    def recreated():
        pod = k.get("pod", "simple-scheduler")
        return pod and pod["metadata"]["uid"] != old_uid and _env(pod).get("SCHEDULER_EDIT") == "1"

    wait_for(recreated, timeout=240, what="a new scheduler Pod with the new spec")
    wait_ready(k, "daskcluster", "simple", timeout=300)
    with scheduler_client(k, "simple") as dask:
        dask.wait_for_workers(2, timeout=240)
        assert dask.submit(sum, [1, 2, 3]).result(timeout=120) == 6
    events = k("get", "events", "--field-selector", "involvedObject.name=simple").stdout
    assert "SchedulerSpecChanged" in events


def test_service_edit_changes_the_live_service(k):
    (cluster,) = example("cluster.yaml")
    cluster["spec"]["scheduler"]["service"]["type"] = "ClusterIP"
    ssa(k, cluster)
    wait_ready(k, "daskcluster", "simple")
    cluster["spec"]["scheduler"]["service"]["type"] = "NodePort"
    cluster["spec"]["scheduler"]["service"]["ports"][1]["port"] = 8797
    ssa(k, cluster)

    def changed():
        svc = k.get("service", "simple-scheduler")
        return svc["spec"]["type"] == "NodePort" and svc["spec"]["ports"][1]["port"] == 8797

    wait_for(changed, timeout=120, what="the Service patched")


def test_a_scheduler_that_cannot_start_is_stalled_after_the_deadline(k):
    (cluster,) = example("cluster.yaml")
    cluster["spec"]["progressDeadlineSeconds"] = 20
    cluster["spec"]["scheduler"]["spec"]["containers"][0]["args"] = ["no-such-dask-scheduler"]
    ssa(k, cluster)
    obj = wait_condition(k, "daskcluster", "simple", "Stalled")
    assert condition(obj, "Stalled")["reason"] == "ProgressDeadlineExceeded"
    assert "scheduler" in condition(obj, "Stalled")["message"]
    assert kstatus(obj)[0] == "Failed"


def test_a_rollout_to_a_broken_worker_stalls_and_the_old_workers_still_compute(k):
    (cluster,) = example("cluster.yaml")
    cluster["spec"]["progressDeadlineSeconds"] = 20
    ssa(k, cluster)
    wait_ready(k, "daskcluster", "simple")
    cluster["spec"]["worker"]["spec"]["containers"][0]["args"][0] = "no-such-dask-worker"
    ssa(k, cluster)
    obj = wait_condition(k, "daskworkergroup", "simple-default", "Stalled", timeout=300)
    assert condition(obj, "Stalled")["reason"] == "ProgressDeadlineExceeded"
    assert condition(k.get("daskcluster", "simple"), "Stalled")["status"] == "True"
    with scheduler_client(k, "simple") as dask:
        assert len(dask.scheduler_info(n_workers=-1)["workers"]) >= 2
        assert dask.submit(sum, [1, 2, 3]).result(timeout=120) == 6

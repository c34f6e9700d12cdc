"""Each controller's reconcile on the fake API: decisions only (the e2e tests show behaviour)."""

from __future__ import annotations

from dask_kubernetes.api import constants, naming
from dask_kubernetes.operator.builders.spec import make_cluster_spec
from dask_kubernetes.operator.decisions import scaling

NS = "ns"
C, G = constants.PLURAL_CLUSTER, constants.PLURAL_WORKER_GROUP


def cluster(world, name="c", n=2):
    body = make_cluster_spec(name, n_workers=n)
    body["metadata"]["namespace"] = NS
    return world.api.put(C, body)


def group(world, name, cluster_name="c", n=2):
    body = {
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "cluster": cluster_name,
            "worker": make_cluster_spec(cluster_name, n_workers=n)["spec"]["worker"],
        },
    }
    return world.api.put(G, body)


def job_body(name="j"):
    return {
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "job": {"spec": {"containers": [{"name": "job", "image": "x", "args": ["python", "-c", "1"]}]}},
            "cluster": {"spec": make_cluster_spec(name, n_workers=1)["spec"]},
        },
    }


def condition(obj, type_):
    return next(c for c in obj["status"]["conditions"] if c["type"] == type_)


async def start_workers(world, group_name, scheduler_ip="10.0.0.2", held=0):
    """Play the kubelet and the scheduler: run every Pending worker Pod and connect it."""
    sched = world.scheduler(scheduler_ip)
    for i, pod in enumerate(world.api.pods(NS, group_name)):
        if pod.get("status", {}).get("phase") == "Pending":
            ip = f"10.1.{len(sched.workers)}.{i + 1}"
            world.api.set_pod_running(NS, pod["metadata"]["name"], ip)
            sched.connect(pod["metadata"]["name"], ip, held)


async def bring_up(world, name="c", n=2):
    cluster(world, name, n)
    await world.reconcile(C, name)
    world.api.set_pod_running(NS, naming.scheduler_name(name), "10.0.0.2")
    group_name = naming.default_worker_group_name(name)
    await world.reconcile(G, group_name)
    await start_workers(world, group_name)
    await world.reconcile(G, group_name)
    await world.reconcile(C, name)


def test_cluster_creates_service_scheduler_and_default_group_then_reports_ready(run, world):
    async def main():
        await bring_up(world)
        return world.api.get(C, NS, "c"), world.api.get(G, NS, "c-default")

    obj, grp = run(main())
    assert set(world.api.objects["services"]) == {(NS, "c-scheduler")}
    assert (NS, "c-scheduler") in world.api.objects["pods"]
    assert len(world.api.pods(NS, "c-default")) == 2
    assert condition(obj, "Ready")["status"] == "True"
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
    assert obj["status"]["readyReplicas"] == 2 and obj["status"]["updatedReplicas"] == 2
    assert condition(grp, "Ready")["status"] == "True"
    # Each new Pod template was dry-run on the API server before any Pod was made.
    dry = [c for c in world.api.calls if c[0] == "dry-run"]
    assert len(dry) == 2  # one scheduler template, one worker template


def test_scale_down_retires_only_workers_of_the_scaled_group(run, world):
    async def main():
        await bring_up(world, n=3)
        group(world, "c-other", n=3)
        await world.reconcile(G, "c-other")
        await start_workers(world, "c-other", held=10)
        sched = world.scheduler()
        before = set(sched.workers)
        world.api.put(
            G, {**world.api.get(G, NS, "c-other"), "spec": {**world.api.get(G, NS, "c-other")["spec"]}}
        )
        grp = world.api.get(G, NS, "c-other")
        grp["spec"]["worker"]["replicas"] = 1
        world.api.put(G, grp)
        await world.reconcile(G, "c-other")
        return sched, before

    sched, before = run(main())
    assert len(sched.retired) == 2
    assert all(name.startswith("c-other-worker-") for name in sched.retired)
    assert len(world.api.pods(NS, "c-other")) == 1
    assert len(world.api.pods(NS, "c-default")) == 3
    assert "RetiredWorkers" in world.api.reasons()


def test_victims_are_marked_before_the_scheduler_is_asked_and_a_restart_finishes_them(run, world):
    async def main():
        await bring_up(world, n=3)
        sched = world.scheduler()
        grp = world.api.get(G, NS, "c-default")
        grp["spec"]["worker"]["replicas"] = 1
        world.api.put(G, grp)
        # The operator "dies" right after marking: simulate by marking as it would, then restarting.
        plan = scaling.plan(world.api.pods(NS, "c-default"), 1)
        victims = scaling.choose_victims(plan.candidates, plan.retire, {})
        for name in victims:
            await world.api.annotate_pod(NS, name, {constants.ANNOTATION_RETIRING: "pending:1"})
        await world.reconcile(G, "c-default")  # the restarted operator
        return sched, victims

    sched, victims = run(main())
    assert sorted(sched.retired) == sorted(victims)  # exactly the marked ones, no new choice
    assert len(world.api.pods(NS, "c-default")) == 1


def test_workers_holding_the_least_data_are_retired_first():
    assert scaling.choose_victims(["a", "b", "c", "d"], 2, {"a": 50, "b": 10, "c": None, "d": 10}) == [
        "c",
        "d",
    ]


def test_lifo_with_a_warning_when_the_scheduler_cannot_be_asked(run, world):
    async def main():
        await bring_up(world, n=3)
        world.scheduler().unreachable = True
        grp = world.api.get(G, NS, "c-default")
        grp["spec"]["worker"]["replicas"] = 1
        world.api.put(G, grp)
        await world.reconcile(G, "c-default")

    run(main())
    assert len(world.api.pods(NS, "c-default")) == 1
    assert "ScaleDownWithoutRetire" in world.api.reasons()
    lifo = [c for c in world.api.calls if c[0] == "annotate" and scaling.RETIRE_LIFO in c]
    assert len(lifo) == 2


def test_data_that_cannot_move_keeps_the_worker_until_the_retire_timeout(run, world):
    async def main():
        await bring_up(world, n=2)
        sched = world.scheduler()
        sched.keep = set(sched.workers)  # nothing can move
        grp = world.api.get(G, NS, "c-default")
        grp["spec"]["worker"]["replicas"] = 1
        world.api.put(G, grp)
        first = await world.reconcile(G, "c-default")
        kept = len(world.api.pods(NS, "c-default"))
        world.clock.advance(world.settings.retire_timeout + 1)
        await world.reconcile(G, "c-default")
        return first, kept

    first, kept = run(main())
    assert first is not None  # asks again soon
    assert kept == 2
    assert len(world.api.pods(NS, "c-default")) == 1
    assert "RetireIncomplete" in world.api.reasons()


def test_refused_pods_make_the_cluster_stalled_with_the_api_message(run, world):
    async def main():
        world.api.refuse_pods = 'pods "c-scheduler" is forbidden: violates PodSecurity "restricted:latest"'
        cluster(world)
        await world.run(C, "c")
        return world.api.get(C, NS, "c")

    obj = run(main())
    stalled = condition(obj, "Stalled")
    assert stalled["status"] == "True"
    assert "violates PodSecurity" in stalled["message"]
    assert obj["status"]["phase"] == "Error"
    assert "Refused" in world.api.reasons()
    assert not world.api.objects["pods"]


def test_worker_template_change_surges_then_retires_old_workers(run, world):
    async def main():
        await bring_up(world, n=2)
        obj = world.api.get(C, NS, "c")
        obj["spec"]["worker"]["spec"]["containers"][0]["env"].append({"name": "NEW", "value": "1"})
        world.api.put(C, obj)
        await world.reconcile(C, "c")  # pushes the template to the group
        seen = []
        for _ in range(8):
            await world.reconcile(G, "c-default")
            await start_workers(world, "c-default")
            pods = world.api.pods(NS, "c-default")
            ready = sum(1 for p in pods if p.get("status", {}).get("phase") == "Running")
            seen.append(ready)
        await world.reconcile(G, "c-default")
        await world.reconcile(C, "c")
        return seen

    seen = run(main())
    assert min(seen) >= 2  # never below replicas
    pods = world.api.pods(NS, "c-default")
    assert len(pods) == 2
    assert all({"name": "NEW", "value": "1"} in p["spec"]["containers"][0]["env"] for p in pods), (
        "every worker runs the new template"
    )
    obj = world.api.get(C, NS, "c")
    assert condition(obj, "Ready")["status"] == "True"


def test_rollout_reads_reconciling_until_the_last_old_pod_is_gone(run, world):
    async def main():
        await bring_up(world, n=2)
        obj = world.api.get(C, NS, "c")
        obj["spec"]["worker"]["spec"]["containers"][0]["image"] = "ghcr.io/dask/dask:new"
        world.api.put(C, obj)
        await world.reconcile(C, "c")
        await world.reconcile(G, "c-default")
        return world.api.get(G, NS, "c-default")

    grp = run(main())
    reconciling = condition(grp, "Reconciling")
    assert reconciling["status"] == "True" and reconciling["reason"] == "RollingOut"
    assert "1 of 2 workers updated" in reconciling["message"]  # the surge Pod, not yet ready


def test_scheduler_spec_change_recreates_the_scheduler_with_a_warning(run, world):
    async def main():
        await bring_up(world)
        obj = world.api.get(C, NS, "c")
        obj["spec"]["scheduler"]["spec"]["containers"][0]["env"].append({"name": "X", "value": "1"})
        world.api.put(C, obj)
        await world.reconcile(C, "c")
        gone = (NS, "c-scheduler") not in world.api.objects["pods"]
        await world.reconcile(C, "c")
        return gone

    assert run(main())
    pod = world.api.get("pods", NS, "c-scheduler")
    assert {"name": "X", "value": "1"} in pod["spec"]["containers"][0]["env"]
    assert "SchedulerSpecChanged" in world.api.reasons()


def test_service_edit_is_patched_in_place(run, world):
    async def main():
        await bring_up(world)
        obj = world.api.get(C, NS, "c")
        obj["spec"]["scheduler"]["service"]["type"] = "NodePort"
        world.api.put(C, obj)
        await world.reconcile(C, "c")

    run(main())
    assert world.api.get("services", NS, "c-scheduler")["spec"]["type"] == "NodePort"
    assert ("patch", "services", "c-scheduler") in world.api.calls


def test_default_group_follows_removed_keys_of_spec_worker(run, world):
    async def main():
        await bring_up(world)
        obj = world.api.get(C, NS, "c")
        obj["spec"]["worker"]["metadata"] = {"labels": {"team": "a"}}
        world.api.put(C, obj)
        await world.reconcile(C, "c")
        obj = world.api.get(C, NS, "c")
        del obj["spec"]["worker"]["metadata"]
        world.api.put(C, obj)
        await world.reconcile(C, "c")
        return world.api.get(G, NS, "c-default")

    grp = run(main())
    assert "metadata" not in grp["spec"]["worker"]


def test_idle_resync_makes_no_api_calls(run, world):
    async def main():
        await bring_up(world)
        await world.reconcile(G, "c-default")
        await world.reconcile(C, "c")
        world.api.calls.clear()
        for _ in range(5):
            world.clock.advance(30)  # a resync interval: nothing time-stamped may change
            await world.reconcile(C, "c")
            await world.reconcile(G, "c-default")
        return list(world.api.calls)

    assert run(main()) == []


def test_batches_wait_for_the_delay_after_the_newest_pod(run, world):
    world.settings.worker_batch_size = 2
    world.settings.worker_batch_delay = 5

    async def main():
        cluster(world, n=6)
        await world.reconcile(C, "c")
        counts = []
        waits = []
        for _ in range(4):
            waits.append(await world.reconcile(G, "c-default"))
            counts.append(len(world.api.pods(NS, "c-default")))
            world.clock.advance(5)
        return counts, waits

    counts, waits = run(main())
    assert counts == [2, 4, 6, 6]
    assert waits[0] == 5


def test_autoscaler_is_adopted_by_its_cluster_and_scales_the_group(run, world):
    async def main():
        await bring_up(world)
        world.api.put(
            constants.PLURAL_AUTOSCALER,
            {
                "metadata": {"name": "c", "namespace": NS},
                "spec": {"cluster": "c", "minimum": 1, "maximum": 5},
            },
        )
        world.scheduler().target = 4
        poll = await world.reconcile(constants.PLURAL_AUTOSCALER, "c")
        return poll

    poll = run(main())
    scaler = world.api.get(constants.PLURAL_AUTOSCALER, NS, "c")
    assert scaler["metadata"]["ownerReferences"][0]["kind"] == "DaskCluster"
    assert world.api.get(G, NS, "c-default")["spec"]["worker"]["replicas"] == 4
    assert poll == world.settings.autoscaler_interval


def test_job_creates_its_cluster_then_the_runner_and_records_the_end(run, world):
    async def main():
        world.api.put(constants.PLURAL_JOB, job_body())
        await world.reconcile(constants.PLURAL_JOB, "j")
        cluster_made = world.api.get(C, NS, "j") is not None
        obj = world.api.get(C, NS, "j")
        obj["status"] = {"phase": "Running"}
        world.api.put(C, obj, spec_changed=False)
        await world.reconcile(constants.PLURAL_JOB, "j")
        runner = world.api.get("pods", NS, "j-runner")
        runner["status"] = {"phase": "Succeeded"}
        world.api.put("pods", runner)
        await world.reconcile(constants.PLURAL_JOB, "j")
        return cluster_made

    assert run(main())
    job = world.api.get(constants.PLURAL_JOB, NS, "j")
    assert job["status"]["jobStatus"] == "Successful"
    assert world.api.get(C, NS, "j") is None


def _crash(world, name):
    pod = world.api.objects["pods"][(NS, name)]
    pod["status"] = {
        "phase": "Running",
        "podIP": "10.9.9.9",
        "conditions": [{"type": "Ready", "status": "False"}],
        "containerStatuses": [
            {
                "name": "worker",
                "restartCount": 7,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}},
                "lastState": {
                    "terminated": {"reason": "Error", "message": "exec: no-such-worker: not found"}
                },
            }
        ],
    }


def test_a_rollout_to_a_crashing_template_stalls_after_the_deadline_and_keeps_old_workers(run, world):
    async def main():
        await bring_up(world, n=2)
        obj = world.api.get(C, NS, "c")
        obj["spec"]["progressDeadlineSeconds"] = 60
        obj["spec"]["worker"]["spec"]["containers"][0]["args"] = ["no-such-worker"]
        world.api.put(C, obj)
        await world.reconcile(C, "c")
        await world.reconcile(G, "c-default")
        for pod in world.api.pods(NS, "c-default"):
            if "no-such-worker" in pod["spec"]["containers"][0]["args"]:
                _crash(world, pod["metadata"]["name"])
        await world.reconcile(G, "c-default")
        world.clock.advance(61)
        await world.reconcile(G, "c-default")
        await world.reconcile(C, "c")

    run(main())
    grp = world.api.get(G, NS, "c-default")
    stalled = condition(grp, "Stalled")
    assert stalled["status"] == "True" and stalled["reason"] == "ProgressDeadlineExceeded"
    assert "CrashLoopBackOff" in stalled["message"] and "not found" in stalled["message"]
    old = [
        p
        for p in world.api.pods(NS, "c-default")
        if "no-such-worker" not in p["spec"]["containers"][0]["args"]
    ]
    assert len(old) == 2, "the old workers still serve"
    assert condition(world.api.get(C, NS, "c"), "Stalled")["status"] == "True"


def test_a_scheduler_that_never_becomes_ready_stalls_after_the_deadline(run, world):
    async def main():
        body = make_cluster_spec("c", n_workers=0)
        body["metadata"]["namespace"] = NS
        body["spec"]["progressDeadlineSeconds"] = 30
        world.api.put(C, body)
        await world.reconcile(C, "c")
        await world.reconcile(C, "c")
        pod = world.api.objects["pods"][(NS, "c-scheduler")]
        pod["status"] = {
            "phase": "Pending",
            "containerStatuses": [
                {
                    "name": "scheduler",
                    "state": {"waiting": {"reason": "RunContainerError", "message": "executable not found"}},
                }
            ],
        }
        first = world.api.get(C, NS, "c")
        world.clock.advance(31)
        await world.reconcile(C, "c")
        return first

    first = run(main())
    assert condition(first, "Stalled")["status"] == "False"
    stalled = condition(world.api.get(C, NS, "c"), "Stalled")
    assert stalled["status"] == "True" and "executable not found" in stalled["message"]


def test_a_change_to_a_running_jobs_cluster_reaches_its_daskcluster(run, world):
    async def main():
        world.api.put(constants.PLURAL_JOB, job_body())
        await world.reconcile(constants.PLURAL_JOB, "j")
        job = world.api.get(constants.PLURAL_JOB, NS, "j")
        job["spec"]["cluster"]["spec"]["worker"]["replicas"] = 3
        world.api.put(constants.PLURAL_JOB, job)
        await world.reconcile(constants.PLURAL_JOB, "j")
        calls = len(world.api.calls)
        await world.reconcile(constants.PLURAL_JOB, "j")  # nothing more to write
        return calls

    calls = run(main())
    assert world.api.get(C, NS, "j")["spec"]["worker"]["replicas"] == 3
    assert not [c for c in world.api.calls[calls:] if c[0] == "replace"]


def test_a_reference_no_cluster_can_have_is_stalled_not_waited_for(run, world):
    async def main():
        group(world, "g", cluster_name="Not_A_Name")
        await world.reconcile(G, "g")
        world.api.put(
            constants.PLURAL_AUTOSCALER,
            {
                "metadata": {"name": "a", "namespace": NS},
                "spec": {"cluster": "c", "workerGroup": "Bad_Group", "maximum": 2},
            },
        )
        await world.reconcile(constants.PLURAL_AUTOSCALER, "a")

    run(main())
    grp = condition(world.api.get(G, NS, "g"), "Stalled")
    assert grp["status"] == "True" and "spec.cluster: must be a DNS-1123 label" in grp["message"]
    scaler = condition(world.api.get(constants.PLURAL_AUTOSCALER, NS, "a"), "Stalled")
    assert scaler["status"] == "True" and "spec.workerGroup" in scaler["message"]


def test_a_directly_scaled_default_group_is_what_the_cluster_reports(run, world):
    async def main():
        await bring_up(world, n=2)
        grp = world.api.get(G, NS, "c-default")
        grp["spec"]["worker"]["replicas"] = 3  # KubeCluster.scale(), kubectl scale daskworkergroup
        world.api.put(G, grp)
        await world.reconcile(G, "c-default")
        await start_workers(world, "c-default")
        await world.reconcile(G, "c-default")
        await world.reconcile(C, "c")
        return world.api.get(C, NS, "c")

    obj = run(main())
    assert obj["status"]["workers"] == "3/3"
    assert condition(obj, "Ready")["status"] == "True"
    assert world.api.get(G, NS, "c-default")["spec"]["worker"]["replicas"] == 3  # not undone by a resync


def test_a_cluster_deleted_and_made_again_under_its_name_gets_children_of_the_new_one(run, world):
    """KubeCluster(name=...) closed and opened again: nothing of the old objects may be used."""

    async def main():
        await bring_up(world, n=1)
        for kind in ("pods", "services", G, C):  # deleted, and garbage-collected
            world.api.objects[kind].clear()
        new = cluster(world, n=1)
        await world.reconcile(C, "c")
        await world.reconcile(G, "c-default")
        return new

    new = run(main())
    grp = world.api.get(G, NS, "c-default")
    assert grp["metadata"]["ownerReferences"][0]["uid"] == new["metadata"]["uid"]
    pods = world.api.pods(NS)
    assert {p["metadata"]["name"] for p in pods} >= {"c-scheduler"}
    owners = {p["metadata"]["ownerReferences"][0]["uid"] for p in pods}
    assert owners <= {new["metadata"]["uid"], grp["metadata"]["uid"]}, "no child may point at the old objects"
    assert len(world.api.pods(NS, "c-default")) == 1

"""Kueue decisions on the fake API: Workload made, held while queued, admitted, evicted, finished.

Kueue itself is played by the test (it writes the Workload's conditions and
admission); the real Kueue does the same in tests/kueue/test_operator_kueue.py.
"""

from __future__ import annotations

import pytest

from dask_kubernetes.api import constants, kueue
from dask_kubernetes.operator.builders.spec import make_cluster_spec, make_worker_spec
from dask_kubernetes.settings import Settings
from tests.operator.fast.fakes import World
from tests.operator.fast.test_job_lifecycle import cond, play_cluster, put_job

NS = "ns"
J, C, G, A = (
    constants.PLURAL_JOB,
    constants.PLURAL_CLUSTER,
    constants.PLURAL_WORKER_GROUP,
    constants.PLURAL_AUTOSCALER,
)
WL = f"kueue:{kueue.PLURAL_WORKLOAD}"


@pytest.fixture
def world() -> World:
    return World(settings=Settings(worker_batch_size=None, worker_batch_delay=None, kueue=True))


def queued_job(world, name="j", queue="team-a", **labels):
    job = put_job(world, name)
    job["metadata"]["labels"] = {kueue.QUEUE_LABEL: queue, **labels}
    return world.api.put(J, job)


def workload(world, obj_kind="daskjob", name="j"):
    return world.api.get(WL, NS, f"{obj_kind}-{name}")


def admit(world, name, flavor="default", counts=None):
    """Play Kueue: reserve quota and admit every PodSet to ``flavor``."""
    wl = world.api.get(WL, NS, name)
    wl["status"] = {
        "conditions": [
            {"type": "QuotaReserved", "status": "True", "reason": "QuotaReserved"},
            {"type": "Admitted", "status": "True", "reason": "Admitted"},
        ],
        "admission": {
            "clusterQueue": "cq",
            "podSetAssignments": [
                {
                    "name": ps["name"],
                    "flavors": {"cpu": flavor},
                    "count": (counts or {}).get(ps["name"], ps["count"]),
                }
                for ps in wl["spec"]["podSets"]
            ],
        },
    }
    world.api.put(WL, wl, spec_changed=False)


def evict(world, name, reason="Preempted"):
    wl = world.api.get(WL, NS, name)
    wl["status"]["conditions"].append(
        {"type": "Evicted", "status": "True", "reason": reason, "message": "Preempted to make room"}
    )
    world.api.put(WL, wl, spec_changed=False)


def test_a_labelled_job_gets_a_workload_and_nothing_runs_until_admitted(world, run):
    queued_job(world)
    run(world.reconcile(J, "j"))
    wl = workload(world)
    assert wl is not None
    assert wl["spec"]["queueName"] == "team-a"
    assert [(p["name"], p["count"]) for p in wl["spec"]["podSets"]] == [
        ("scheduler", 1),
        ("j-default", 1),
        ("runner", 1),
    ]
    owner = wl["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("DaskJob", "j", True)
    assert world.api.get(J, NS, "j")["spec"]["suspend"] is True
    for _ in range(3):
        run(world.reconcile(J, "j"))
    job = world.api.get(J, NS, "j")
    assert world.api.get(C, NS, "j") is None and world.api.pods(NS) == []
    assert job["status"]["jobStatus"] == "Suspended" and job["status"]["reason"] == "Queued"
    assert cond(job, "Suspended")["reason"] == "Queued"
    assert cond(job, "Ready")["status"] == "True"
    assert job["status"]["queue"] == {"name": "team-a", "workload": "daskjob-j", "admitted": False}
    assert "Queued" in world.api.reasons()


def test_admission_unsuspends_and_places_pods_on_the_flavor(world, run):
    world.api.put(
        f"kueue:{kueue.PLURAL_RESOURCE_FLAVOR}",
        {
            "metadata": {"name": "spot", "namespace": ""},
            "spec": {
                "nodeLabels": {"pool": "spot"},
                "tolerations": [{"key": "spot", "operator": "Exists", "effect": "NoSchedule"}],
            },
        },
    )
    queued_job(world)
    run(world.reconcile(J, "j"))
    admit(world, "daskjob-j", flavor="spot")
    run(world.reconcile(J, "j"))
    job = world.api.get(J, NS, "j")
    assert job["spec"]["suspend"] is False
    assert job["status"]["queue"]["admitted"] is True
    placed = {p["name"]: p for p in job["status"]["queue"]["podSets"]}
    assert placed["runner"]["nodeSelector"] == {"pool": "spot"}
    for _ in range(3):
        run(world.reconcile(J, "j"))
    assert world.api.get(C, NS, "j") is not None
    run(world.reconcile(C, "j"))
    scheduler = next(
        p
        for p in world.api.pods(NS)
        if p["metadata"]["labels"][constants.LABEL_COMPONENT] == constants.COMPONENT_SCHEDULER
    )
    assert scheduler["spec"]["nodeSelector"]["pool"] == "spot"
    assert {"key": "spot", "operator": "Exists", "effect": "NoSchedule"} in scheduler["spec"]["tolerations"]
    play_cluster(world)
    run(world.reconcile(J, "j"))
    runner = world.api.get("pods", NS, "j-runner")
    assert runner["spec"]["nodeSelector"] == {"pool": "spot"}
    assert "Admitted" in world.api.reasons()


def test_eviction_suspends_then_hands_the_workload_back_once_pods_are_gone(world, run):
    queued_job(world)
    run(world.reconcile(J, "j"))
    admit(world, "daskjob-j")
    for _ in range(3):
        run(world.reconcile(J, "j"))
    run(world.reconcile(C, "j"))
    play_cluster(world)
    run(world.reconcile(J, "j"))
    assert world.api.get("pods", NS, "j-runner") is not None
    evict(world, "daskjob-j")
    run(world.reconcile(J, "j"))
    assert world.api.get(J, NS, "j")["spec"]["suspend"] is True
    evicted = [e for e in world.api.events if e["reason"] == "Evicted"]
    assert evicted and "Preempted" in evicted[0]["message"]
    # Quota is handed back only once no Pod of the job is left.
    assert kueue.is_true(workload(world), kueue.CONDITION_QUOTA_RESERVED)
    for _ in range(4):
        run(world.reconcile(J, "j"))
        for pod in world.api.pods(NS):
            world.api.objects["pods"].pop((NS, pod["metadata"]["name"]))
    wl = workload(world)
    assert not kueue.is_true(wl, kueue.CONDITION_QUOTA_RESERVED)
    assert kueue.condition(wl, kueue.CONDITION_REQUEUED)["status"] == "True"
    assert "admission" not in wl["status"]
    job = world.api.get(J, NS, "j")
    assert job["status"]["jobStatus"] == "Suspended" and job["status"]["queue"]["admitted"] is False


def test_a_finished_job_marks_its_workload_finished(world, run):
    queued_job(world)
    run(world.reconcile(J, "j"))
    admit(world, "daskjob-j")
    for _ in range(3):
        run(world.reconcile(J, "j"))
    play_cluster(world)
    run(world.reconcile(J, "j"))
    pod = world.api.objects["pods"][(NS, "j-runner")]
    pod["status"] = {"phase": "Succeeded"}
    world.api.put("pods", pod, spec_changed=False)
    for _ in range(3):
        run(world.reconcile(J, "j"))
    assert world.api.get(J, NS, "j")["status"]["jobStatus"] == "Successful"
    finished = kueue.condition(workload(world), kueue.CONDITION_FINISHED)
    assert finished is not None and (finished["status"], finished["reason"]) == ("True", "Succeeded")


def put_cluster(world, name="c", labels=None, replicas=1):
    body = make_cluster_spec(name, n_workers=replicas)
    body["metadata"] = {"name": name, "namespace": NS, "labels": labels or {}}
    return world.api.put(C, body)


def test_an_autoscaled_group_reserves_the_maximum_and_never_outgrows_the_admission(world, run):
    put_cluster(world, labels={kueue.QUEUE_LABEL: "q"})
    world.api.put(
        A,
        {"metadata": {"name": "c", "namespace": NS}, "spec": {"cluster": "c", "minimum": 1, "maximum": 4}},
    )
    run(world.reconcile(C, "c"))
    wl = workload(world, "daskcluster", "c")
    assert {p["name"]: p["count"] for p in wl["spec"]["podSets"]} == {"scheduler": 1, "c-default": 4}
    admit(world, "daskcluster-c")
    for _ in range(3):
        run(world.reconcile(C, "c"))
    group = world.api.get(G, NS, "c-default")
    group["spec"]["worker"]["replicas"] = 6  # more than Kueue admitted
    world.api.put(G, group)
    run(world.reconcile(G, "c-default"))
    assert len(world.api.pods(NS, "c-default")) == 4
    assert "OverQuota" in world.api.reasons()


def test_more_podsets_than_kueue_allows_stall_without_a_workload(world, run):
    put_cluster(world, labels={kueue.QUEUE_LABEL: "q"})
    for i in range(8):
        world.api.put(
            G,
            {
                "metadata": {"name": f"c-extra{i}", "namespace": NS},
                "spec": {"cluster": "c", "worker": make_worker_spec(n_workers=1)},
            },
        )
    run(world.reconcile(C, "c"))
    assert workload(world, "daskcluster", "c") is None
    cluster = world.api.get(C, NS, "c")
    assert cond(cluster, "Stalled")["reason"] == "TooManyPodSets"
    assert "limit of 8" in cond(cluster, "Stalled")["message"]
    assert world.api.pods(NS) == []


def test_without_the_label_nothing_of_kueue_is_touched(world, run):
    put_job(world)
    for _ in range(3):
        run(world.reconcile(J, "j"))
    assert not [c for c in world.api.calls if c[1].startswith("kueue:")]
    assert world.api.get(C, NS, "j") is not None


def test_with_the_integration_off_the_label_means_nothing(run):
    world = World()
    queued_job(world)
    for _ in range(3):
        run(world.reconcile(J, "j"))
    assert not [c for c in world.api.calls if c[1].startswith("kueue:")]
    assert world.api.get(C, NS, "j") is not None


def test_the_job_cluster_and_pods_do_not_inherit_the_queue_label(world, run):
    queued_job(world)
    run(world.reconcile(J, "j"))
    admit(world, "daskjob-j")
    for _ in range(3):
        run(world.reconcile(J, "j"))
    cluster = world.api.get(C, NS, "j")
    assert kueue.QUEUE_LABEL not in (cluster["metadata"].get("labels") or {})
    run(world.reconcile(C, "j"))
    assert workload(world, "daskcluster", "j") is None


def test_a_pending_workload_is_made_anew_when_the_pods_change(world, run):
    put_cluster(world, labels={kueue.QUEUE_LABEL: "q"})
    run(world.reconcile(C, "c"))
    first = workload(world, "daskcluster", "c")
    group = world.api.get(G, NS, "c-default")
    if group is None:  # the default group is made on a later pass
        run(world.reconcile(C, "c"))
        group = world.api.get(G, NS, "c-default")
    group["spec"]["worker"]["replicas"] = 3
    world.api.put(G, group)
    for _ in range(3):
        run(world.reconcile(C, "c"))
    again = workload(world, "daskcluster", "c")
    assert again["metadata"]["uid"] != first["metadata"]["uid"]
    assert {p["name"]: p["count"] for p in again["spec"]["podSets"]}["c-default"] == 3


def test_a_group_added_after_admission_runs_nothing_until_queued_again(world, run):
    put_cluster(world, labels={kueue.QUEUE_LABEL: "q"})
    run(world.reconcile(C, "c"))
    admit(world, "daskcluster-c")
    for _ in range(3):
        run(world.reconcile(C, "c"))
    world.api.put(
        G,
        {
            "metadata": {"name": "c-late", "namespace": NS},
            "spec": {"cluster": "c", "worker": make_worker_spec(n_workers=2)},
        },
    )
    run(world.reconcile(G, "c-late"))
    assert world.api.pods(NS, "c-late") == []
    assert "OverQuota" in world.api.reasons()

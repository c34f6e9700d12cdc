"""Suspending and resuming a DaskCluster on the fake API: who deletes what, in what order, and status.

tests/operator/e2e/test_suspend.py shows the same against the real API server.
"""

from __future__ import annotations

from dask_kubernetes.api import constants, naming
from dask_kubernetes.operator.decisions import conditions
from tests.operator.fast.test_reconcile import NS, C, G, bring_up

A = constants.PLURAL_AUTOSCALER


def conds(obj):
    return {c["type"]: (c["status"], c["reason"]) for c in obj["status"]["conditions"]}


def set_suspend(world, value, name="c"):
    obj = world.api.get(C, NS, name)
    obj["spec"]["suspend"] = value
    world.api.put(C, obj)


def worker_names(world):
    return [
        p["metadata"]["name"]
        for p in world.api.pods(NS)
        if p["metadata"]["labels"].get(constants.LABEL_COMPONENT) == constants.COMPONENT_WORKER
    ]


def test_suspend_warns_first_then_workers_go_then_the_scheduler_and_status_says_suspended(run, world):
    async def main():
        await bring_up(world, n=3)
        set_suspend(world, True)
        # The group acts only once the cluster has said so: nothing goes before the Warning.
        await world.reconcile(G, "c-default")
        before_warning = len(worker_names(world))
        await world.reconcile(C, "c")
        scheduler_kept = world.api.get("pods", NS, naming.scheduler_name("c")) is not None
        await world.reconcile(G, "c-default")
        workers_after = len(worker_names(world))
        await world.reconcile(C, "c")
        return before_warning, scheduler_kept, workers_after

    before_warning, scheduler_kept, workers_after = run(main())
    assert before_warning == 3
    assert scheduler_kept  # the scheduler waits for the workers to go
    assert workers_after == 0
    assert world.api.get("pods", NS, naming.scheduler_name("c")) is None
    warning = next(e for e in world.api.events if e["reason"] == constants.REASON_SUSPENDING)
    assert warning["type"] == "Warning" and "lost" in warning["message"]
    cluster, group = world.api.get(C, NS, "c"), world.api.get(G, NS, "c-default")
    assert cluster["status"]["phase"] == "Suspended" and group["status"]["phase"] == "Suspended"
    for obj in (cluster, group):
        got = conds(obj)
        assert got[conditions.SUSPENDED] == ("True", "Suspended")
        assert got[conditions.READY] == ("True", "Suspended")  # kstatus: Current
        assert got[conditions.RECONCILING][0] == "False" and got[conditions.STALLED][0] == "False"
    # Kept: the Service and the group with its replicas.
    assert world.api.get("services", NS, naming.scheduler_name("c")) is not None
    assert group["spec"]["worker"]["replicas"] == 3


def test_pending_workers_are_deleted_before_running_ones(run, world):
    async def main():
        await bring_up(world, n=2)
        group = world.api.get(G, NS, "c-default")
        group["spec"]["worker"]["replicas"] = 3
        world.api.put(G, group)
        await world.reconcile(G, "c-default")  # a third worker, Pending
        pending = [
            p["metadata"]["name"]
            for p in world.api.pods(NS, "c-default")
            if p["status"]["phase"] == "Pending"
        ]
        set_suspend(world, True)
        await world.reconcile(C, "c")
        world.api.calls.clear()
        await world.reconcile(G, "c-default")
        return pending

    pending = run(main())
    deleted = [c[2] for c in world.api.calls if c[:2] == ("delete", "pods")]
    assert len(pending) == 1 and deleted[0] == pending[0] and len(deleted) == 3


def test_resume_brings_back_the_scheduler_and_the_replicas_and_says_resumed(run, world):
    async def main():
        await bring_up(world, n=3)
        set_suspend(world, True)
        for _ in range(2):
            await world.reconcile(C, "c")
            await world.reconcile(G, "c-default")
        await world.reconcile(C, "c")
        set_suspend(world, False)
        await world.reconcile(C, "c")
        await world.reconcile(G, "c-default")

    run(main())
    assert world.api.get("pods", NS, naming.scheduler_name("c")) is not None
    assert len(worker_names(world)) == 3
    assert conds(world.api.get(C, NS, "c"))[conditions.SUSPENDED] == ("False", "Resumed")
    assert conds(world.api.get(C, NS, "c"))[conditions.RECONCILING][0] == "True"


def test_an_autoscaler_of_a_suspended_cluster_does_not_scale_and_says_so(run, world):
    async def main():
        await bring_up(world, n=2)
        world.api.put(A, {"metadata": {"name": "c", "namespace": NS}, "spec": {"cluster": "c", "maximum": 5}})
        world.scheduler().target = 5
        set_suspend(world, True)
        await world.reconcile(A, "c")

    run(main())
    assert world.api.get(G, NS, "c-default")["spec"]["worker"]["replicas"] == 2
    got = conds(world.api.get(A, NS, "c"))
    assert got[conditions.READY] == ("True", constants.REASON_CLUSTER_SUSPENDED)
    assert got[conditions.SUSPENDED][0] == "True"


def test_a_cluster_never_suspended_writes_no_suspended_condition(run, world):
    run(bring_up(world, n=1))
    assert conditions.SUSPENDED not in conds(world.api.get(C, NS, "c"))


def scale_group(world, n):
    """KubeCluster.scale(), `kubectl scale daskworkergroup`, the autoscaler: the group, not the cluster."""
    grp = world.api.get(G, NS, "c-default")
    grp["spec"]["worker"]["replicas"] = n
    world.api.put(G, grp)


def suspend_and_resume(world, *, resume_with_replicas=None):
    async def main():
        set_suspend(world, True)
        for _ in range(2):
            await world.reconcile(C, "c")
            await world.reconcile(G, "c-default")
        await world.reconcile(C, "c")
        obj = world.api.get(C, NS, "c")
        obj["spec"]["suspend"] = False
        if resume_with_replicas is not None:
            obj["spec"]["worker"]["replicas"] = resume_with_replicas
        world.api.put(C, obj)
        await world.reconcile(C, "c")
        await world.reconcile(G, "c-default")

    return main()


def test_a_group_scaled_on_its_own_keeps_its_replicas_through_suspend_and_resume(run, world):
    async def main():
        await bring_up(world, n=1)
        scale_group(world, 3)
        await world.reconcile(G, "c-default")
        await suspend_and_resume(world)

    run(main())
    assert world.api.get(C, NS, "c")["spec"]["worker"]["replicas"] == 1
    assert world.api.get(G, NS, "c-default")["spec"]["worker"]["replicas"] == 3
    assert len(worker_names(world)) == 3


def test_a_replicas_change_made_with_the_resume_is_followed(run, world):
    async def main():
        await bring_up(world, n=1)
        scale_group(world, 3)
        await world.reconcile(G, "c-default")
        await suspend_and_resume(world, resume_with_replicas=2)

    run(main())
    assert world.api.get(G, NS, "c-default")["spec"]["worker"]["replicas"] == 2
    assert len(worker_names(world)) == 2


def test_any_other_cluster_spec_change_still_pushes_the_clusters_replicas(run, world):
    async def main():
        await bring_up(world, n=1)
        scale_group(world, 3)
        obj = world.api.get(C, NS, "c")
        obj["spec"]["idleTimeout"] = 3600
        world.api.put(C, obj)
        await world.reconcile(C, "c")

    run(main())
    assert world.api.get(G, NS, "c-default")["spec"]["worker"]["replicas"] == 1

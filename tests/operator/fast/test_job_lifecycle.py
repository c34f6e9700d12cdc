"""DaskJob lifecycle decisions on the fake API: attempts, retries, deadlines, suspend, clean-up.

The e2e tests (tests/operator/e2e/test_job_lifecycle.py) show the same on the real
API server; here API errors are injected at each step of the finish and retry
paths, and the clock is fake.
"""

from __future__ import annotations

import copy

import pytest
from kubernetes_asyncio.client.rest import ApiException

from dask_kubernetes.api import constants
from dask_kubernetes.operator.builders.spec import make_cluster_spec
from dask_kubernetes.operator.decisions import conditions
from dask_kubernetes.operator.runtime import statuses
from tests.operator.fast.fakes import Fault

NS = "ns"
J, C, G = constants.PLURAL_JOB, constants.PLURAL_CLUSTER, constants.PLURAL_WORKER_GROUP


def put_job(world, name="j", **spec):
    body = {
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "job": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "job", "image": "x", "args": ["python", "-c", "1"]}],
                }
            },
            "cluster": {"spec": make_cluster_spec(name, n_workers=1)["spec"]},
            **spec,
        },
    }
    return world.api.put(J, body)


def job(world, name="j"):
    return world.api.get(J, NS, name)


def cond(obj, type_):
    return next((c for c in obj["status"].get("conditions", []) if c["type"] == type_), None)


def runner_pods(world):
    return [
        p
        for p in world.api.pods(NS)
        if p["metadata"]["labels"].get(constants.LABEL_COMPONENT) == constants.COMPONENT_JOB_RUNNER
    ]


def created_runners(world):
    """Names of runner Pods the operator created, in order (each create that took effect)."""
    return [c[2] for c in world.api.calls if c[:2] == ("create", "pods") and "runner" in c[2]]


def play_cluster(world, name="j", ready=True):
    """Play the cluster's controller: a job's cluster becomes Running (and Ready)."""
    cluster = world.api.get(C, NS, name)
    if cluster is None or cluster.get("status", {}).get("phase") == "Running":
        return
    cluster["status"] = {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True" if ready else "False", "reason": "Running"}],
    }
    world.api.put(C, cluster, spec_changed=False)


def end_runner(world, pod_name, phase):
    pod = world.api.objects["pods"][(NS, pod_name)]
    pod["status"] = {"phase": phase}
    world.api.put("pods", pod, spec_changed=False)


def run_runners(world):
    for pod in runner_pods(world):
        if pod["status"].get("phase") == "Pending":
            pod["status"] = {"phase": "Running"}
            world.api.put("pods", pod, spec_changed=False)


async def drive(world, outcome, *, steps=60, name="j"):
    """Reconcile the job as the queue would (retrying after errors) while playing cluster and runners.

    ``outcome(attempt)`` says how the runner of an attempt ends: "Succeeded" or "Failed".
    Returns how many reconciles raised.
    """
    errors = 0
    for _ in range(steps):
        try:
            await world.reconcile(J, name)
        except ApiException:
            errors += 1
            continue
        current = job(world, name)
        if current is None or current["status"].get("jobStatus") in ("Successful", "Failed"):
            if current is not None:
                await world.reconcile(J, name)  # the clean-up after the end, as the queue would
            return errors
        play_cluster(world, name)
        for pod in runner_pods(world):
            if pod["status"].get("phase") == "Pending":
                attempt = int(pod["metadata"]["labels"][constants.LABEL_JOB_ATTEMPT])
                end_runner(world, pod["metadata"]["name"], outcome(attempt))
    raise AssertionError(f"the job did not end: {job(world, name)['status']}")


def test_a_runner_that_always_fails_gets_backoff_limit_plus_one_attempts_then_fails(run, world):
    put_job(world, backoffLimit=2)
    run(drive(world, lambda attempt: "Failed"))
    status = job(world)["status"]
    assert created_runners(world) == ["j-runner", "j-runner-2", "j-runner-3"]
    assert (status["jobStatus"], status["reason"]) == ("Failed", "BackoffLimitExceeded")
    assert (status["failed"], status["attempt"]) == (3, 3)
    assert cond(job(world), "Stalled")["status"] == "True"
    assert world.api.reasons().count(constants.REASON_ATTEMPT_FAILED) == 2
    # Earlier attempts' runners are gone; the last one stays for its logs; the cluster is deleted.
    assert [p["metadata"]["name"] for p in runner_pods(world)] == ["j-runner-3"]
    assert world.api.get(C, NS, "j") is None


def test_without_a_backoff_limit_a_failed_runner_fails_the_job_once_as_upstream(run, world):
    put_job(world)
    run(drive(world, lambda attempt: "Failed"))
    status = job(world)["status"]
    assert (status["jobStatus"], status["reason"], status["failed"]) == ("Failed", "RunnerFailed", 1)
    assert created_runners(world) == ["j-runner"]


def test_a_runner_that_fails_once_succeeds_on_attempt_two_and_can_tell_its_attempt(run, world):
    put_job(world, backoffLimit=1)
    run(drive(world, lambda attempt: "Failed" if attempt == 1 else "Succeeded"))
    status = job(world)["status"]
    assert (status["jobStatus"], status["attempt"], status["failed"], status["succeeded"]) == (
        "Successful",
        2,
        1,
        1,
    )
    env = world.api.get("pods", NS, "j-runner-2")["spec"]["containers"][0]["env"]
    assert {"name": constants.ENV_JOB_ATTEMPT, "value": "2"} in env


def test_a_stalled_cluster_fails_the_attempt_with_cluster_stalled(run, world):
    put_job(world)

    async def main():
        await world.reconcile(J, "j")
        cluster = world.api.get(C, NS, "j")
        cluster["status"] = {
            "phase": "Pending",
            "conditions": [
                {
                    "type": "Stalled",
                    "status": "True",
                    "reason": "ProgressDeadlineExceeded",
                    "message": "no progress for 5s: exec: no-such-scheduler",
                    "observedGeneration": cluster["metadata"]["generation"],
                }
            ],
        }
        world.api.put(C, cluster, spec_changed=False)
        await world.reconcile(J, "j")
        await world.reconcile(J, "j")

    run(main())
    status = job(world)["status"]
    assert (status["jobStatus"], status["reason"]) == ("Failed", "ClusterStalled")
    assert "no-such-scheduler" in cond(job(world), "Ready")["message"]
    assert world.api.get(C, NS, "j") is None


def test_the_pre_running_deadline_fails_a_job_whose_cluster_never_gets_ready(run, world):
    put_job(world, preRunningDeadlineSeconds=30, backoffLimit=3)

    async def main():
        await world.reconcile(J, "j")
        play_cluster(world, ready=False)  # the scheduler runs, the workers never schedule
        await world.reconcile(J, "j")
        run_runners(world)
        world.clock.advance(10)
        await world.reconcile(J, "j")
        before = job(world)["status"]["jobStatus"]
        world.clock.advance(25)
        await world.reconcile(J, "j")
        await world.reconcile(J, "j")
        return before

    assert run(main()) == "Running"
    status = job(world)["status"]
    assert (status["jobStatus"], status["reason"]) == ("Failed", "PreRunningDeadlineExceeded")
    assert created_runners(world) == ["j-runner"]  # a deadline is not retried
    assert runner_pods(world) == []  # the runner that was still running is stopped


def test_the_active_deadline_does_not_count_a_suspension(run, world):
    put_job(world, activeDeadlineSeconds=100)

    async def main():
        await world.reconcile(J, "j")
        play_cluster(world)
        await world.reconcile(J, "j")
        run_runners(world)
        world.clock.advance(60)
        await world.reconcile(J, "j")
        suspend(world, True)
        await world.reconcile(J, "j")
        world.clock.advance(1000)  # suspended: not counted
        await world.reconcile(J, "j")
        suspend(world, False)
        await world.reconcile(J, "j")
        play_cluster(world)
        await world.reconcile(J, "j")
        run_runners(world)
        world.clock.advance(30)
        await world.reconcile(J, "j")
        mid = job(world)["status"]["jobStatus"]
        world.clock.advance(15)
        await world.reconcile(J, "j")
        return mid

    assert run(main()) == "Running"
    status = job(world)["status"]
    assert (status["jobStatus"], status["reason"]) == ("Failed", "DeadlineExceeded")
    assert status["activeSeconds"] == 105


def suspend(world, value, name="j"):
    obj = job(world, name)
    obj["spec"]["suspend"] = value
    world.api.put(J, obj)


def test_a_job_created_suspended_makes_nothing_until_resumed(run, world):
    put_job(world, suspend=True)

    async def main():
        await world.reconcile(J, "j")
        await world.reconcile(J, "j")
        held = (world.api.get(C, NS, "j"), runner_pods(world), dict(job(world)["status"]))
        suspend(world, False)
        await drive(world, lambda attempt: "Succeeded")
        return held

    cluster, runners, held = run(main())
    assert cluster is None and runners == []
    assert (held["jobStatus"], held["reason"]) == ("Suspended", "Suspended")
    assert {c["type"]: c["status"] for c in held["conditions"]}[conditions.SUSPENDED] == "True"
    assert {c["type"]: c["status"] for c in held["conditions"]}[conditions.RECONCILING] == "False"
    # kstatus reads Ready=False as InProgress: a parked job is Ready=True, reason Suspended (Current).
    ready = next(c for c in held["conditions"] if c["type"] == conditions.READY)
    assert (ready["status"], ready["reason"]) == ("True", conditions.SUSPENDED)
    status = job(world)["status"]
    assert (status["jobStatus"], status["attempt"], status.get("failed", 0)) == ("Successful", 1, 0)
    assert created_runners(world) == ["j-runner"]


def test_suspending_a_running_job_deletes_runner_and_cluster_keeps_start_and_is_no_failure(run, world):
    put_job(world, backoffLimit=0)

    async def main():
        await world.reconcile(J, "j")
        play_cluster(world)
        await world.reconcile(J, "j")
        run_runners(world)
        await world.reconcile(J, "j")
        started = job(world)["status"]["startTime"]
        world.clock.advance(5)
        suspend(world, True)
        await world.reconcile(J, "j")
        await world.reconcile(J, "j")
        parked = (world.api.get(C, NS, "j"), runner_pods(world), job(world)["status"]["jobStatus"])
        parked_ready = cond(job(world), conditions.READY)
        world.clock.advance(5)
        suspend(world, False)
        await drive(world, lambda attempt: "Succeeded")
        return started, parked, parked_ready

    started, (cluster, runners, phase), ready = run(main())
    assert (cluster, runners, phase) == (None, [], "Suspended")
    assert (ready["status"], ready["reason"]) == ("True", conditions.SUSPENDED)
    status = job(world)["status"]
    assert status["startTime"] == started
    assert (status["jobStatus"], status["attempt"], status.get("failed", 0)) == ("Successful", 2, 0)
    assert created_runners(world) == ["j-runner", "j-runner-2"]
    assert constants.REASON_RESUMED in world.api.reasons()


def test_delete_workers_on_failure_keeps_the_scheduler_and_scales_workers_to_zero(run, world):
    put_job(world, deletionPolicy={"onFailure": "DeleteWorkers"})
    run(drive(world, lambda attempt: "Failed"))
    cluster = world.api.get(C, NS, "j")
    assert cluster is not None and cluster["spec"]["worker"]["replicas"] == 0
    assert job(world)["status"]["jobStatus"] == "Failed"


def test_delete_none_keeps_everything(run, world):
    put_job(world, deletionPolicy={"onSuccess": "DeleteNone"})
    run(drive(world, lambda attempt: "Succeeded"))
    cluster = world.api.get(C, NS, "j")
    assert cluster is not None and cluster["spec"]["worker"]["replicas"] == 1


def test_delete_self_waits_for_the_ttl_then_deletes_the_job(run, world):
    put_job(world, deletionPolicy={"onSuccess": "DeleteSelf"}, ttlSecondsAfterFinished=60)

    async def main():
        await drive(world, lambda attempt: "Succeeded")
        world.clock.advance(30)
        wait = await world.reconcile(J, "j")
        kept = job(world) is not None and world.api.get(C, NS, "j") is not None
        world.clock.advance(31)
        await world.reconcile(J, "j")
        return wait, kept

    wait, kept = run(main())
    assert kept and wait == pytest.approx(30)
    assert job(world) is None


def test_a_stale_status_write_is_refused_so_a_failure_is_never_counted_twice(run, world):
    put_job(world, backoffLimit=3)

    async def main():
        stale = job(world)
        await world.reconcile(J, "j")  # moves the job's resourceVersion
        verdict = conditions.Verdict(False, "Retrying", "x", reconciling=True)
        with pytest.raises(ApiException) as refused:
            await statuses.write(world.ctx, J, stale, {"failed": 1}, verdict, guarded=True)
        return refused.value.status

    assert run(main()) == 409
    assert job(world)["status"].get("failed") is None


FAULTS = [
    Fault("status", J),
    Fault("status", J, after=True),
    Fault("status", J, status=429, times=3),
    Fault("create", "pods"),
    Fault("create", "pods", after=True),
    Fault("delete", "pods"),
    Fault("delete", "pods", after=True),
    Fault("create", C),
    Fault("create", C, after=True),
    Fault("delete", C),
    Fault("delete", C, after=True),
]
CASES = [
    pytest.param(f, skip, id=f"{f.op}-{f.plural}-{f.status}{'-after' if f.after else ''}-skip{skip}")
    for f in FAULTS
    for skip in ([0, 1, 2, 4, 6] if f.op == "status" else [0, 1])
]


@pytest.mark.parametrize(("fault", "skip"), CASES)
def test_api_errors_in_the_retry_and_finish_paths_never_double_a_runner_or_lose_a_count(
    run, world, fault, skip
):
    """The fault strikes the ``skip``-th matching call after the first attempt's runner failed."""
    put_job(world, backoffLimit=2)
    armed = copy.copy(fault)
    armed.skip = skip

    def outcome(attempt):
        if attempt == 1 and not world.api.faults:
            world.api.faults.append(armed)
        return "Failed" if attempt < 3 else "Succeeded"

    errors = run(drive(world, outcome, steps=120))
    assert armed.fired >= 1 and errors >= 1
    status = job(world)["status"]
    assert status["jobStatus"] == "Successful"
    assert (status["attempt"], status["failed"], status["succeeded"]) == (3, 2, 1)
    names = [c[2] for c in world.api.calls if c[:2] == ("create", "pods")]
    assert sorted(set(names)) == ["j-runner", "j-runner-2", "j-runner-3"]
    # One runner per attempt: the earlier ones were deleted, the last stays for its logs.
    assert [p["metadata"]["name"] for p in runner_pods(world)] == ["j-runner-3"]
    # An Event after a write that failed late may be lost; one is never sent twice.
    expected = {1, 2} if (fault.op == "status" and fault.after) else {2}
    assert world.api.reasons().count(constants.REASON_ATTEMPT_FAILED) in expected
    assert world.api.get(C, NS, "j") is None

"""DaskJob attempts on a real API server: suspend, retries, stalls, deadlines and clean-up policies.

Each test starts from ``examples/job.yaml`` (job ``simple-job``, in its own namespace)
and changes only what it is about.  Runners use ``restartPolicy: Never`` wherever a
failure must be counted: with the default OnFailure the kubelet restarts the container
in place and the attempt never fails.  Waits are generous and only bound a failure.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

from dask_kubernetes.api import times
from dask_kubernetes_dev import kubectl
from dask_kubernetes_dev.kstatus import kstatus
from dask_kubernetes_dev.polling import wait_for
from tests.operator.e2e.conftest import Kubectl, condition, example, worker_pods

JOB = "simple-job"
SCHEDULER = f"{JOB}-scheduler"
WORKERS = f"{JOB}-default"

WORK = (
    "from dask.distributed import Client; import dask.array as da; "
    "client = Client(); client.wait_for_workers(1, timeout=120); "
    "assert da.ones((50, 50), chunks=10).sum().compute() == 2500; print('JOB DONE')"
)


def _job(
    args: list[str], *, workers: int = 0, restart_policy: str | None = "Never", **spec: Any
) -> dict[str, Any]:
    """``examples/job.yaml`` with the runner's ``args``, ``workers`` and extra DaskJob spec fields."""
    (job,) = example("job.yaml")
    job["spec"]["job"]["spec"]["containers"][0]["args"] = args
    if restart_policy:
        job["spec"]["job"]["spec"]["restartPolicy"] = restart_policy
    job["spec"]["cluster"]["spec"]["worker"]["replicas"] = workers
    job["spec"].update(spec)
    return job


def _sh(script: str) -> list[str]:
    return ["sh", "-c", script]


def _get(k: Kubectl) -> Any:
    return k.get("daskjob", JOB)


def _status(k: Kubectl) -> dict[str, Any]:
    return (_get(k) or {}).get("status") or {}


def _finished(k: Kubectl) -> Any:
    job = _get(k)
    return job if job and (job.get("status") or {}).get("jobStatus") in ("Successful", "Failed") else None


def _wait_finished(k: Kubectl, timeout: float = 420) -> dict[str, Any]:
    return wait_for(lambda: _finished(k), timeout=timeout, what=f"DaskJob {JOB} to finish")


def _wait_cond(k: Kubectl, type_: str, status: str = "True", timeout: float = 240) -> dict[str, Any]:
    def check() -> Any:
        job = _get(k)
        cond = condition(job, type_)
        return job if cond and cond["status"] == status else None

    return wait_for(check, timeout=timeout, what=f"DaskJob {JOB} {type_}={status}")


def _cond(obj: dict[str, Any] | None, type_: str) -> Any:
    """The condition ``type_`` of ``obj``; fails the test when there is none."""
    found = condition(obj, type_)
    assert found is not None, f"no {type_} condition in {(obj or {}).get('status')}"
    return found


def _patch_suspend(k: Kubectl, value: bool) -> None:
    k("patch", "daskjob", JOB, "--type=merge", "-p", json.dumps({"spec": {"suspend": value}}))


def _events(k: Kubectl, reason: str | None = None) -> list[dict[str, Any]]:
    """The job's Events (of this namespace, so they outlive the job), oldest first."""
    found = [
        e
        for e in k.items("events")
        if e["involvedObject"].get("kind") == "DaskJob"
        and e["involvedObject"].get("name") == JOB
        and (reason is None or e.get("reason") == reason)
    ]
    return sorted(found, key=lambda e: (e.get("firstTimestamp") or "", e["metadata"]["name"]))


def _started_runners(k: Kubectl) -> list[str]:
    """Runner Pod names in the job's JobStarted Events, as "runner Pod NAME (attempt N)"."""
    names = []
    for event in _events(k, "JobStarted"):
        match = re.search(r"runner Pod (\S+) \(attempt (\d+)\)", event["message"])
        assert match, event["message"]
        names.append(match.group(1))
    return names


def _runner_pods(k: Kubectl) -> list[dict[str, Any]]:
    return k.items("pods", f"dask.org/cluster-name={JOB},dask.org/component=job-runner")


def _logs(k: Kubectl, pod: str) -> str:
    return k("logs", pod, check=False).stdout


@contextlib.contextmanager
def _port_forward(k: Kubectl, target: str, port: int) -> Iterator[int]:
    """``kubectl port-forward target :port`` in the test namespace; yield the local port."""
    proc = kubectl.popen(
        k.target.kubeconfig,
        "port-forward", "-n", k.namespace, target, f":{port}", "--address=127.0.0.1",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)", line)
        assert match, (
            f"unexpected kubectl output {line!r}; stderr: {proc.stderr.read() if proc.stderr else ''}"
        )
        yield int(match.group(1))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)


def _http_get(port: int, path: str) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
            return str(resp.read().decode())
    except OSError:
        return None


def test_a_job_created_suspended_makes_nothing_until_resumed(k: Kubectl) -> None:
    k.apply(_job(["python", "-c", WORK], workers=1, restart_policy=None, suspend=True))
    job = _wait_cond(k, "Suspended")
    assert job["status"]["jobStatus"] == "Suspended"
    assert job["status"]["reason"] == "Suspended"
    assert _cond(job, "Reconciling")["status"] == "False"
    assert kstatus(job)[0] == "Current"
    # Nothing is made while it stays suspended: look again for a while.
    until = time.monotonic() + 8
    while time.monotonic() < until:
        assert k.items("pods") == [], [p["metadata"]["name"] for p in k.items("pods")]
        assert k.items("daskclusters") == []
        time.sleep(0.5)
    assert not _events(k, "JobStarted")

    _patch_suspend(k, False)
    job = _wait_finished(k)
    status = job["status"]
    assert status["jobStatus"] == "Successful", _logs(k, f"{JOB}-runner")
    assert status["attempt"] == 1
    assert status["jobRunnerPodName"] == f"{JOB}-runner"
    assert int(status.get("failed") or 0) == 0
    assert "JOB DONE" in _logs(k, f"{JOB}-runner")
    assert _cond(job, "Ready")["status"] == "True"
    assert _events(k, "Resumed")
    assert _started_runners(k) == [f"{JOB}-runner"]


def test_a_runner_that_always_fails_is_tried_backoff_limit_plus_one_times(k: Kubectl) -> None:
    k.apply(_job(["python", "-c", "import sys; sys.exit(1)"], backoffLimit=2))
    seen: set[str] = set()
    attempts_seen: set[str] = set()

    def finished() -> Any:
        for pod in _runner_pods(k):
            seen.add(pod["metadata"]["name"])
            attempts_seen.add(pod["metadata"]["labels"]["dask.org/job-attempt"])
        return _finished(k)

    job = wait_for(finished, timeout=600, what=f"DaskJob {JOB} to finish")
    status = job["status"]
    expected = [f"{JOB}-runner", f"{JOB}-runner-2", f"{JOB}-runner-3"]
    assert status["jobStatus"] == "Failed"
    assert status["reason"] == "BackoffLimitExceeded"
    assert status["failed"] == 3
    assert status["attempt"] == 3
    assert status["jobRunnerPodName"] == f"{JOB}-runner-3"
    assert _cond(job, "Stalled")["status"] == "True"
    assert _cond(job, "Stalled")["reason"] == "BackoffLimitExceeded"
    assert kstatus(job)[0] == "Failed"
    # Three distinct runner Pods were started, one per attempt, each with its attempt label.
    assert _started_runners(k) == expected
    assert seen <= set(expected), seen
    assert attempts_seen <= {"1", "2", "3"}, attempts_seen
    failed = _events(k, "AttemptFailed")
    assert len(failed) == 2, [e["message"] for e in failed]
    assert all(e["type"] == "Warning" for e in failed)
    assert len(_events(k, "JobFailed")) == 1
    # The last runner stays for its logs; its attempt's label and environment say 3.
    last = k.get("pod", f"{JOB}-runner-3")
    assert last["metadata"]["labels"]["dask.org/job-attempt"] == "3"
    env = {e["name"]: e.get("value") for e in last["spec"]["containers"][0].get("env") or []}
    assert env["DASK_JOB_ATTEMPT"] == "3"
    wait_for(lambda: k.get("daskcluster", JOB) is None, timeout=120, what="the job's cluster to go")


def test_a_runner_that_fails_once_succeeds_on_its_second_attempt(k: Kubectl) -> None:
    script = 'echo "attempt $DASK_JOB_ATTEMPT"; test "$DASK_JOB_ATTEMPT" -ge 2'
    k.apply(_job(_sh(script), backoffLimit=1))
    job = _wait_finished(k)
    status = job["status"]
    assert status["jobStatus"] == "Successful", _logs(k, f"{JOB}-runner-2")
    assert status["attempt"] == 2
    assert status["failed"] == 1
    assert status["succeeded"] == 1
    assert status["jobRunnerPodName"] == f"{JOB}-runner-2"
    assert status.get("reason") is None
    assert _cond(job, "Ready")["status"] == "True"
    assert kstatus(job)[0] == "Current"
    assert "attempt 2" in _logs(k, f"{JOB}-runner-2")
    assert _started_runners(k) == [f"{JOB}-runner", f"{JOB}-runner-2"]
    (failed,) = _events(k, "AttemptFailed")
    assert "attempt 1 failed (RunnerFailed)" in failed["message"]
    wait_for(
        lambda: k.get("pod", f"{JOB}-runner") is None, timeout=120, what="the first attempt's runner to go"
    )


def test_a_cluster_whose_scheduler_cannot_start_fails_the_job_as_cluster_stalled(k: Kubectl) -> None:
    job = _job(["python", "-c", "print('never runs')"], backoffLimit=0)
    cluster = job["spec"]["cluster"]["spec"]
    cluster["progressDeadlineSeconds"] = 20
    cluster["scheduler"]["spec"]["containers"][0]["args"] = ["no-such-dask-scheduler"]
    k.apply(job)
    job = _wait_finished(k, timeout=300)
    status = job["status"]
    assert status["jobStatus"] == "Failed"
    assert status["reason"] == "ClusterStalled"
    assert status["failed"] == 1
    stalled = _cond(job, "Stalled")
    assert stalled["status"] == "True"
    assert stalled["reason"] == "ClusterStalled"
    assert kstatus(job)[0] == "Failed"
    # The scheduler never ran, so no runner was ever made.
    assert not _events(k, "JobStarted")
    assert _runner_pods(k) == []
    wait_for(lambda: k.get("daskcluster", JOB) is None, timeout=120, what="the job's cluster to go")


def test_workers_that_never_schedule_exceed_the_pre_running_deadline(k: Kubectl) -> None:
    job = _job(["sleep", "600"], workers=1, preRunningDeadlineSeconds=20)
    worker = job["spec"]["cluster"]["spec"]["worker"]["spec"]
    worker["nodeSelector"] = {"dask.org/test-no-such-node": "true"}
    k.apply(job)
    job = _wait_finished(k, timeout=300)
    status = job["status"]
    assert status["jobStatus"] == "Failed"
    assert status["reason"] == "PreRunningDeadlineExceeded"
    assert status["failed"] == 1
    assert _cond(job, "Stalled")["reason"] == "PreRunningDeadlineExceeded"
    assert kstatus(job)[0] == "Failed"
    assert _events(k, "DeadlineExceeded")
    # The workers really never scheduled: the deadline, not the runner, ended the job.
    assert all(p["status"].get("phase") == "Pending" for p in worker_pods(k, WORKERS))

    def no_runner_left() -> bool:
        return not [
            p for p in _runner_pods(k) if (p.get("status") or {}).get("phase") in ("Pending", "Running")
        ]

    wait_for(no_runner_left, timeout=120, what="no runner Pod left running")
    wait_for(lambda: k.get("daskcluster", JOB) is None, timeout=120, what="the job's cluster to go")


def test_delete_workers_on_failure_keeps_the_scheduler_and_its_dashboard(k: Kubectl) -> None:
    fail_after_workers = (
        "from dask.distributed import Client; client = Client(); "
        "client.wait_for_workers(1, timeout=120); raise SystemExit(1)"
    )
    job = _job(["python", "-c", fail_after_workers], workers=1, deletionPolicy={"onFailure": "DeleteWorkers"})
    k.apply(job)
    job = _wait_finished(k)
    assert job["status"]["jobStatus"] == "Failed"
    assert job["status"]["reason"] == "RunnerFailed"
    assert "Traceback" not in _logs(k, f"{JOB}-runner"), _logs(k, f"{JOB}-runner")

    def workers_gone() -> bool:
        cluster = k.get("daskcluster", JOB)
        group = k.get("daskworkergroup", WORKERS)
        return bool(
            cluster
            and cluster["spec"]["worker"]["replicas"] == 0
            and group
            and group["spec"]["worker"]["replicas"] == 0
            and not worker_pods(k, WORKERS)
        )

    wait_for(workers_gone, timeout=180, what="the cluster's workers to go to 0")
    assert _events(k, "CleanedUp")
    cluster = k.get("daskcluster", JOB)
    assert cluster is not None and not cluster["metadata"].get("deletionTimestamp")
    scheduler = k.get("pod", SCHEDULER)
    assert scheduler["status"]["phase"] == "Running"
    assert not scheduler["metadata"].get("deletionTimestamp")
    assert k.get("service", SCHEDULER) is not None
    with _port_forward(k, f"svc/{SCHEDULER}", 8787) as port:
        body = wait_for(lambda: _http_get(port, "/health"), timeout=60, what="the dashboard to answer")
        assert body is not None and body.strip() == "ok"
    # Still so a while later: nothing else deletes it, and the runner Pod stays for its logs.
    time.sleep(5)
    assert k.get("pod", SCHEDULER)["metadata"]["uid"] == scheduler["metadata"]["uid"]
    assert not worker_pods(k, WORKERS)
    assert k.get("pod", f"{JOB}-runner")["status"]["phase"] == "Failed"


def test_delete_self_after_the_ttl_removes_the_job_its_runner_and_cluster(k: Kubectl) -> None:
    k.apply(
        _job(
            ["python", "-c", "print('JOB DONE')"],
            deletionPolicy={"onSuccess": "DeleteSelf"},
            ttlSecondsAfterFinished=5,
        )
    )
    job = _wait_finished(k)
    status = job["status"]
    assert status["jobStatus"] == "Successful"
    assert job["metadata"].get("deletionTimestamp") is None
    ended = times.parse_time(status["endTime"])
    assert ended is not None
    wait_for(lambda: _get(k) is None, timeout=180, what=f"DaskJob {JOB} to delete itself")
    (cleaned,) = _events(k, "CleanedUp")
    assert "DeleteSelf" in cleaned["message"]
    # Not before the TTL: the Event's time (whole seconds) is at least endTime + 5 s.
    cleaned_at = times.parse_time(cleaned["firstTimestamp"])
    assert cleaned_at is not None and cleaned_at >= ended + 5, (cleaned["firstTimestamp"], status["endTime"])
    wait_for(lambda: not _runner_pods(k), timeout=180, what="the runner to go with the job")
    wait_for(lambda: k.get("daskcluster", JOB) is None, timeout=180, what="the cluster to go with the job")


def test_suspending_a_running_job_parks_it_and_resuming_runs_a_fresh_attempt(k: Kubectl) -> None:
    script = 'if [ "$DASK_JOB_ATTEMPT" = 1 ]; then exec sleep 600; fi; echo "resumed at $DASK_JOB_ATTEMPT"'
    k.apply(_job(_sh(script)))

    def running() -> Any:
        runner = k.get("pod", f"{JOB}-runner")
        status = _status(k)
        ok = status.get("jobStatus") == "Running" and runner and runner["status"].get("phase") == "Running"
        return status if ok else None

    started = wait_for(running, timeout=300, what="the first runner to run")["startTime"]
    _patch_suspend(k, True)
    job = _wait_cond(k, "Suspended")
    status = job["status"]
    assert status["jobStatus"] == "Suspended"
    assert status["reason"] == "Suspended"
    assert status["startTime"] == started
    assert _cond(job, "Reconciling")["status"] == "False"
    assert kstatus(job)[0] == "Current"
    wait_for(lambda: not _runner_pods(k), timeout=120, what="the runner to go")
    wait_for(lambda: k.get("daskcluster", JOB) is None, timeout=120, what="the cluster to go")
    assert _events(k, "Suspended")

    _patch_suspend(k, False)
    job = _wait_finished(k)
    status = job["status"]
    assert status["jobStatus"] == "Successful", _logs(k, f"{JOB}-runner-2")
    assert status["attempt"] == 2
    assert status["jobRunnerPodName"] == f"{JOB}-runner-2"
    assert int(status.get("failed") or 0) == 0
    assert status["startTime"] == started
    assert "resumed at 2" in _logs(k, f"{JOB}-runner-2")
    assert _started_runners(k) == [f"{JOB}-runner", f"{JOB}-runner-2"]
    assert _events(k, "Resumed")
    assert not _events(k, "AttemptFailed")

"""DaskJob: a successful job records all five status fields; a failing one ends Failed."""

from __future__ import annotations

from dask_kubernetes_dev.polling import wait_for
from tests.operator.e2e.conftest import condition, example

WORK = (
    "from dask.distributed import Client; import dask.array as da; "
    "client = Client(); client.wait_for_workers(1, timeout=120); "
    "assert da.ones((50, 50), chunks=10).sum().compute() == 2500; print('JOB DONE')"
)


def _job(args, restart_policy=None, workers=1):
    (job,) = example("job.yaml")
    container = job["spec"]["job"]["spec"]["containers"][0]
    container["args"] = args
    if restart_policy:
        job["spec"]["job"]["spec"]["restartPolicy"] = restart_policy
    job["spec"]["cluster"]["spec"]["worker"]["replicas"] = workers
    return job


def _finished(k):
    job = k.get("daskjob", "simple-job")
    return job if job and job.get("status", {}).get("jobStatus") in ("Successful", "Failed") else None


def test_successful_job_records_status_and_deletes_its_cluster(k):
    k.apply(_job(["python", "-c", WORK]))
    job = wait_for(lambda: _finished(k), timeout=300, what="the job to finish")
    status = job["status"]
    assert status["jobStatus"] == "Successful", k("logs", "simple-job-runner", check=False).stdout
    assert status["clusterName"] == "simple-job"
    assert status["jobRunnerPodName"] == "simple-job-runner"
    assert status["startTime"] <= status["endTime"]
    assert condition(job, "Ready")["status"] == "True"
    assert "JOB DONE" in k("logs", "simple-job-runner").stdout
    runner = k.get("pod", "simple-job-runner")
    assert runner["spec"]["restartPolicy"] == "OnFailure"
    wait_for(lambda: k.get("daskcluster", "simple-job") is None, timeout=120, what="the job's cluster to go")
    wait_for(lambda: not k.items("pods", "dask.org/component=worker"), timeout=120, what="workers to go")
    k("delete", "daskjob", "simple-job")
    wait_for(
        lambda: k.get("pod", "simple-job-runner") is None, timeout=120, what="the runner to go with the job"
    )


def test_failing_job_ends_failed(k):
    k.apply(_job(["python", "-c", "import sys; sys.exit(1)"], restart_policy="Never"))
    job = wait_for(lambda: _finished(k), timeout=300, what="the job to finish")
    assert job["status"]["jobStatus"] == "Failed"
    assert job["status"]["endTime"]
    assert condition(job, "Stalled")["status"] == "True"
    wait_for(lambda: k.get("daskcluster", "simple-job") is None, timeout=120, what="the job's cluster to go")

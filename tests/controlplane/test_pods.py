"""Pods on the local node agent: run, network, Services, deletion, GC, scheduling, tokens."""

from __future__ import annotations

import json
import uuid

import pytest

from dask_kubernetes_dev.polling import wait_for
from tests.controlplane.helpers import apply, condition, get, pod, processes_with, scheduler, wait_phase

pytestmark = pytest.mark.cluster

def test_pod_runs_to_completion_and_logs(k8s_cluster, namespace):
    apply(k8s_cluster, namespace, pod("hello", ["python", "-c", "print('hello')"], restartPolicy="Never"))
    done = wait_phase(k8s_cluster, namespace, "hello", {"Succeeded", "Failed"})
    assert done["status"]["phase"] == "Succeeded", done["status"]
    state = done["status"]["containerStatuses"][0]["state"]["terminated"]
    assert state["exitCode"] == 0 and state["reason"] == "Completed"
    assert k8s_cluster.kubectl("logs", "hello", "-n", namespace).stdout == "hello\n"


def test_two_schedulers_and_a_client_through_a_service(k8s_cluster, namespace):
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "sched"},
        "spec": {"selector": {"app": "sched-a"}, "ports": [{"name": "comm", "port": 8786}]},
    }
    apply(k8s_cluster, namespace, scheduler("sched-a"), scheduler("sched-b"), service)
    k8s_cluster.kubectl(
        "wait", "--for=condition=Ready", "pod/sched-a", "pod/sched-b", "-n", namespace, "--timeout=120s"
    )
    pods = json.loads(
        k8s_cluster.kubectl("get", "pods", "sched-a", "sched-b", "-n", namespace, "-o", "json").stdout
    )
    assert [condition(p, "Ready")["status"] for p in pods["items"]] == ["True", "True"]
    ips = {p["metadata"]["name"]: p["status"]["podIP"] for p in pods["items"]}
    assert ips["sched-a"] != ips["sched-b"]

    address = f"tcp://sched.{namespace}.svc.cluster.local:8786"
    script = (
        "import distributed\n"
        f"client = distributed.Client({address!r}, timeout=30)\n"
        "print('scheduler', client.scheduler_info()['address'])\n"
        "client.close()\n"
    )
    apply(k8s_cluster, namespace, pod("client", ["python", "-c", script], restartPolicy="Never"))
    done = wait_phase(k8s_cluster, namespace, "client", {"Succeeded", "Failed"}, timeout=180)
    logs = k8s_cluster.kubectl("logs", "client", "-n", namespace).stdout
    assert done["status"]["phase"] == "Succeeded", logs
    assert f"scheduler tcp://{ips['sched-a']}:8786" in logs


def test_deleting_a_pod_ends_its_processes(k8s_cluster, namespace):
    marker = f"marker-{uuid.uuid4().hex}"
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(3600)"
    manifest = pod(
        "sleeper", ["python", "-c", "import time; time.sleep(3600)", marker], terminationGracePeriodSeconds=3
    )
    manifest["spec"]["containers"].append(
        {"name": "stubborn", "image": "x", "command": ["python", "-c", stubborn, marker]}
    )
    apply(k8s_cluster, namespace, manifest)
    wait_phase(k8s_cluster, namespace, "sleeper", {"Running"})
    wait_for(lambda: len(processes_with(marker)) == 2, timeout=120, what="both container processes to run")
    k8s_cluster.kubectl("delete", "pod", "sleeper", "-n", namespace, "--wait=true", "--timeout=60s")
    assert get(k8s_cluster, namespace, "pod", "sleeper") is None
    assert processes_with(marker) == []


def test_deleting_the_owner_deletes_the_pod(k8s_cluster, namespace):
    apply(k8s_cluster, namespace, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner"}})
    owner = get(k8s_cluster, namespace, "configmap", "owner")
    dependent = pod("dependent", ["sleep", "3600"])
    dependent["metadata"]["ownerReferences"] = [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}
    ]
    apply(k8s_cluster, namespace, dependent)
    wait_phase(k8s_cluster, namespace, "dependent", {"Running"})
    k8s_cluster.kubectl("delete", "configmap", "owner", "-n", namespace)
    wait_for(
        lambda: get(k8s_cluster, namespace, "pod", "dependent") is None,
        timeout=120,
        what="the garbage collector to remove the Pod",
    )


def test_pod_without_matching_node_stays_pending(k8s_cluster, namespace):
    apply(
        k8s_cluster,
        namespace,
        pod("nowhere", ["sleep", "3600"], nodeSelector={"example.com/no-such": "node"}),
    )

    def unschedulable() -> dict | None:
        found = get(k8s_cluster, namespace, "pod", "nowhere")
        return found if condition(found or {}, "PodScheduled").get("reason") == "Unschedulable" else None

    found = wait_for(unschedulable, timeout=120, what="the scheduler to mark the Pod unschedulable")
    assert condition(found, "PodScheduled")["status"] == "False"
    assert found["status"]["phase"] == "Pending"
    assert not found["spec"].get("nodeName")


def test_pod_reaches_the_api_with_its_service_account_token(k8s_cluster, namespace):
    script = """
import os, ssl, urllib.error, urllib.request
sa = "/var/run/secrets/kubernetes.io/serviceaccount"
token = open(sa + "/token").read().strip()
context = ssl.create_default_context(cafile=sa + "/ca.crt")
url = "https://%s:%s/api" % (os.environ["KUBERNETES_SERVICE_HOST"], os.environ["KUBERNETES_SERVICE_PORT"])
request = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
try:
    status = urllib.request.urlopen(request, context=context, timeout=20).status
except urllib.error.HTTPError as exc:
    status = exc.code
print("status", status)
print("namespace", open(sa + "/namespace").read())
"""
    apply(k8s_cluster, namespace, pod("token", ["python", "-c", script], restartPolicy="Never"))
    done = wait_phase(k8s_cluster, namespace, "token", {"Succeeded", "Failed"})
    logs = k8s_cluster.kubectl("logs", "token", "-n", namespace).stdout
    assert done["status"]["phase"] == "Succeeded", logs
    assert ("status 200" in logs) or ("status 403" in logs), logs
    assert f"namespace {namespace}" in logs

"""Upstream's contract against the local control plane: operator flags, CLI, discovery, exit, errors."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from dask_kubernetes.exceptions import SchedulerStartupError
from dask_kubernetes.operator import KubeCluster, discover, make_cluster_spec
from dask_kubernetes_dev.polling import wait_for
from tests.operator.e2e.conftest import OPERATOR_NAMESPACE, example, operator_pods, wait_ready
from tests.operator.e2e.helpers import scheduler_running

pytestmark = pytest.mark.cluster
BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def kubeconfig(dask_operator, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(dask_operator.kubeconfig))


@contextlib.contextmanager
def chart_operator_stopped(k) -> Iterator[None]:
    """Stop the chart's operator, so only the one a test starts reconciles."""
    deploy = "deployment/dask-kubernetes-operator"
    k.target.kubectl("-n", OPERATOR_NAMESPACE, "scale", deploy, "--replicas=0")
    try:
        wait_for(lambda: not operator_pods(k), timeout=60, what="the chart's operator Pod to stop")
        yield
    finally:
        k.target.kubectl("-n", OPERATOR_NAMESPACE, "scale", deploy, "--replicas=1")
        k.target.kubectl("-n", OPERATOR_NAMESPACE, "rollout", "status", deploy, "--timeout=120s")


def _reconciled_by(cmd: list[str], k, log_path: Path) -> str:
    """Run an operator command in the test's namespace; return its log once it has reconciled a cluster."""
    with chart_operator_stopped(k), log_path.open("w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=k.target.env())
        try:
            k.apply(example("cluster.yaml"))
            wait_for(
                lambda: (k.get("daskcluster", "simple") or {}).get("status", {}).get("phase"),
                timeout=120,
                what=f"{cmd[0]} to reconcile the DaskCluster ({log_path.read_text()[-2000:]})",
            )
            assert k.get("pod", "simple-scheduler") is not None
            assert proc.poll() is None, log_path.read_text()
        finally:
            proc.terminate()
            proc.wait(30)
    return log_path.read_text()


def test_operator_passes_kopf_flags_through(k, tmp_path):
    cmd = [str(BIN / "dask-kubernetes"), "operator", "--log-format=json", "--debug", "-n", k.namespace]
    out = _reconciled_by(cmd, k, tmp_path / "operator.log")
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert records, out[-2000:]
    assert any(r.get("severity") == "debug" for r in records)  # kopf's JSON format, at --debug


def test_kopf_run_module_starts_our_operator(k, tmp_path):
    cmd = [str(BIN / "kopf"), "run", "--standalone", "-m", "dask_kubernetes.operator", "-n", k.namespace]
    _reconciled_by(cmd, k, tmp_path / "kopf.log")


def test_gen_cluster_manifest_is_accepted_and_becomes_ready(k):
    proc = subprocess.run(
        [
            str(BIN / "dask"),
            "kubernetes",
            "gen",
            "cluster",
            "--name",
            "x",
            "--image",
            "y",
            "--n-workers",
            "2",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    manifest = yaml.safe_load(proc.stdout)
    k("apply", "-f", "-", input=proc.stdout)
    assert k.get("daskcluster", "x")["spec"]["worker"]["replicas"] == manifest["spec"]["worker"]["replicas"]
    wait_ready(k, "daskcluster", "x")


def test_discover_lists_our_clusters(k):
    k.apply(example("cluster.yaml"))

    async def names():
        return [(name, cls) async for name, cls in discover()]

    found = asyncio.run(names())
    assert ("simple", KubeCluster) in found


def test_a_script_that_never_closes_leaves_no_daskcluster(k, tmp_path):
    script = tmp_path / "leave.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from dask_kubernetes.operator import KubeCluster
            cluster = KubeCluster(name="leftover", namespace="{k.namespace}", n_workers=0, quiet=True)
            print("created", cluster.name, flush=True)
            """
        )
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=k.target.env())
    assert proc.returncode == 0, proc.stderr
    assert "created leftover" in proc.stdout
    assert k.get("daskcluster", "leftover") is None


def test_from_name_accepts_create_mode_and_adopts_image_and_env(k):
    spec = make_cluster_spec(name="adopt", n_workers=0, env={"TEAM": "ml"})
    k.apply(spec)
    wait_ready(k, "daskcluster", "adopt")
    cluster = KubeCluster.from_name(
        "adopt", namespace=k.namespace, create_mode="CREATE_OR_CONNECT", quiet=True
    )
    try:
        assert cluster.forwarded_dashboard_port is not None
        assert cluster.image == spec["spec"]["worker"]["spec"]["containers"][0]["image"]
        cluster.add_worker_group("extra", n_workers=0)
        group = k.get("daskworkergroup", "adopt-extra")
        assert {"name": "TEAM", "value": "ml"} in group["spec"]["worker"]["spec"]["containers"][0]["env"]
    finally:
        cluster.close()
    assert k.get("daskcluster", "adopt") is not None  # from_name never deletes


def test_missing_scheduler_executable_is_named(k):
    spec = make_cluster_spec(name="crashloopbackoff", n_workers=0)
    spec["spec"]["scheduler"]["spec"]["containers"][0]["args"][0] = "dask-schmeduler"
    with pytest.raises(SchedulerStartupError, match="Scheduler failed to start") as info:
        KubeCluster(custom_cluster_spec=spec, namespace=k.namespace, resource_timeout=60, quiet=True)
    assert "executable file not found" in str(info.value)
    assert "dask-schmeduler" in str(info.value)


def test_no_operator_message_is_upstreams(k):
    with chart_operator_stopped(k):
        with pytest.raises(TimeoutError, match="is the Dask Operator running"):
            KubeCluster(name="noop", n_workers=1, resource_timeout=1, namespace=k.namespace, quiet=True)
    assert os.environ["KUBECONFIG"]


def test_a_slow_scheduler_is_waited_for_not_deleted(k):
    # As upstream: resource_timeout bounds the operator's pick-up and a crash loop,
    # not a slow start (an image pull on a real cluster); the cluster is kept.
    spec = scheduler_running("slow", "sh", "-c", "sleep 15 && exec dask-scheduler --host 0.0.0.0")
    with KubeCluster(
        custom_cluster_spec=spec, namespace=k.namespace, resource_timeout=3, quiet=True
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://")
        assert any("still waiting" in str(entry) for entry in cluster._cluster_manager_logs)
        assert k.get("daskcluster", "slow") is not None

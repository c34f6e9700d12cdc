"""Ratcheting through the real API server: a stricter rule never blocks an unrelated edit.

The object is stored while the webhook does not judge its namespace (as if it had
been created before the static Pod rules existed); with the webhook judging again,
labels, ``kubectl scale`` and a replicas patch pass, while changing the bad field
to another bad value is refused, naming the field.
"""

from __future__ import annotations

import json

import pytest

from dask_kubernetes_dev.polling import wait_for
from tests.webhooks.e2e.conftest import DENIED, apply, example

pytestmark = pytest.mark.cluster

OPT_OUT = "dask.org/webhook"
PORT = "spec.worker.spec.containers[0].ports[0].containerPort"


def _bad_port_cluster(name: str, port: int = 99999):
    (obj,) = example("cluster.yaml")
    obj["metadata"]["name"] = name
    obj["spec"]["worker"]["spec"]["containers"][0]["ports"] = [{"containerPort": port, "name": "extra"}]
    return obj


def test_unrelated_edits_of_a_stored_object_pass_while_its_bad_field_stays_checked(webhook, dask_namespace):
    webhook.kubectl("label", "namespace", dask_namespace, f"{OPT_OUT}=disabled", check=True)
    stored = apply(webhook, dask_namespace, _bad_port_cluster("legacy"))
    assert stored.returncode == 0, stored.stderr
    webhook.kubectl("label", "namespace", dask_namespace, f"{OPT_OUT}-", check=True)

    def judged_again() -> bool:
        probe = apply(webhook, dask_namespace, _bad_port_cluster("probe"), "--dry-run=server")
        return probe.returncode != 0 and DENIED in probe.stderr

    wait_for(judged_again, timeout=60, what="the webhook to judge the namespace again")

    label = webhook.kubectl("label", "daskcluster", "legacy", "-n", dask_namespace, "team=a")
    assert label.returncode == 0, label.stderr
    scale = webhook.kubectl("scale", "daskcluster", "legacy", "-n", dask_namespace, "--replicas=3")
    assert scale.returncode == 0, scale.stderr
    patch = webhook.kubectl(
        "patch",
        "daskcluster",
        "legacy",
        "-n",
        dask_namespace,
        "--type=merge",
        "-p",
        json.dumps({"spec": {"worker": {"replicas": 2}}}),
    )
    assert patch.returncode == 0, patch.stderr
    live = json.loads(
        webhook.kubectl("get", "daskcluster", "legacy", "-n", dask_namespace, "-o", "json", check=True).stdout
    )
    assert live["spec"]["worker"]["replicas"] == 2
    assert live["metadata"]["labels"]["team"] == "a"

    worse = apply(webhook, dask_namespace, _bad_port_cluster("legacy", port=88888))
    assert worse.returncode != 0, worse.stdout
    assert f"{PORT}: {DENIED}: Invalid value: 88888" in worse.stderr, worse.stderr
    fixed = apply(webhook, dask_namespace, _bad_port_cluster("legacy", port=9999))
    assert fixed.returncode == 0, fixed.stderr

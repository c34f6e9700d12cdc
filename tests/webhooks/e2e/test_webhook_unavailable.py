"""With the webhook scaled to zero: validation fails closed, defaulting fails open.

Runs after the other webhook tests (file order) and puts everything back: the
Deployment at its replicas, and the configurations as the chart renders them.
"""

from __future__ import annotations

import json

import pytest

from dask_kubernetes import yamlio
from dask_kubernetes_dev.polling import wait_for
from tests.webhooks.e2e.conftest import apply, example

pytestmark = pytest.mark.cluster


def _endpoints(webhook) -> int:
    selector = f"kubernetes.io/service-name={webhook.fullname}"
    proc = webhook.kubectl("get", "endpointslices", "-n", webhook.namespace, "-l", selector, "-o", "json")
    slices = json.loads(proc.stdout)["items"] if proc.returncode == 0 else []
    return sum(
        1 for s in slices for e in s.get("endpoints") or [] if (e.get("conditions") or {}).get("ready")
    )


@pytest.fixture
def existing(webhook, dask_namespace):
    """A DaskCluster created while the webhook is up."""
    (cluster,) = example("cluster.yaml")
    assert apply(webhook, dask_namespace, cluster).returncode == 0
    return cluster


@pytest.fixture
def webhook_down(webhook, existing):
    deploy = f"deployment/{webhook.fullname}"
    webhook.kubectl("scale", deploy, "-n", webhook.namespace, "--replicas=0", check=True)
    wait_for(lambda: _endpoints(webhook) == 0, timeout=120, what="the webhook to have no ready endpoint")
    try:
        yield webhook
    finally:
        configurations = [o for o in webhook.manifests if o["kind"].endswith("WebhookConfiguration")]
        webhook.kubectl(
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            "-",
            input=yamlio.dump_all(configurations),
            check=True,
        )
        webhook.kubectl("scale", deploy, "-n", webhook.namespace, "--replicas=2", check=True)
        wait_for(webhook.available, timeout=240, what="the webhook to come back")
        wait_for(webhook.ca_bundles_patched, timeout=60, what="caBundle to be in place again")


def test_validation_fails_closed_and_defaulting_fails_open(webhook_down, dask_namespace, existing):
    webhook = webhook_down
    # Metadata-only updates (labels, finalizers: the operator's bookkeeping) are not
    # sent to the webhook at all, so they go through; spec changes are refused.
    name = existing["metadata"]["name"]
    proc = webhook.kubectl("label", "daskcluster", name, "-n", dask_namespace, "team=data")
    assert proc.returncode == 0, proc.stderr
    proc = webhook.kubectl("scale", "daskcluster", name, "-n", dask_namespace, "--replicas=3")
    assert proc.returncode == 0, proc.stderr  # the scale subresource is not intercepted either
    existing["spec"]["idleTimeout"] = 600
    proc = apply(webhook, dask_namespace, existing)
    assert proc.returncode != 0 and 'failed calling webhook "validate.kubernetes.dask.org"' in proc.stderr

    (job,) = example("job.yaml")
    proc = apply(webhook, dask_namespace, job)
    assert proc.returncode != 0, proc.stdout
    # A clear refusal that names the validating webhook and why it could not be asked...
    assert 'failed calling webhook "validate.kubernetes.dask.org"' in proc.stderr, proc.stderr
    assert "no endpoints available for service" in proc.stderr, proc.stderr
    # ...and not the defaulting one: its failure was ignored, the request went on.
    assert "mutate.kubernetes.dask.org" not in proc.stderr, proc.stderr
    assert webhook.kubectl("get", "daskjob", "simple-job", "-n", dask_namespace).returncode != 0

    # With validation set to fail open too, the object is stored exactly as written:
    # defaulting was skipped (no restartPolicy), not applied.
    webhook.kubectl(
        "patch", "validatingwebhookconfiguration", webhook.fullname, "--type=json",
        "-p", '[{"op": "replace", "path": "/webhooks/0/failurePolicy", "value": "Ignore"}]',
        check=True,
    )  # fmt: skip
    proc = apply(webhook, dask_namespace, job)
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr
    live = json.loads(
        webhook.kubectl("get", "daskjob", "simple-job", "-n", dask_namespace, "-o", "json").stdout
    )
    assert "restartPolicy" not in live["spec"]["job"]["spec"]

"""/healthz, /readyz and /metrics."""

from __future__ import annotations

from dask_kubernetes.settings import Settings
from dask_kubernetes.webhooks.app import create_app
from tests.webhooks.conftest import TestClient, example, review


def test_health_and_readiness(client):
    assert client.get("/healthz").text == "ok"
    ready = client.get("/readyz")
    assert (ready.status_code, ready.text) == (200, "ok")


def test_not_ready_before_start_up():
    client = TestClient(create_app(Settings()))  # no `with`: the lifespan has not run
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.text == "not ready: starting"


def test_metrics_count_reviews_verdicts_and_warnings(client):
    bad = example("autoscaler.yaml")
    bad["spec"].update(minimum=3, maximum=1)
    client.post("/validate", json=review(bad))
    client.post("/validate", json=review(example("cluster.yaml")))
    client.post("/mutate", json=review(example("job.yaml")))
    client.post("/validate", content=b"{")
    text = client.get("/metrics").text
    assert (
        'dask_webhook_admission_reviews_total{allowed="false",operation="CREATE",'
        'resource="daskautoscalers",route="validate"} 1.0'
    ) in text
    assert (
        'dask_webhook_admission_reviews_total{allowed="true",operation="CREATE",'
        'resource="daskclusters",route="validate"} 1.0'
    ) in text
    assert 'dask_webhook_admission_warnings_total{resource="daskclusters"} 3.0' in text
    assert 'dask_webhook_defaulting_patches_total{resource="daskjobs"} 1.0' in text
    assert 'dask_webhook_bad_requests_total{route="validate"} 1.0' in text
    assert 'dask_webhook_admission_duration_seconds_count{route="validate"} 2.0' in text

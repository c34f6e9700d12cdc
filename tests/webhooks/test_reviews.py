"""Malformed bodies get a 400 with a message, never a stack trace; failures of ours never a 500."""

from __future__ import annotations

import json

import pytest

from dask_kubernetes.validation import registry
from dask_kubernetes.webhooks.reviews import MAX_BODY_BYTES
from tests.webhooks.conftest import example, response_of, review


def _without(path):
    body = review(example("cluster.yaml"))
    node = body
    *parents, last = path.split(".")
    for part in parents:
        node = node[part]
    del node[last]
    return json.dumps(body).encode()


def _replace(path, value):
    body = review(example("cluster.yaml"))
    node = body
    *parents, last = path.split(".")
    for part in parents:
        node = node[part]
    node[last] = value
    return json.dumps(body).encode()


MALFORMED = {
    "empty": (b"", "the body is not JSON (JSONDecodeError)"),
    "not-json": (b"<xml/>", "the body is not JSON (JSONDecodeError)"),
    "truncated": (json.dumps(review(example("cluster.yaml"))).encode()[:-7], "the body is not JSON"),
    "a-list": (b"[]", "body: Input should be a valid dictionary or instance of AdmissionReview"),
    "wrong-api-version": (
        _replace("apiVersion", "admission.k8s.io/v1beta1"),
        "apiVersion: Input should be 'admission.k8s.io/v1'",
    ),
    "no-request": (_without("request"), "request: Field required"),
    "no-uid": (_without("request.uid"), "request.uid: Field required"),
    "empty-uid": (_replace("request.uid", ""), "request.uid: String should have at least 1 character"),
    "unknown-operation": (_replace("request.operation", "PATCH"), "request.operation: Input should be"),
    "object-not-an-object": (
        _replace("request.object", [1, 2]),
        "request.object: Input should be a valid dictionary",
    ),
    "create-without-object": (_replace("request.object", None), "request.object is required for CREATE"),
    "update-without-old-object": (
        _replace("request.operation", "UPDATE"),
        "request.oldObject is required for UPDATE",
    ),
    "deeply-nested": (b"[" * 100_000 + b"]" * 100_000, "the body is not JSON (RecursionError)"),
}


@pytest.mark.parametrize("route", ["/validate", "/mutate"])
@pytest.mark.parametrize(("body", "message"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_reviews_get_400_with_a_message(client, route, body, message):
    response = client.post(route, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == 400
    assert payload["reason"] == "BadRequest"
    assert payload["message"].startswith("malformed AdmissionReview: ")
    assert message in payload["message"]
    assert "Traceback" not in response.text


def test_the_content_type_does_not_matter(client):
    body = json.dumps(review(example("autoscaler.yaml"))).encode()
    response = client.post("/validate", content=body, headers={"content-type": "text/plain"})
    assert response_of(response)["allowed"] is True


def _chunks(total: int, size: int = 1024 * 1024):
    """A body without Content-Length: the client sends it chunked."""
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


@pytest.mark.parametrize("route", ["/validate", "/mutate"])
@pytest.mark.parametrize(
    "content",
    [lambda: b" " * (MAX_BODY_BYTES + 1), lambda: _chunks(MAX_BODY_BYTES + 1)],
    ids=["content-length", "chunked"],
)
def test_a_body_over_the_limit_is_refused_with_413(client, route, content):
    response = client.post(route, content=content())
    assert response.status_code == 413
    payload = response.json()
    assert payload == {
        "code": 413,
        "reason": "RequestEntityTooLarge",
        "message": payload["message"],
    }
    assert f"larger than the webhook accepts ({MAX_BODY_BYTES} bytes)" in payload["message"]


def test_a_body_at_the_limit_is_read(client):
    body = json.dumps(review(example("autoscaler.yaml"))).encode()
    padded = body + b" " * (MAX_BODY_BYTES - len(body))
    assert response_of(client.post("/validate", content=padded))["allowed"]


def test_a_content_length_that_is_not_a_number_is_a_400(client):
    response = client.post("/validate", content=b"{}", headers={"content-length": "lots"})
    assert response.status_code == 400
    assert "Content-Length 'lots' is not a number of bytes" in response.json()["message"]


def test_a_failure_while_validating_refuses_without_a_500(client, monkeypatch):
    def boom(obj):
        raise RuntimeError("bug")

    monkeypatch.setitem(registry.VALIDATORS, "daskclusters", boom)
    monkeypatch.setitem(registry.RULES, "daskclusters", registry.Rules("DaskCluster", boom, boom, boom))
    response = client.post("/validate", json=review(example("cluster.yaml")))
    answer = response_of(response)
    assert answer["allowed"] is False
    assert answer["status"]["reason"] == "InternalError"
    assert "Traceback" not in response.text and "bug" not in response.text

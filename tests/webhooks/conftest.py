"""Fixtures for the webhook's HTTP-level tests: an app with a fake API, and review factories."""

from __future__ import annotations

import base64
import copy
import json
import uuid
import warnings
from typing import Any

import pytest

from dask_kubernetes.api import constants
from dask_kubernetes.settings import Settings
from dask_kubernetes.validation.queueing import QueuedCluster
from dask_kubernetes.webhooks.app import create_app
from tests.conftest import ROOT, load_docs

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PLURAL_OF = {
    constants.KIND_CLUSTER: constants.PLURAL_CLUSTER,
    constants.KIND_WORKER_GROUP: constants.PLURAL_WORKER_GROUP,
    constants.KIND_JOB: constants.PLURAL_JOB,
    constants.KIND_AUTOSCALER: constants.PLURAL_AUTOSCALER,
}


class FakeLookup:
    """Answers the lookups from a set of existing clusters and the queued ones, or fails."""

    def __init__(self) -> None:
        self.clusters: set[tuple[str, str]] = set()
        self.queued: dict[tuple[str, str], QueuedCluster] = {}
        self.broken = False
        self.calls: list[tuple[str, str]] = []
        self.queued_calls: list[tuple[str, str]] = []

    async def cluster_exists(self, namespace: str, name: str) -> bool | None:
        self.calls.append((namespace, name))
        if self.broken:
            return None
        return (namespace, name) in self.clusters

    async def queued_cluster(self, namespace: str, name: str) -> QueuedCluster | None:
        self.queued_calls.append((namespace, name))
        if self.broken:
            return None
        return self.queued.get((namespace, name))


@pytest.fixture
def lookup() -> FakeLookup:
    return FakeLookup()


@pytest.fixture
def client(lookup: FakeLookup):
    app = create_app(Settings(), kube=lookup)
    with TestClient(app) as test_client:
        yield test_client


def example(name: str) -> dict[str, Any]:
    """The first object of an example manifest, as a fresh copy."""
    return copy.deepcopy(load_docs(ROOT / "examples" / name)[0])


def pinned(obj: dict[str, Any]) -> dict[str, Any]:
    """Pin every image and add --death-timeout, so an example raises no warning at all."""
    text = json.dumps(obj).replace("ghcr.io/dask/dask:latest", "ghcr.io/dask/dask:2026.8.0")
    out = json.loads(text)

    def fix(spec: dict[str, Any]) -> None:
        for container in spec.get("containers", []):
            if "dask-worker" in container.get("args", []) and "--death-timeout" not in container["args"]:
                container["args"] += ["--death-timeout", "60"]

    spec = out["spec"]
    job_cluster = spec.get("cluster") if isinstance(spec.get("cluster"), dict) else {}
    for worker in (spec.get("worker"), job_cluster.get("spec", {}).get("worker")):
        if worker:
            fix(worker["spec"])
    return out


def _name(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else ""


def review(
    obj: dict[str, Any] | None,
    *,
    operation: str = "CREATE",
    old: dict[str, Any] | None = None,
    namespace: str = "team-a",
    plural: str | None = None,
    uid: str | None = None,
) -> dict[str, Any]:
    """An AdmissionReview as the API server would post it for ``obj``."""
    kind = (obj or old or {}).get("kind")
    if not isinstance(kind, str) or kind not in PLURAL_OF:  # the API server names the kind the URL was for
        kind = {p: k for k, p in PLURAL_OF.items()}.get(plural or "", constants.KIND_CLUSTER)
    request: dict[str, Any] = {
        "uid": uid or str(uuid.uuid4()),
        "kind": {"group": constants.GROUP, "version": constants.VERSION, "kind": kind},
        "resource": {
            "group": constants.GROUP,
            "version": constants.VERSION,
            "resource": plural or PLURAL_OF.get(kind, "daskclusters"),
        },
        "requestKind": {"group": constants.GROUP, "version": constants.VERSION, "kind": kind},
        "name": _name(obj or old or {}),
        "namespace": namespace,
        "operation": operation,
        "userInfo": {"username": "tester", "groups": ["system:authenticated"]},
        "object": obj,
        "oldObject": old,
        "dryRun": False,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
    }
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


def response_of(http_response) -> dict[str, Any]:
    """The ``response`` of an answered review, checked for the envelope's shape."""
    assert http_response.status_code == 200, http_response.text
    body = http_response.json()
    assert body["apiVersion"] == "admission.k8s.io/v1"
    assert body["kind"] == "AdmissionReview"
    return body["response"]


DENIED = 'admission webhook "validate.kubernetes.dask.org" denied the request: '


def causes(response: dict[str, Any]) -> list[tuple[str, str]]:
    """The (field, message) pairs of a denial; each message says the webhook denied it."""
    found = []
    for cause in response["status"]["details"]["causes"]:
        assert cause["message"].startswith(DENIED), cause
        found.append((cause["field"], cause["message"].removeprefix(DENIED)))
    return found


def patch_of(response: dict[str, Any]) -> list[dict[str, Any]]:
    """The decoded JSONPatch of a mutating response; [] when none was sent."""
    if "patch" not in response:
        assert "patchType" not in response
        return []
    assert response["patchType"] == "JSONPatch"
    return json.loads(base64.b64decode(response["patch"]))

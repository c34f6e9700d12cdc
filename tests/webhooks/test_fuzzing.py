"""Property-based: thousands of generated and mutated resources never crash the webhook.

Every answer is a 200 (or a 400 for a broken envelope), never a 5xx; a denial always
names at least one field; defaulting admits, its patch applies, and defaulting the
result again adds nothing.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dask_kubernetes.api import kueue
from dask_kubernetes.settings import Settings
from dask_kubernetes.validation import defaults
from dask_kubernetes.webhooks.app import create_app
from tests.conftest import ROOT, load_docs
from tests.webhooks.conftest import PLURAL_OF, FakeLookup, review

MIN_RESOURCES = 2000

EXAMPLES = [
    doc
    for path in sorted((ROOT / "examples").glob("*.yaml"))
    if path.name != "kustomization.yaml"
    for doc in load_docs(path)
]

KEYS = st.sampled_from(
    [
        "spec", "worker", "scheduler", "service", "containers", "initContainers", "resources",
        "requests", "limits", "cpu", "memory", "nvidia.com/gpu", "args", "command", "image", "name",
        "replicas", "minimum", "maximum", "cluster", "workerGroup", "restartPolicy", "idleTimeout",
        "metadata", "job", "ports", "x", "",
        "suspend", "backoffLimit", "activeDeadlineSeconds", "preRunningDeadlineSeconds", "deletionPolicy",
        "onSuccess", "onFailure", "ttlSecondsAfterFinished", "labels", "annotations",
        "argocd.argoproj.io/tracking-id", "app.kubernetes.io/instance", "kustomize.toolkit.fluxcd.io/name",
        kueue.QUEUE_LABEL, kueue.PRIORITY_CLASS_LABEL, "ownerReferences",
    ]
)  # fmt: skip
QUANTITIES = st.sampled_from(
    ["500m", "2", "6Gi", "6G", "1e3", "-1", "1e999", "0.5Ki", "1.", ".5", "2Ki ", "Gi", "1e-50", "+3M"]
)
IMAGES = st.sampled_from(["dask:latest", "dask", "r:5000/dask", "r:5000/dask:1", "d@sha256:ab", ":", "/"])
WORDS = st.sampled_from(
    [
        "dask-worker", "dask", "worker", "--nthreads", "--nthreads=0", "--memory-limit", "--memory-limit=4GB",
        "auto", "0.5", "8GiB", "--nworkers", "3", "--death-timeout", "60", "sh -c 'dask-worker", "$(X)",
        "-1", "1e400", "nan",
    ]
)  # fmt: skip
POLICIES = st.sampled_from(["DeleteCluster", "DeleteWorkers", "DeleteNone", "DeleteSelf", "deleteself"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | QUANTITIES
    | IMAGES
    | WORDS
    | POLICIES
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(KEYS | st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a dict or list inside ``value``, the root included."""
    found = []
    if isinstance(value, dict):
        found.append(path)
        for key, child in value.items():
            found += _nodes(child, (*path, key))
    elif isinstance(value, list):
        found.append(path)
        for i, child in enumerate(value):
            found += _nodes(child, (*path, i))
    return found


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """An example, changed in up to eight places: values replaced, keys dropped or added."""
    obj = copy.deepcopy(draw(st.sampled_from(EXAMPLES)))
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        path = draw(st.sampled_from(_nodes(obj)))
        node = _at(obj, path)
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if isinstance(node, dict):
            if node and action != "add":
                key = draw(st.sampled_from(sorted(node, key=str)))
                if action == "delete":
                    del node[key]
                else:
                    node[key] = draw(JSON)
            else:
                node[draw(KEYS)] = draw(JSON)
        elif isinstance(node, list):
            if node and action == "delete":
                node.pop(draw(st.integers(min_value=0, max_value=len(node) - 1)))
            elif node and action == "replace":
                node[draw(st.integers(min_value=0, max_value=len(node) - 1))] = draw(JSON)
            else:
                node.append(draw(JSON))
    return obj


@st.composite
def generated(draw: st.DrawFn) -> dict[str, Any]:
    """A resource made from scratch: our kind and apiVersion, anything in the body."""
    kind = draw(st.sampled_from(sorted(PLURAL_OF)))
    body = draw(st.dictionaries(KEYS, JSON, max_size=5))
    return {"apiVersion": "kubernetes.dask.org/v1", "kind": kind, **body}


RESOURCES = mutated() | generated()


def _apply_patch(obj: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    for op in ops:
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        node = out
        for part in parents:
            node = node[part]
        if op["op"] == "replace":  # only a queued object's suspend: false, on create
            assert op == {"op": "replace", "path": "/spec/suspend", "value": True}, op
            assert isinstance(node, dict) and node.get(last) is False, op
        else:
            assert op["op"] == "add"
            assert isinstance(node, dict) and node.get(last) is None, op
        node[last] = op["value"]
    return out


class LoopClient:
    """Posts straight into the ASGI app on one event loop: thousands of requests, quickly.

    Unlike ``TestClient`` there is no thread hop per request; an exception escaping
    the app becomes a 500 response, as a real server would send.
    """

    def __init__(self, app) -> None:
        self.loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://webhook")

    def post(self, path, *, json=None, content=None):
        return self.loop.run_until_complete(self.client.post(path, json=json, content=content))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture(scope="module")
def fuzz_client():
    lookup = FakeLookup()
    client = LoopClient(create_app(Settings(), kube=lookup))
    yield client, lookup
    client.close()


def test_generated_and_mutated_resources_never_crash(fuzz_client):
    client, lookup = fuzz_client
    sent: list[str] = []

    @settings(
        max_examples=MIN_RESOURCES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(
        obj=RESOURCES,
        old=st.none() | RESOURCES,
        broken_lookup=st.booleans(),
        namespace=st.sampled_from(["team-a", ""]),
    )
    def check(obj, old, broken_lookup, namespace):
        lookup.broken = broken_lookup
        kind = obj.get("kind")
        plural = PLURAL_OF[kind] if isinstance(kind, str) and kind in PLURAL_OF else "daskclusters"
        operation = "CREATE" if old is None else "UPDATE"
        body = review(obj, operation=operation, old=old, plural=plural, namespace=namespace)
        sent.append(plural)

        answer = client.post("/validate", json=body)
        assert answer.status_code == 200, answer.text
        response = answer.json()["response"]
        assert response["uid"] == body["request"]["uid"]
        assert all(isinstance(w, str) and w for w in response.get("warnings", []))
        if not response["allowed"]:
            status = response["status"]
            assert (status["code"], status["reason"]) == (422, "Invalid"), status
            causes = status["details"]["causes"]
            assert causes, status
            assert all(isinstance(c["field"], str) and c["field"] for c in causes), causes
            assert all(isinstance(c["message"], str) and c["message"] for c in causes), causes

        answer = client.post("/mutate", json=body)
        assert answer.status_code == 200, answer.text
        response = answer.json()["response"]
        assert response["allowed"] is True
        assert "warnings" not in response, "defaulting failed on a generated object"
        ops = json.loads(base64.b64decode(response["patch"])) if "patch" in response else []
        defaulted = _apply_patch(obj, ops)
        assert defaults.patch(plural, defaulted) == []

    check()
    assert len(sent) >= MIN_RESOURCES
    assert {"daskclusters", "daskworkergroups", "daskjobs", "daskautoscalers"} <= set(sent)


ENVELOPES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    body=st.one_of(
        st.binary(max_size=200),
        ENVELOPES.map(lambda v: json.dumps(v).encode()),
        st.builds(
            lambda request: json.dumps(
                {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}
            ).encode(),
            st.dictionaries(
                st.sampled_from(
                    ["uid", "kind", "resource", "operation", "object", "oldObject", "subResource"]
                ),
                ENVELOPES,
            ),
        ),
    ),
    route=st.sampled_from(["/validate", "/mutate"]),
)
def test_broken_envelopes_get_400_not_500(fuzz_client, body, route):
    client, _ = fuzz_client
    answer = client.post(route, content=body)
    assert answer.status_code in (200, 400), answer.text
    if answer.status_code == 400:
        assert answer.json()["message"].startswith("malformed AdmissionReview: ")

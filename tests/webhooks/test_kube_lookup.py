"""KubeClient.queued_cluster: what it reads, how it counts a cluster's groups, and when it says nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kubernetes_asyncio.client.exceptions import ApiException

from dask_kubernetes.api import constants, kueue
from dask_kubernetes.validation.queueing import QueuedCluster
from dask_kubernetes.webhooks.kube import KubeClient, NoLookup, cluster_groups


def _obj(name: str, *, labels: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels or {}, **extra.pop("meta", {})}, **extra}


def _group(name: str, cluster: str, **meta: Any) -> dict[str, Any]:
    return _obj(name, spec={"cluster": cluster}, meta=meta)


QUEUED = {kueue.QUEUE_LABEL: "team-a"}
JOB_OWNER = {
    "apiVersion": constants.API_VERSION,
    "kind": constants.KIND_JOB,
    "name": "nightly",
    "uid": "u",
    "controller": True,
}


class FakeKube:
    """The two facade calls the lookup makes, from dicts; records each call."""

    def __init__(self, objects: dict[tuple[str, str], dict[str, Any]], groups: list[dict[str, Any]]) -> None:
        self.objects = objects
        self.groups = groups
        self.calls: list[tuple[str, ...]] = []
        self.fail: BaseException | None = None

    async def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        self.calls.append(("get", plural, name))
        if self.fail is not None:
            raise self.fail
        return self.objects.get((plural, name))

    async def list_objects(self, plural: str, namespace: str) -> list[dict[str, Any]]:
        self.calls.append(("list", plural))
        return self.groups


def _client(kube: FakeKube) -> KubeClient:
    client = KubeClient.__new__(KubeClient)
    client.kube = kube  # type: ignore[assignment]
    client.timeout = 5
    return client


def _ask(kube: FakeKube, name: str = "simple") -> QueuedCluster | None:
    return asyncio.run(_client(kube).queued_cluster("team-a", name))


def test_a_queued_cluster_counts_its_live_groups_and_its_default_one():
    groups = [
        _group("simple-highmem", "simple"),
        _group("simple-gpu", "simple"),
        _group("simple-leaving", "simple", deletionTimestamp="2026-01-01T00:00:00Z"),
        _group("other-default", "other"),
    ]
    kube = FakeKube({(constants.PLURAL_CLUSTER, "simple"): _obj("simple", labels=QUEUED)}, groups)
    assert _ask(kube) == QueuedCluster(
        "team-a", frozenset({"simple-default", "simple-highmem", "simple-gpu"}), runner=False
    )
    assert kube.calls == [("get", "daskclusters", "simple"), ("list", "daskworkergroups")]


def test_a_cluster_that_is_not_queued_or_missing_is_not_listed():
    kube = FakeKube({(constants.PLURAL_CLUSTER, "simple"): _obj("simple")}, [])
    assert _ask(kube) is None
    assert _ask(kube, "absent") is None
    assert [c[0] for c in kube.calls] == ["get", "get"]


def test_a_jobs_cluster_is_queued_by_its_job():
    cluster = _obj("nightly", labels=QUEUED, meta={"ownerReferences": [JOB_OWNER]})
    job = _obj("nightly", labels={kueue.QUEUE_LABEL: "batch"})
    kube = FakeKube(
        {(constants.PLURAL_CLUSTER, "nightly"): cluster, (constants.PLURAL_JOB, "nightly"): job}, []
    )
    assert _ask(kube, "nightly") == QueuedCluster("batch", frozenset({"nightly-default"}), runner=True)
    del job["metadata"]["labels"][kueue.QUEUE_LABEL]
    assert _ask(kube, "nightly") is None


@pytest.mark.parametrize("error", [ApiException(status=403, reason="Forbidden"), RuntimeError("boom")])
def test_any_failure_says_nothing(error):
    kube = FakeKube({}, [])
    kube.fail = error
    assert _ask(kube) is None


def test_cluster_groups_always_holds_the_default_group():
    assert cluster_groups("simple", []) == frozenset({"simple-default"})


def test_no_lookup_says_nothing():
    assert asyncio.run(NoLookup().queued_cluster("team-a", "simple")) is None

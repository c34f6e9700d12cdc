"""Kueue's admission rules as pure functions: suspend on create, the queue label, the PodSet limit."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dask_kubernetes.api import constants, kueue
from dask_kubernetes.validation import queueing, registry
from dask_kubernetes.validation.errors import FieldError
from dask_kubernetes.validation.queueing import QueuedCluster
from tests.conftest import ROOT, load_docs

JOBS = constants.PLURAL_JOB
CLUSTERS = constants.PLURAL_CLUSTER
GROUPS = constants.PLURAL_WORKER_GROUP
PATH = "metadata.labels[kueue.x-k8s.io/queue-name]"


def _example(name: str) -> dict[str, Any]:
    (obj,) = load_docs(ROOT / "examples" / name)
    return copy.deepcopy(obj)


def _labelled(name: str, queue: str | None = "team-a", **spec: Any) -> dict[str, Any]:
    obj = _example(name)
    if queue is not None:
        obj["metadata"].setdefault("labels", {})[kueue.QUEUE_LABEL] = queue
    obj["spec"].update(spec)
    return obj


def _job_cluster(queue: str = "team-a") -> dict[str, Any]:
    """A DaskJob's own cluster, as the operator makes it: the job's labels, the job as controller."""
    obj = _labelled("cluster.yaml", queue)
    obj["metadata"]["ownerReferences"] = [
        {"apiVersion": constants.API_VERSION, "kind": constants.KIND_JOB, "name": "simple", "uid": "u",
         "controller": True, "blockOwnerDeletion": True}
    ]  # fmt: skip
    return obj


# --- spec.suspend on create ---------------------------------------------------------


@pytest.mark.parametrize(("plural", "name"), [(JOBS, "job.yaml"), (CLUSTERS, "cluster.yaml")])
def test_a_queued_object_is_created_suspended(plural, name):
    assert queueing.suspend_patch(plural, _labelled(name)) == [
        {"op": "add", "path": "/spec/suspend", "value": True}
    ]
    # suspend: false is overridden, as Kueue's webhook does for a batch Job.
    assert queueing.suspend_patch(plural, _labelled(name, suspend=False)) == [
        {"op": "replace", "path": "/spec/suspend", "value": True}
    ]
    assert queueing.suspend_patch(plural, _labelled(name, suspend=True)) == []


@pytest.mark.parametrize(
    ("plural", "obj"),
    [
        (JOBS, _labelled("job.yaml", None)),
        (CLUSTERS, _labelled("cluster.yaml", "")),
        (GROUPS, _labelled("highmemworkers.yaml")),
        (constants.PLURAL_AUTOSCALER, _labelled("autoscaler.yaml")),
        (CLUSTERS, _job_cluster()),
        (CLUSTERS, _labelled("cluster.yaml", suspend="yes")),  # left for validation to refuse
    ],
    ids=["no-label", "empty-label", "worker-group", "autoscaler", "a-jobs-own-cluster", "not-a-boolean"],
)
def test_nothing_else_is_suspended(plural, obj):
    assert queueing.suspend_patch(plural, obj) == []


def test_a_missing_or_odd_spec_gets_no_patch():
    obj = _labelled("cluster.yaml")
    obj["spec"] = ["not", "a", "map"]
    assert queueing.suspend_patch(CLUSTERS, obj) == []
    del obj["spec"]
    assert queueing.suspend_patch(CLUSTERS, obj) == []
    assert queueing.suspend_patch(CLUSTERS, None) == []


def test_only_a_controlling_daskjob_makes_a_jobs_cluster():
    obj = _job_cluster()
    obj["metadata"]["ownerReferences"][0]["controller"] = False
    assert queueing.queued(CLUSTERS, obj) == "team-a"
    obj["metadata"]["ownerReferences"] = [{"apiVersion": "batch/v1", "kind": "DaskJob", "controller": True}]
    assert queueing.queued(CLUSTERS, obj) == "team-a"
    assert queueing.queued(CLUSTERS, _job_cluster()) is None
    assert queueing.job_owner(_job_cluster()) == "simple"


# --- the label values -----------------------------------------------------------------


@pytest.mark.parametrize(("plural", "name"), [(JOBS, "job.yaml"), (CLUSTERS, "cluster.yaml")])
def test_the_queue_label_must_name_a_localqueue(plural, name):
    assert registry.validate(plural, _labelled(name, "team-a.gpu")) == []
    errors = registry.validate(plural, _labelled(name, "Team_A"))
    assert [(e.path, e.message.split(": a lowercase")[0]) for e in errors] == [
        (PATH, 'Invalid value: "Team_A"')
    ]
    assert "RFC 1123 subdomain" in errors[0].message


def test_the_priority_class_label_must_name_a_workloadpriorityclass():
    obj = _labelled("job.yaml")
    obj["metadata"]["labels"][kueue.PRIORITY_CLASS_LABEL] = "High"
    (error,) = registry.validate(JOBS, obj)
    assert error.path == "metadata.labels[kueue.x-k8s.io/priority-class]"
    assert error.message.startswith('Invalid value: "High": a lowercase RFC 1123 subdomain')


def test_a_bad_label_stored_before_the_rule_is_ratcheted():
    old = _labelled("cluster.yaml", "Team_A", suspend=True)
    new = copy.deepcopy(old)
    new["spec"]["idleTimeout"] = 60
    assert registry.validate_update(CLUSTERS, new, old) == []


# --- the queue label on update --------------------------------------------------------


def _update(plural: str, name: str, before: str | None, after: str | None, **spec: Any) -> list[FieldError]:
    old = _labelled(name, before, **spec)
    new = _labelled(name, after, **spec)
    return registry.validate_update(plural, new, old)


CHANGES = {
    "added": (
        None,
        "team-b",
        'Forbidden: cannot put a {kind} that is not suspended in the Kueue queue "team-b": it runs '
        "outside Kueue; suspend it first, or in the same update (spec.suspend: true)",
    ),
    "changed": (
        "team-a",
        "team-b",
        'Forbidden: cannot move a {kind} that is not suspended from the Kueue queue "team-a" to "team-b": '
        'Kueue admitted it from "team-a"; suspend it first, or in the same update (spec.suspend: true)',
    ),
    "removed": (
        "team-a",
        None,
        'Forbidden: cannot take a {kind} that is not suspended out of the Kueue queue "team-a": Kueue '
        "holds that queue's quota for it; suspend it first, or in the same update (spec.suspend: true)",
    ),
}


@pytest.mark.parametrize(("before", "after", "message"), CHANGES.values(), ids=CHANGES.keys())
@pytest.mark.parametrize(
    ("plural", "name", "kind"), [(JOBS, "job.yaml", "DaskJob"), (CLUSTERS, "cluster.yaml", "DaskCluster")]
)
def test_the_queue_cannot_change_while_not_suspended(plural, name, kind, before, after, message):
    expected = [FieldError(PATH, message.format(kind=kind), "FieldValueForbidden")]
    assert _update(plural, name, before, after) == expected
    assert _update(plural, name, before, after, suspend=False) == expected
    # Suspended (now, or by this very update): Kueue admits it again from the new queue.
    assert _update(plural, name, before, after, suspend=True) == []
    old, new = _labelled(name, before), _labelled(name, after, suspend=True)
    assert registry.validate_update(plural, new, old) == []


def test_an_empty_label_counts_as_none():
    assert _update(CLUSTERS, "cluster.yaml", "", None) == []
    assert _update(CLUSTERS, "cluster.yaml", "team-a", "team-a") == []


def test_a_jobs_own_cluster_follows_its_job():
    old, new = _job_cluster("team-a"), _job_cluster("team-b")
    assert registry.validate_update(CLUSTERS, new, old) == []


# --- the PodSet limit -----------------------------------------------------------------


def _queued(groups: int, *, runner: bool = False) -> QueuedCluster:
    names = frozenset(["simple-default", *(f"simple-g{i}" for i in range(1, groups))])
    return QueuedCluster("team-a", names, runner=runner)


def test_the_ninth_podset_is_refused():
    full = _queued(7)  # the scheduler, the default group and six more: 8 PodSets
    assert full.podsets() == kueue.MAX_PODSETS
    assert queueing.worker_group_limit("simple-extra", "simple", full) == [
        FieldError(
            "spec.cluster",
            'Forbidden: DaskCluster "simple" is queued by Kueue (queue "team-a") and has 8 PodSets already '
            "(the scheduler and 7 worker groups); another worker group would make 9, over Kueue's limit of "
            "8 PodSets per Workload; add the workers to an existing group or queue a separate DaskCluster",
            "FieldValueForbidden",
        )
    ]
    assert queueing.worker_group_limit("simple-extra", "simple", _queued(6)) == []


def test_a_jobs_cluster_counts_the_runner():
    (error,) = queueing.worker_group_limit("simple-extra", "simple", _queued(6, runner=True))
    assert error.message.startswith(
        'Forbidden: DaskCluster "simple" (the cluster of DaskJob "simple") is queued by Kueue '
        '(queue "team-a") and has 8 PodSets already '
        "(the scheduler, the DaskJob's runner and 6 worker groups)"
    )
    assert queueing.worker_group_limit("simple-extra", "simple", _queued(5, runner=True)) == []


def test_a_group_already_counted_is_never_refused():
    full = _queued(9)
    assert queueing.worker_group_limit("simple-default", "simple", full) == []
    assert queueing.worker_group_limit("simple-g3", "simple", full) == []


def test_no_answer_admits():
    assert queueing.worker_group_limit("simple-extra", "simple", None) == []

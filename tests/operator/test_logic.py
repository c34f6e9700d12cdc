"""Scaling, condition and autoscaling decisions, without a cluster."""

from __future__ import annotations

import pytest

from dask_kubernetes.api import constants
from dask_kubernetes.operator.decisions import autoscaling, conditions, scaling


def pod(
    name,
    phase="Running",
    created="2026-01-01T00:00:00Z",
    ready=True,
    terminating=False,
    retiring=False,
    ip=None,
):
    meta = {"name": name, "creationTimestamp": created}
    if terminating:
        meta["deletionTimestamp"] = "2026-01-01T01:00:00Z"
    if retiring:
        meta["annotations"] = {constants.ANNOTATION_RETIRING: "retired"}
    status = {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    if ip:
        status["podIP"] = ip
    return {"metadata": meta, "status": status}


def test_scale_up_creates_the_missing_pods_in_batches():
    pods = [pod("a"), pod("b")]
    assert scaling.plan(pods, 5).create == 3
    assert scaling.plan(pods, 5, batch_size=2).create == 2


def test_finished_pods_are_replaced_and_retiring_ones_never_counted():
    pods = [pod("a"), pod("b", phase="Failed"), pod("c", retiring=True), pod("d", terminating=True)]
    plan = scaling.plan(pods, 2)
    assert sorted(plan.delete_now) == ["b", "c"]
    assert plan.replaced == ["b"]
    assert plan.create == 1


def test_scale_down_removes_pending_first_newest_first():
    pods = [
        pod("old", created="2026-01-01T00:00:00Z"),
        pod("p1", phase="Pending", created="2026-01-01T00:01:00Z", ready=False),
        pod("p2", phase="Pending", created="2026-01-01T00:02:00Z", ready=False),
        pod("new", created="2026-01-01T00:03:00Z"),
    ]
    plan = scaling.plan(pods, 3)
    assert plan.delete_now == ["p2"]
    assert plan.retire == 0
    plan = scaling.plan(pods, 1)
    assert sorted(plan.delete_now) == ["p1", "p2"]
    assert plan.retire == 1
    assert plan.candidates == ["old", "new"]


def test_lifo_picks_the_newest():
    assert scaling.lifo(["old", "mid", "new"], 2) == ["new", "mid"]


def test_scheduler_workers_map_to_pods_by_name_or_ip():
    pods = [pod("w-1", ip="10.0.0.1"), pod("w-2", ip="10.0.0.2")]
    workers = {"tcp://10.0.0.2:4000": {"name": "tcp://10.0.0.2:4000"}, "tcp://10.0.0.9:1": {"name": "w-1"}}
    assert scaling.worker_addresses(workers, pods) == {
        "w-2": "tcp://10.0.0.2:4000",
        "w-1": "tcp://10.0.0.9:1",
    }


def test_rollout_bounds_resolve_percentages_like_deployments():
    assert scaling.rollout_bounds(None, 4) == (1, 0)
    assert scaling.rollout_bounds({"maxSurge": "50%", "maxUnavailable": "25%"}, 5) == (3, 1)
    assert scaling.rollout_bounds({"maxSurge": 0, "maxUnavailable": 0}, 3) == (1, 0)


def test_condition_transition_time_only_moves_on_status_change():
    first = conditions.set_condition([], "Ready", False, "A", "m", 1, timestamp="t1")
    same = conditions.set_condition(first, "Ready", False, "B", "m2", 2, timestamp="t2")
    assert same[0]["lastTransitionTime"] == "t1"
    assert same[0]["reason"] == "B" and same[0]["observedGeneration"] == 2
    flipped = conditions.set_condition(same, "Ready", True, "C", "", 2, timestamp="t3")
    assert flipped[0]["lastTransitionTime"] == "t3"


def test_verdict_sets_all_three_kstatus_conditions():
    out = conditions.apply_verdict([], conditions.Verdict(False, "Bad", "broken", stalled=True), 3)
    by_type = {c["type"]: c for c in out}
    assert by_type["Ready"]["status"] == "False"
    assert by_type["Stalled"]["status"] == "True" and by_type["Stalled"]["message"] == "broken"
    assert by_type["Reconciling"]["status"] == "False"
    assert all(c["observedGeneration"] == 3 for c in out)


def test_rewriting_the_same_status_is_not_a_change():
    verdict = conditions.Verdict(True, "Running", "ok")
    old = {
        "phase": "Running",
        "conditions": conditions.apply_verdict([], verdict, 1),
        "observedGeneration": 1,
    }
    new = {
        "phase": "Running",
        "conditions": conditions.apply_verdict(old["conditions"], verdict, 1),
        "observedGeneration": 1,
    }
    assert not conditions.status_changed(old, new)


@pytest.mark.parametrize(
    ("current", "target", "below_since", "now", "expected", "since"),
    [
        (2, 8, None, 100.0, 8, None),
        (2, 50, None, 100.0, 10, None),
        (5, 0, None, 100.0, 5, 100.0),
        (5, 0, 100.0, 120.0, 5, 100.0),
        (5, 0, 100.0, 131.0, 1, None),
        (12, 12, None, 100.0, 10, None),
        (0, 0, None, 100.0, 1, None),
    ],
    ids=[
        "up",
        "clamped-max",
        "down-starts-timer",
        "down-waits",
        "down-after-delay",
        "above-max-now",
        "up-to-min",
    ],
)
def test_autoscaler_clamps_and_damps(current, target, below_since, now, expected, since):
    decision = autoscaling.decide(
        current=current,
        target=target,
        minimum=1,
        maximum=10,
        now=now,
        below_since=below_since,
        scale_down_delay=30,
    )
    assert decision.replicas == expected
    assert decision.below_since == since

import datetime

from dask_kubernetes_dev.nodeagent import status as st

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
T1 = T0 + datetime.timedelta(seconds=5)


def rec(name="c", **kwargs):
    return st.ContainerRecord(name, "img", **kwargs)


def running(name="c"):
    r = rec(name)
    r.running(42, T0)
    return r


def exited(code, name="c"):
    r = running(name)
    r.terminated(code, T1)
    return r


def test_container_status_shapes():
    r = running()
    s = st.container_status(r)
    assert s["state"] == {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
    assert s["containerID"] == "local://42"
    assert s["restartCount"] == 0 and s["ready"] is False
    r.terminated(3, T1)
    s = st.container_status(r)
    assert s["state"]["terminated"]["exitCode"] == 3
    assert s["state"]["terminated"]["reason"] == "Error"
    assert s["state"]["terminated"]["finishedAt"] == "2026-01-01T00:00:05Z"
    r.waiting("CrashLoopBackOff", "back-off")
    r.restart_count = 1
    s = st.container_status(r)
    assert s["state"] == {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}}
    assert s["lastState"]["terminated"]["exitCode"] == 3
    assert s["restartCount"] == 1
    assert "containerID" not in s


def test_terminated_zero_is_completed():
    assert exited(0).state_dict()["terminated"]["reason"] == "Completed"


def test_phase_rules():
    phase = st.pod_phase
    assert phase("Always", [], [rec()], initialized=True) == st.PENDING
    assert phase("Always", [], [running()], initialized=True) == st.RUNNING
    assert phase("Never", [], [exited(0)], initialized=True) == st.SUCCEEDED
    assert phase("Never", [], [exited(1)], initialized=True) == st.FAILED
    assert phase("Never", [], [exited(0), running("d")], initialized=True) == st.RUNNING
    assert phase("OnFailure", [], [exited(1)], initialized=True) == st.RUNNING
    assert phase("OnFailure", [], [exited(0)], initialized=True) == st.SUCCEEDED
    assert phase("Always", [], [exited(0)], initialized=True) == st.RUNNING
    backoff = exited(1)
    backoff.waiting("CrashLoopBackOff")
    assert phase("Always", [], [backoff], initialized=True) == st.RUNNING
    assert phase("Never", [exited(1, "init")], [rec()], initialized=False) == st.FAILED
    assert phase("Always", [exited(1, "init")], [rec()], initialized=False) == st.PENDING


def test_conditions_keep_transition_times_and_reasons():
    clock = st.ConditionClock()
    r = running()
    first = st.pod_conditions(clock, st.RUNNING, sandbox=True, initialized=True, records=[r])
    by_type = {c["type"]: c for c in first}
    assert by_type["Ready"]["status"] == "False"
    assert by_type["Ready"]["reason"] == "ContainersNotReady"
    assert "[c]" in by_type["Ready"]["message"]
    assert "PodScheduled" not in by_type
    assert by_type["Initialized"]["status"] == "True"
    assert all(c["lastTransitionTime"] for c in first)
    clock.changed["Ready"] = ("False", T0)
    again = {
        c["type"]: c
        for c in st.pod_conditions(clock, st.RUNNING, sandbox=True, initialized=True, records=[r])
    }
    assert again["Ready"]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    r.ready = True
    ready = {
        c["type"]: c
        for c in st.pod_conditions(clock, st.RUNNING, sandbox=True, initialized=True, records=[r])
    }
    assert ready["Ready"]["status"] == "True" and "reason" not in ready["Ready"]
    assert ready["Ready"]["lastTransitionTime"] != "2026-01-01T00:00:00Z"
    done = {
        c["type"]: c
        for c in st.pod_conditions(clock, st.SUCCEEDED, sandbox=True, initialized=True, records=[r])
    }
    assert done["Ready"]["reason"] == "PodCompleted"


def test_readiness_gates_and_merge():
    spec = {"readinessGates": [{"conditionType": "example.com/gate"}]}
    assert st.readiness_gates_met(spec, []) == ["example.com/gate"]
    existing = [{"type": "example.com/gate", "status": "True"}, {"type": "Ready", "status": "True"}]
    assert st.readiness_gates_met(spec, existing) == []
    r = running()
    r.ready = True
    ours = st.pod_conditions(
        st.ConditionClock(), st.RUNNING, sandbox=True, initialized=True, records=[r], unmet_gates=["g"]
    )
    assert {c["type"]: c["status"] for c in ours}["Ready"] == "False"
    merged = st.merge_conditions(ours, existing)
    assert [c["type"] for c in merged].count("Ready") == 1
    assert any(c["type"] == "example.com/gate" for c in merged)
    assert [c["status"] for c in merged if c["type"] == "PodScheduled"] == ["True"]
    scheduled = [{"type": "PodScheduled", "status": "True", "lastTransitionTime": "2020-01-01T00:00:00Z"}]
    assert st.merge_conditions(ours, scheduled)[-1]["lastTransitionTime"] == "2020-01-01T00:00:00Z"


def test_pod_status_body():
    body = st.pod_status(
        phase=st.RUNNING,
        conditions=[],
        host_ip="10.244.0.1",
        pod_ip="10.244.0.7",
        start_time=T0,
        init_records=[],
        records=[running()],
    )
    assert body["podIPs"] == [{"ip": "10.244.0.7"}]
    assert body["hostIPs"] == [{"ip": "10.244.0.1"}]
    assert body["startTime"] == "2026-01-01T00:00:00Z"
    assert body["initContainerStatuses"] is None
    assert body["reason"] is None
    assert body["containerStatuses"][0]["name"] == "c"

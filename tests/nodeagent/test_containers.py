import pytest

from dask_kubernetes_dev.nodeagent.containers import CrashBackoff, container_policy, should_restart


def test_crash_backoff_is_immediate_then_doubles_to_the_cap():
    backoff = CrashBackoff(initial=10, cap=30, reset_after=60)
    assert [backoff.next(1) for _ in range(5)] == [0, 10, 20, 30, 30]
    assert backoff.next(61) == 0
    assert backoff.next(1) == 10


@pytest.mark.parametrize(
    ("policy", "code", "restart"),
    [
        ("Always", 0, True),
        ("Always", 1, True),
        ("OnFailure", 0, False),
        ("OnFailure", 2, True),
        ("Never", 1, False),
    ],
)
def test_should_restart(policy, code, restart):
    assert should_restart(policy, code) is restart


def test_container_policy():
    assert container_policy("Never", init=False, sidecar=False) == "Never"
    assert container_policy("Always", init=True, sidecar=False) == "OnFailure"
    assert container_policy("Never", init=True, sidecar=False) == "Never"
    assert container_policy("Never", init=True, sidecar=True) == "Always"

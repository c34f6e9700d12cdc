"""The work queue on fake time: due times, one run per key, back-off, resync."""

from __future__ import annotations

import asyncio

from dask_kubernetes.operator.runtime.queue import WorkQueue, backoff_delay


def test_requeue_after_fires_at_its_time_and_earliest_wins(run):
    async def main():
        ran: list[tuple[str, float]] = []

        async def reconcile(key):
            ran.append((key, asyncio.get_running_loop().time()))
            return None

        queue = WorkQueue(reconcile, resync=None)
        queue.start()
        queue.add("a", delay=10)
        queue.add("a", delay=30)  # later: ignored, 10 stays
        queue.add("b", delay=5)
        queue.add("b", delay=2)  # earlier: wins
        await asyncio.sleep(60)
        await queue.stop()
        return ran

    assert run(main()) == [("b", 2.0), ("a", 10.0)]


def test_a_key_never_runs_twice_at_once_and_runs_again_after(run):
    async def main():
        active, most, runs = 0, 0, 0

        async def reconcile(key):
            nonlocal active, most, runs
            active += 1
            runs += 1
            most = max(most, active)
            await asyncio.sleep(5)
            active -= 1
            return None

        queue = WorkQueue(reconcile, resync=None)
        queue.start()
        queue.add("k")
        await asyncio.sleep(1)
        for _ in range(5):  # pokes while it runs, and a forget/add pair (the old bug)
            queue.add("k")
        queue.forget("k")
        queue.add("k")
        await asyncio.sleep(30)
        await queue.stop()
        return most, runs

    most, runs = run(main())
    assert most == 1
    assert runs == 2  # the pokes during the first run coalesce into one more run


def test_requeue_delay_returned_by_reconcile_is_honoured(run):
    async def main():
        times: list[float] = []

        async def reconcile(key):
            times.append(asyncio.get_running_loop().time())
            return 5.0 if len(times) < 3 else None

        queue = WorkQueue(reconcile, resync=None)
        queue.start()
        queue.add("k")
        await asyncio.sleep(1)
        queue.add("k")  # an event while waiting for the requeue: runs at once
        await asyncio.sleep(60)
        await queue.stop()
        return times

    assert run(main()) == [0.0, 1.0, 6.0]


def test_failures_back_off_exponentially_and_are_reported(run):
    async def main():
        times: list[float] = []
        reported: list[int] = []

        async def reconcile(key):
            times.append(asyncio.get_running_loop().time())
            if len(times) < 5:
                raise RuntimeError("API down")
            return None

        async def on_error(key, exc, attempts):
            reported.append(attempts)

        queue = WorkQueue(reconcile, on_error=on_error, resync=None, base_backoff=1, max_backoff=100)
        queue.start()
        queue.add("k")
        await asyncio.sleep(100)
        await queue.stop()
        return times, reported, queue.failures("k")

    times, reported, failures = run(main())
    assert [b - a for a, b in zip(times, times[1:], strict=False)] == [1.0, 2.0, 4.0, 8.0]
    assert reported == [1, 2, 3, 4]
    assert failures == 0  # reset by the success


def test_resync_comes_from_the_queue(run):
    async def main():
        times: list[float] = []

        async def reconcile(key):
            times.append(asyncio.get_running_loop().time())
            return None

        queue = WorkQueue(reconcile, resync=30)
        queue.start()
        queue.add("k")
        await asyncio.sleep(100)
        queue.forget("k")
        await asyncio.sleep(100)
        await queue.stop()
        return times

    assert run(main()) == [0.0, 30.0, 60.0, 90.0]


def test_backoff_delay_doubles_up_to_the_cap():
    assert [backoff_delay(n, base=0.5, cap=5) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_concurrency_limit_holds_keys_back_until_a_slot_frees(run):
    async def main():
        active, most = 0, 0

        async def reconcile(key):
            nonlocal active, most
            active += 1
            most = max(most, active)
            await asyncio.sleep(1)
            active -= 1
            return None

        queue = WorkQueue(reconcile, resync=None, concurrency=2)
        queue.start()
        for key in "abcde":
            queue.add(key)
        await asyncio.sleep(10)
        await queue.stop()
        return most, [queue.due(k) for k in "abcde"]

    most, due = run(main())
    assert most == 2
    assert due == [None] * 5

"""Parking of async workflows run from a workflow thread (dequeued, recovered, started with the
sync `DBOS.start_workflow`): a long wait gives the thread back and resumes by replay.

Each scenario runs twice: with DBOS launched outside any event loop (the body runs on a loop of
its own on its workflow thread) and launched from inside a running loop (the body runs on that
application loop, the workflow thread blocking on it). A wait that parks ends the body's task;
no workflow thread is held while it is parked (`pool.load()`), and the resumed run, on the same
kind of loop, sees what an unparked run sees: result, step numbers, timeouts, cancellation,
workflow deadlines, queue slots. A body with another task mid-step does not park until that
task is done.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import query_system_sql

from dbos import DBOS, Queue, SetWorkflowID, SetWorkflowTimeout
from dbos._core.runtime import get_runtime
from dbos._error import DBOSAwaitedWorkflowCancelledError
from dbos.testing import time_skipping

PARK_AFTER = 0.05

runs: dict[str, int] = {}
loops: dict[str, list[asyncio.AbstractEventLoop]] = {}
step_runs: dict[str, int] = {}


def _count_run() -> None:
    """Code between steps: runs again on every resume (as after a crash)."""
    workflow_id = DBOS.workflow_id
    assert workflow_id is not None
    runs[workflow_id] = runs.get(workflow_id, 0) + 1
    loops.setdefault(workflow_id, []).append(asyncio.get_running_loop())


@DBOS.step()
async def async_add_one(x: int) -> int:
    return x + 1


@DBOS.step()
async def parked_async_slow_step(label: str, seconds: float) -> str:
    step_runs[label] = step_runs.get(label, 0) + 1
    await asyncio.sleep(seconds)
    return label


@DBOS.workflow()
async def async_receiver(x: int) -> tuple[int, Any, int]:
    _count_run()
    a = await async_add_one(x)
    message = await DBOS.recv_async("topic", timeout_seconds=30)
    b = await async_add_one(a)
    return a, message, b


@DBOS.workflow()
async def async_sleeper(seconds: float) -> float:
    _count_run()
    started = await async_add_one(0)
    await DBOS.set_event_async("slept", False)  # an operation's step: taken on the body's task
    await DBOS.sleep_async(seconds)
    return float(started)


@DBOS.workflow()
async def async_event_waiter(target: str) -> Any:
    _count_run()
    return await DBOS.get_event_async(target, "ready", timeout_seconds=30)


@DBOS.workflow()
def sync_event_setter() -> None:
    DBOS.recv("go", timeout_seconds=30)
    DBOS.set_event("ready", "yes")


@DBOS.workflow()
def sync_receiver(x: int) -> tuple[int, Any]:
    return x, DBOS.recv("topic", timeout_seconds=30)


@DBOS.workflow()
async def async_parent() -> Any:
    _count_run()
    child = await DBOS.start_workflow_async(sync_receiver, 10)  # on a workflow thread
    return await child.get_result()


@DBOS.workflow()
async def helper_then_recv() -> tuple[str, Any]:
    """A task the body started is mid-step while the body waits: no park until it is done."""
    _count_run()
    helper = asyncio.create_task(parked_async_slow_step("helper", 0.6))
    message = await DBOS.recv_async("topic", timeout_seconds=30)
    return await helper, message


@DBOS.workflow()
async def gathered_recv() -> list[Any]:
    """The wait runs in a task of `gather`, not the body's own: it never parks."""
    _count_run()
    return list(
        await asyncio.gather(DBOS.recv_async("topic", timeout_seconds=30), async_add_one(1))
    )


@DBOS.workflow()
async def async_child_receiver() -> Any:
    _count_run()
    await parked_async_slow_step("child", 0.6)
    return await DBOS.recv_async("topic", timeout_seconds=30)


@DBOS.workflow()
async def parent_of_async_child() -> Any:
    _count_run()
    child = await DBOS.start_workflow_async(async_child_receiver)  # a task of the body's loop
    return await child.get_result()


@pytest.fixture(params=["own-loop", "app-loop"])
def loop_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


Scenario = Callable[[], None]


@pytest.fixture
def run_parking(system_database_url: str) -> Iterator[Callable[[str, Scenario], None]]:
    """Configure DBOS with a short parking threshold; `run(kind, scenario)` launches it (from
    inside a running loop for "app-loop") and runs the sync scenario (on a thread of that
    loop's, so the loop keeps running meanwhile)."""
    DBOS.destroy()
    runs.clear()
    loops.clear()
    step_runs.clear()

    def run(kind: str, scenario: Scenario, **config: Any) -> None:
        DBOS(
            config={
                "name": "parking-async",
                "system_database_url": system_database_url,
                "log_level": "WARNING",
                "park_waits_after_sec": PARK_AFTER,
                **config,
            }  # type: ignore[typeddict-item]
        )
        if kind == "own-loop":
            DBOS.launch()
            scenario()
            return

        async def main() -> None:
            DBOS.launch()
            app_loop.append(asyncio.get_running_loop())
            await asyncio.to_thread(scenario)

        asyncio.run(main())

    app_loop: list[asyncio.AbstractEventLoop] = []
    yield run
    DBOS.destroy()
    for body_loops in loops.values():  # each run of a body: on the application's loop or not
        for loop in body_loops:
            assert (loop in app_loop) == bool(app_loop), (loop, app_loop)


queue = Queue("test_parking_async.queue")
single = Queue("test_parking_async.single", concurrency=1)


def _wait_until_parked(*workflow_ids: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    parked = get_runtime().parked
    while time.monotonic() < deadline:
        entries = [parked.get(w) for w in workflow_ids]
        if all(e is not None and e.resume is not None for e in entries):  # unwound, armed
            return
        time.sleep(0.01)
    pytest.fail(f"not parked within {timeout}s: {workflow_ids}")


def _threads_held() -> int:
    """Workflow threads busy with a job (a waiting unparked body holds one)."""
    return get_runtime().pool.load()[0]


def _until_no_thread_is_held(timeout: float = 10.0) -> None:
    """A parked body's job ends just after its park is armed: no workflow thread waits on it."""
    deadline = time.monotonic() + timeout
    while _threads_held() != 0:
        assert time.monotonic() < deadline, f"{_threads_held()} workflow threads still held"
        time.sleep(0.01)


def _steps(workflow_id: str) -> list[tuple[int, str, Any]]:
    return [
        (s["function_id"], s["function_name"], s["output"])
        for s in DBOS.list_workflow_steps(workflow_id)
        if s["function_name"] != "DBOS.sleep"  # its output is a wall-clock deadline
    ]


def test_a_dequeued_async_recv_parks_and_resumes_by_replay(
    run_parking: Any, loop_kind: str, system_database_url: str
) -> None:
    def scenario() -> None:
        handle = queue.enqueue(async_receiver, 1)
        _wait_until_parked(handle.workflow_id)
        _until_no_thread_is_held()  # its body's task ended: no workflow thread waits on it
        assert runs[handle.workflow_id] == 1
        (row,) = query_system_sql(
            system_database_url,
            "SELECT waiting_for FROM {prefix}workflow_status "
            f"WHERE workflow_uuid = '{handle.workflow_id}'",
        )
        assert row[0] == f"m:{handle.workflow_id}:topic"
        DBOS.send(handle.workflow_id, "hello", "topic")
        assert handle.get_result() == (2, "hello", 3)
        assert runs[handle.workflow_id] == 2  # resumed by replay
        assert get_runtime().parked.get(handle.workflow_id) is None

        # The same workflow with parking off: the same steps, numbered alike, run once.
        get_runtime().park_policy.after_sec = None
        with SetWorkflowID(f"{handle.workflow_id}-unparked"):
            unparked = queue.enqueue(async_receiver, 1)
        deadline = time.monotonic() + 20
        while runs.get(unparked.workflow_id) != 1:
            assert time.monotonic() < deadline, "not dequeued"
            time.sleep(0.01)
        time.sleep(PARK_AFTER * 4)
        assert _threads_held() == 1  # it waits holding its thread
        DBOS.send(unparked.workflow_id, "hello", "topic")
        assert unparked.get_result() == (2, "hello", 3)
        assert runs[unparked.workflow_id] == 1
        assert _steps(handle.workflow_id) == _steps(unparked.workflow_id)
        names = [s["function_name"] for s in DBOS.list_workflow_steps(handle.workflow_id)]
        assert names == ["async_add_one", "DBOS.recv", "DBOS.sleep", "async_add_one"]

    run_parking(loop_kind, scenario)


def test_a_parked_async_sleep_wakes_at_its_deadline(run_parking: Any, loop_kind: str) -> None:
    def scenario() -> None:
        began = time.monotonic()
        handle = queue.enqueue(async_sleeper, 0.6)
        _wait_until_parked(handle.workflow_id)
        _until_no_thread_is_held()
        assert handle.get_result() == 1.0
        assert 0.6 <= time.monotonic() - began < 5
        assert runs[handle.workflow_id] == 2
        names = [s["function_name"] for s in DBOS.list_workflow_steps(handle.workflow_id)]
        assert names == ["async_add_one", "DBOS.setEvent", "DBOS.sleep"]

    run_parking(loop_kind, scenario)


def test_a_parked_async_get_event_and_child_result(run_parking: Any) -> None:
    def scenario() -> None:
        setter = DBOS.start_workflow(sync_event_setter)
        waiter = queue.enqueue(async_event_waiter, setter.workflow_id)
        parent = queue.enqueue(async_parent)
        _wait_until_parked(setter.workflow_id, waiter.workflow_id, parent.workflow_id)
        DBOS.send(setter.workflow_id, None, "go")
        assert waiter.get_result() == "yes"
        assert runs[waiter.workflow_id] == 2
        child_id = f"{parent.workflow_id}-1"
        _wait_until_parked(child_id)
        _until_no_thread_is_held()  # parent (in DBOS.getResult) and child both parked
        DBOS.send(child_id, "to the child", "topic")
        assert parent.get_result() == (10, "to the child")
        assert runs[parent.workflow_id] == 2
        names = [s["function_name"] for s in DBOS.list_workflow_steps(parent.workflow_id)]
        assert names == ["sync_receiver", "DBOS.getResult"]

    run_parking("own-loop", scenario)


def test_a_parked_async_workflow_is_cancelled_and_timed_out(
    run_parking: Any, loop_kind: str
) -> None:
    def scenario() -> None:
        handle = queue.enqueue(async_receiver, 1)
        _wait_until_parked(handle.workflow_id)
        began = time.monotonic()
        DBOS.cancel_workflow(handle.workflow_id)
        with pytest.raises(DBOSAwaitedWorkflowCancelledError):
            handle.get_result()
        assert time.monotonic() - began < 2
        assert handle.get_status().status == "CANCELLED"
        assert get_runtime().parked.get(handle.workflow_id) is None

        began = time.monotonic()
        with SetWorkflowTimeout(0.5):
            timed = queue.enqueue(async_receiver, 1)
        _wait_until_parked(timed.workflow_id)
        with pytest.raises(DBOSAwaitedWorkflowCancelledError):
            timed.get_result()
        assert 0.5 <= time.monotonic() - began < 3
        assert timed.get_status().status == "CANCELLED"

    run_parking(loop_kind, scenario)


def test_a_parked_async_queued_workflow_keeps_its_slot(run_parking: Any, loop_kind: str) -> None:
    def scenario() -> None:
        first = single.enqueue(async_receiver, 1)
        _wait_until_parked(first.workflow_id)
        second = single.enqueue(async_receiver, 2)
        time.sleep(0.5)
        assert second.get_status().status == "ENQUEUED"  # the parked one holds the only slot
        DBOS.send(first.workflow_id, "one", "topic")
        assert first.get_result() == (2, "one", 3)
        _wait_until_parked(second.workflow_id)
        DBOS.send(second.workflow_id, "two", "topic")
        assert second.get_result() == (3, "two", 4)

    run_parking(loop_kind, scenario)


def test_a_body_with_another_task_mid_step_parks_only_after_it(
    run_parking: Any, loop_kind: str
) -> None:
    def scenario() -> None:
        handle = queue.enqueue(helper_then_recv)
        time.sleep(0.3)  # past the threshold, the helper's step still runs (0.6 s)
        assert get_runtime().parked.get(handle.workflow_id) is None
        _wait_until_parked(handle.workflow_id)  # once the helper's step is recorded
        DBOS.send(handle.workflow_id, "m", "topic")
        assert handle.get_result() == ("helper", "m")
        assert step_runs["helper"] == 1  # recorded before the park: not run again
        assert runs[handle.workflow_id] == 2

        gathered = queue.enqueue(gathered_recv)
        time.sleep(0.3)
        assert get_runtime().parked.get(gathered.workflow_id) is None  # a gather branch waits
        DBOS.send(gathered.workflow_id, "g", "topic")
        assert gathered.get_result() == ["g", 2]
        assert runs[gathered.workflow_id] == 1

    run_parking(loop_kind, scenario)


def test_a_child_task_on_a_loop_of_its_own_holds_off_the_park(
    run_parking: Any, loop_kind: str
) -> None:
    """A child started with start_workflow_async is a task of the parent's loop, and never
    parks itself (it holds no thread). On the application's loop the parent parks in its wait
    for the child's result; on a loop of its own (which a park closes, cancelling every task on
    it) the parent does not park while the child's task runs."""

    def scenario() -> None:
        parent = queue.enqueue(parent_of_async_child)
        child_id = f"{parent.workflow_id}-1"
        deadline = time.monotonic() + 20
        while runs.get(child_id) != 1:
            assert time.monotonic() < deadline, "the child did not start"
            time.sleep(0.01)
        if loop_kind == "app-loop":
            _wait_until_parked(parent.workflow_id)
        else:
            time.sleep(1.0)  # past the child's 0.6 s step and several parking thresholds
            assert get_runtime().parked.get(parent.workflow_id) is None
        assert get_runtime().parked.get(child_id) is None
        DBOS.send(child_id, "to the child", "topic")
        assert parent.get_result() == "to the child"
        assert step_runs["child"] == 1  # never cut off mid-step, never run again
        assert runs[child_id] == 1
        assert runs[parent.workflow_id] == (2 if loop_kind == "app-loop" else 1)

    run_parking(loop_kind, scenario)


def test_an_async_workflow_started_on_the_callers_loop_does_not_park(run_parking: Any) -> None:
    """`start_workflow_async` runs the body as a task of the caller's loop, which holds no
    thread while it waits: it does not park (a mass wake-up would resume each from a workflow
    thread, taking threads an awaited task never needs; upstream's test_high_async_concurrency
    bounds them). Awaited directly, the caller's task holds its frames: it never parks either."""

    async def main() -> None:
        handle = await DBOS.start_workflow_async(async_receiver, 1)
        await asyncio.sleep(PARK_AFTER * 6)
        assert get_runtime().parked.get(handle.workflow_id) is None
        await DBOS.send_async(handle.workflow_id, "hello", "topic")
        assert await handle.get_result() == (2, "hello", 3)
        assert runs[handle.workflow_id] == 1  # ran once: never resumed by replay

        with SetWorkflowID("awaited"):
            direct = asyncio.ensure_future(async_receiver(1))
        await asyncio.sleep(PARK_AFTER * 6)
        assert get_runtime().parked.get("awaited") is None
        await DBOS.send_async("awaited", "hi", "topic")
        assert await direct == (2, "hi", 3)
        assert runs["awaited"] == 1

    run_parking("own-loop", lambda: asyncio.run(main()))


@DBOS.workflow()
async def async_waits_an_hour() -> Any:
    return await DBOS.recv_async("never-sent", timeout_seconds=3600)


def test_a_parked_async_recv_wakes_at_its_virtual_deadline(run_parking: Any) -> None:
    """Under `time_skipping()`, the parked workflows' timer is jumped like any durable timer."""

    def scenario() -> None:
        with time_skipping() as clock:
            handle = DBOS.start_workflow(async_waits_an_hour)  # run from a workflow thread
            _wait_until_parked(handle.workflow_id)
            began = clock.time()
            assert handle.get_result() is None  # timed out, an hour on
            assert clock.time() - began >= 3600 - 60
        (recv,) = [
            s
            for s in DBOS.list_workflow_steps(handle.workflow_id)
            if s["function_name"] == "DBOS.recv"
        ]
        assert recv["completed_at_epoch_ms"] - recv["started_at_epoch_ms"] >= 3540 * 1000

    run_parking("own-loop", scenario)


@DBOS.workflow()
async def async_parks_until_go(i: int) -> str:
    return f"{i}:{await DBOS.recv_async('go', timeout_seconds=3600)}"


@DBOS.workflow()
def async_releases_parked(workflow_ids: list[str]) -> int:
    for workflow_id in workflow_ids:
        DBOS.send(workflow_id, "go", "go")
    return len(workflow_ids)


@pytest.mark.timeout(300)
def test_more_async_receivers_than_threads_do_not_block_a_later_sender(
    run_parking: Any, loop_kind: str
) -> None:
    """200 dequeued async receivers against 16 workflow threads: all park (holding none), and a
    sender dequeued after them gets a thread and completes them."""
    count = 200

    def scenario() -> None:
        handles = [queue.enqueue(async_parks_until_go, i) for i in range(count)]
        parked = get_runtime().parked
        deadline = time.monotonic() + 240
        while len(parked) < count:
            assert time.monotonic() < deadline, f"only {len(parked)} of {count} parked"
            time.sleep(0.05)
        sender = queue.enqueue(async_releases_parked, [h.workflow_id for h in handles])
        assert sender.get_result() == count
        assert [h.get_result() for h in handles] == [f"{i}:go" for i in range(count)]
        assert get_runtime().pool.thread_count <= 16

    run_parking(loop_kind, scenario, max_executor_threads=16)

"""Parking: a sync workflow that waits long gives its thread back and resumes by replay.

Each test runs a workflow on a workflow thread (started in the background, or dequeued) with a
short parking threshold, so its durable wait parks; it checks that the wait really parked (the
process's parked table, the body run again) and that everything a user sees is what an
unparked run shows: results, step numbers, timeouts from the first wait, cancellation,
workflow deadlines, queue slots, the handle's result.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import query_system_sql
from support.parking import launch_parking

from dbos import DBOS, Queue, SetWorkflowID, SetWorkflowTimeout
from dbos._core.runtime import get_runtime
from dbos._error import DBOSAwaitedWorkflowCancelledError

PARK_AFTER = 0.05

runs: dict[str, int] = {}


def _count_run() -> None:
    """Code between steps: runs again on every resume (as after a crash)."""
    workflow_id = DBOS.workflow_id
    assert workflow_id is not None
    runs[workflow_id] = runs.get(workflow_id, 0) + 1


@DBOS.step()
def parking_add_one(x: int) -> int:
    return x + 1


@DBOS.workflow()
def parking_receiver(x: int) -> tuple[int, Any, int]:
    _count_run()
    a = parking_add_one(x)
    message = DBOS.recv("topic", timeout_seconds=30)
    b = parking_add_one(a)
    return a, message, b


@DBOS.workflow()
def parking_sleeper(seconds: float) -> float:
    _count_run()
    started = parking_add_one(0)
    DBOS.sleep(seconds)
    return float(started)


@DBOS.workflow()
def timed_receiver(timeout: float) -> Any:
    _count_run()
    return DBOS.recv("topic", timeout_seconds=timeout)


@DBOS.workflow()
def event_waiter(target: str) -> Any:
    _count_run()
    return DBOS.get_event(target, "ready", timeout_seconds=30)


@DBOS.workflow()
def event_setter() -> None:
    DBOS.recv("go", timeout_seconds=30)
    DBOS.set_event("ready", "yes")


@DBOS.workflow()
def parent_of_receiver() -> Any:
    _count_run()
    child = DBOS.start_workflow(parking_receiver, 10)
    return child.get_result()


@DBOS.workflow()
def swallower() -> str:
    _count_run()
    try:
        DBOS.recv("topic", timeout_seconds=30)
    except Exception:  # a user's catch-all: parking passes through it
        return "swallowed"
    return "received"


@pytest.fixture
def parking(system_database_url: str) -> Iterator[str]:
    launch_parking(system_database_url, "parking", PARK_AFTER)
    runs.clear()
    yield system_database_url
    DBOS.destroy()


def _wait_until_parked(*workflow_ids: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    parked = get_runtime().parked
    while time.monotonic() < deadline:
        entries = [parked.get(w) for w in workflow_ids]
        if all(e is not None and e.resume is not None for e in entries):  # unwound, armed
            return
        time.sleep(0.01)
    pytest.fail(f"not parked within {timeout}s: {workflow_ids}")


def _wait_until_parked_again(workflow_id: str, before: object, timeout: float = 20.0) -> None:
    """Until `workflow_id` is parked (armed) in an entry other than `before`: it resumed and
    parked once more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entry = get_runtime().parked.get(workflow_id)
        if entry is not None and entry is not before and entry.resume is not None:
            return
        time.sleep(0.005)
    pytest.fail(f"{workflow_id} did not park again within {timeout}s")


def _steps(workflow_id: str) -> list[tuple[int, str, Any]]:
    return [
        (s["function_id"], s["function_name"], s["output"])
        for s in DBOS.list_workflow_steps(workflow_id)
        if s["function_name"] != "DBOS.sleep"  # its output is a wall-clock deadline
    ]


def test_a_parked_recv_is_woken_by_a_send_and_matches_an_unparked_run(parking: str) -> None:
    handle = DBOS.start_workflow(parking_receiver, 1)
    _wait_until_parked(handle.workflow_id)
    assert runs[handle.workflow_id] == 1
    waiting_for, until = _waiting(parking, handle.workflow_id)
    assert waiting_for == f"m:{handle.workflow_id}:topic"
    assert until is not None  # its recv's deadline, 30 s from its first wait
    DBOS.send(handle.workflow_id, "hello", "topic")
    assert handle.get_result() == (2, "hello", 3)  # the first run's future: the final result
    assert runs[handle.workflow_id] == 2  # resumed by replay
    assert get_runtime().parked.get(handle.workflow_id) is None

    # The same workflow called directly never parks (its caller's thread holds its frame).
    result: list[Any] = []

    def call_directly() -> None:
        with SetWorkflowID("direct"):
            result.append(parking_receiver(1))

    caller = threading.Thread(target=call_directly)
    caller.start()
    time.sleep(PARK_AFTER * 6)
    assert get_runtime().parked.get("direct") is None
    DBOS.send("direct", "hello", "topic")
    caller.join(10)
    assert result == [(2, "hello", 3)]
    assert runs["direct"] == 1
    assert _steps(handle.workflow_id) == _steps("direct")
    names = [s["function_name"] for s in DBOS.list_workflow_steps(handle.workflow_id)]
    assert names == ["parking_add_one", "DBOS.recv", "DBOS.sleep", "parking_add_one"]


def test_a_parked_recv_is_woken_by_a_send_from_another_process(parking: str) -> None:
    handle = DBOS.start_workflow(parking_receiver, 1)
    _wait_until_parked(handle.workflow_id)
    script = (
        "import sys\n"
        "from dbos import DBOSClient\n"
        "client = DBOSClient(system_database_url=sys.argv[1])\n"
        "client.send(sys.argv[2], 'from afar', 'topic')\n"
        "client.destroy()\n"
    )
    subprocess.run([sys.executable, "-c", script, parking, handle.workflow_id], check=True)
    assert handle.get_result() == (2, "from afar", 3)
    assert runs[handle.workflow_id] == 2


def _waiting(url: str, workflow_id: str) -> tuple[Any, ...]:
    (row,) = query_system_sql(
        url,
        "SELECT waiting_for, waiting_until_epoch_ms FROM {prefix}workflow_status "
        f"WHERE workflow_uuid = '{workflow_id}'",
    )
    return row


def test_a_parked_sleep_wakes_at_its_deadline(parking: str) -> None:
    began = time.monotonic()
    handle = DBOS.start_workflow(parking_sleeper, 0.6)
    _wait_until_parked(handle.workflow_id)
    waiting_for, until = _waiting(parking, handle.workflow_id)  # recorded for operators
    assert waiting_for == "sleep"
    assert abs(int(str(until)) / 1000 - (time.time() + 0.6)) < 1.0
    assert handle.get_result() == 1.0
    assert 0.6 <= time.monotonic() - began < 5
    assert runs[handle.workflow_id] == 2
    names = [s["function_name"] for s in DBOS.list_workflow_steps(handle.workflow_id)]
    assert names == ["parking_add_one", "DBOS.sleep"]
    assert _waiting(parking, handle.workflow_id) == (None, None)  # cleared when it finished


def test_a_recv_timeout_counts_from_the_first_wait_across_parks(parking: str) -> None:
    began = time.monotonic()
    handle = DBOS.start_workflow(timed_receiver, 2.0)
    _wait_until_parked(handle.workflow_id)
    first = get_runtime().parked.get(handle.workflow_id)
    # Wake it early with a message on another topic's key... of its own row: a cancel-check
    # fire (its FINAL key) resumes it; it parks again (most of its 2 s left: a resume delayed
    # under load still parks) and still times out on time.
    get_runtime().waiters.fire(("w", handle.workflow_id, ""))
    _wait_until_parked_again(handle.workflow_id, first)
    assert handle.get_result() is None
    elapsed = time.monotonic() - began
    assert 2.0 <= elapsed < 2.0 + 2.0
    assert runs[handle.workflow_id] >= 3  # parked twice, then resumed at the deadline


def test_a_parked_get_event_and_a_parked_child_result(parking: str) -> None:
    setter = DBOS.start_workflow(event_setter)
    waiter = DBOS.start_workflow(event_waiter, setter.workflow_id)
    parent = DBOS.start_workflow(parent_of_receiver)
    _wait_until_parked(setter.workflow_id, waiter.workflow_id, parent.workflow_id)
    DBOS.send(setter.workflow_id, None, "go")
    assert waiter.get_result() == "yes"
    assert runs[waiter.workflow_id] == 2
    child_id = f"{parent.workflow_id}-1"
    _wait_until_parked(child_id)
    DBOS.send(child_id, "to the child", "topic")
    assert parent.get_result() == (11, "to the child", 12)
    assert runs[parent.workflow_id] == 2
    names = [s["function_name"] for s in DBOS.list_workflow_steps(parent.workflow_id)]
    assert names == ["parking_receiver", "DBOS.getResult"]


def test_a_parked_workflow_is_cancelled_promptly(parking: str) -> None:
    handle = DBOS.start_workflow(parking_receiver, 1)
    _wait_until_parked(handle.workflow_id)
    began = time.monotonic()
    DBOS.cancel_workflow(handle.workflow_id)
    with pytest.raises(DBOSAwaitedWorkflowCancelledError):
        handle.get_result()
    assert time.monotonic() - began < 2
    assert handle.get_status().status == "CANCELLED"
    assert get_runtime().parked.get(handle.workflow_id) is None


def test_a_parked_workflow_ends_at_its_workflow_timeout(parking: str) -> None:
    began = time.monotonic()
    with SetWorkflowTimeout(0.5):
        handle = DBOS.start_workflow(parking_receiver, 1)
    _wait_until_parked(handle.workflow_id)
    with pytest.raises(DBOSAwaitedWorkflowCancelledError):
        handle.get_result()
    assert 0.5 <= time.monotonic() - began < 3
    assert handle.get_status().status == "CANCELLED"


def test_except_exception_in_the_body_does_not_swallow_a_park(parking: str) -> None:
    handle = DBOS.start_workflow(swallower)
    _wait_until_parked(handle.workflow_id)
    DBOS.send(handle.workflow_id, "x", "topic")
    assert handle.get_result() == "received"


single = Queue("test_parking.single", concurrency=1)


def test_a_parked_queued_workflow_keeps_its_slot(parking: str) -> None:
    first = single.enqueue(parking_receiver, 1)
    _wait_until_parked(first.workflow_id)
    second = single.enqueue(parking_receiver, 2)
    time.sleep(0.5)
    assert second.get_status().status == "ENQUEUED"  # the parked one holds the only slot
    DBOS.send(first.workflow_id, "one", "topic")
    assert first.get_result() == (2, "one", 3)
    _wait_until_parked(second.workflow_id)
    DBOS.send(second.workflow_id, "two", "topic")
    assert second.get_result() == (3, "two", 4)


def test_parking_off_holds_the_thread(system_database_url: str) -> None:
    DBOS.destroy()
    DBOS(
        config={
            "name": "parking-off",
            "system_database_url": system_database_url,
            "log_level": "WARNING",
            "park_waits_after_sec": None,
        }
    )
    DBOS.launch()
    runs.clear()
    try:
        handle = DBOS.start_workflow(parking_receiver, 1)
        time.sleep(0.5)
        assert get_runtime().parked.get(handle.workflow_id) is None
        DBOS.send(handle.workflow_id, "m", "topic")
        assert handle.get_result() == (2, "m", 3)
        assert runs[handle.workflow_id] == 1
    finally:
        DBOS.destroy()


def test_a_bad_threshold_is_refused() -> None:
    from dbos._error import DBOSInitializationError

    DBOS.destroy()
    with pytest.raises(DBOSInitializationError, match="park_waits_after_sec"):
        DBOS(config={"name": "bad", "park_waits_after_sec": -1})


@DBOS.workflow()
def receives_many(count: int) -> int:
    total = 0
    for _ in range(count):
        total += int(DBOS.recv("n", timeout_seconds=300))
    return total


def _statements_to_finish_after_a_park(count: int, counter: Any) -> int:
    """Statements from the last message's send to the result, for a workflow whose first
    `count - 1` recvs are recorded (their messages were waiting) and whose last one parked."""
    with SetWorkflowID(f"many-{count}"):
        handle = DBOS.start_workflow(receives_many, count)
    for _ in range(count - 1):
        DBOS.send(handle.workflow_id, 1, "n")
    _wait_until_parked(handle.workflow_id)
    before = counter.count
    DBOS.send(handle.workflow_id, 1, "n")
    assert handle.get_result() == count
    return int(counter.count - before)


def test_a_resume_reads_the_history_once_however_long(system_database_url: str) -> None:
    """The resume after the last wait replays 2 x (count - 1) recorded steps (each recv and
    its deadline) from one read: 399 recorded waits cost what 2 do."""
    import sqlalchemy as sa
    from test_many_waiters import StatementCounter

    counter = StatementCounter(naming="operation_outputs")  # the recorded steps' table
    sa.event.listen(sa.pool.Pool, "connect", counter.on_connect)
    DBOS.destroy()
    DBOS(
        config={
            "name": "parking-replay",
            "system_database_url": system_database_url,
            "log_level": "WARNING",
            "park_waits_after_sec": PARK_AFTER,
        }
    )
    DBOS.launch()
    try:
        short = _statements_to_finish_after_a_park(3, counter)
        long = _statements_to_finish_after_a_park(400, counter)
    finally:
        DBOS.destroy()
        sa.event.remove(sa.pool.Pool, "connect", counter.on_connect)
    # A read per recorded step would add 798.
    assert long <= short + 2, (short, long)

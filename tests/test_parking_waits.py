"""Parking in the waits that `test_parking.py` does not cover: `DBOS.wait_first` (a step whose
whole body is a wait, like a handle's `DBOS.getResult`), a stream read with a timeout (which
counts from the original call across parks), and a graceful stop (a parked workflow is not
resumed once the process is stopping, whatever fires).

As there, each test checks that the wait really parked (the parked table, the body run again)
and that what a user sees is what an unparked run shows."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from support.parking import launch_parking
from test_parking import PARK_AFTER, _wait_until_parked, _wait_until_parked_again

from dbos import DBOS, SetWorkflowID
from dbos._core.runtime import get_runtime
from dbos._error import DBOSAwaitedWorkflowCancelledError, DBOSStreamTimeoutError
from dbos._services.shutdown import stop_gracefully

runs: dict[str, int] = {}


def _count_run() -> None:
    """Code between steps: runs again on every resume (as after a crash)."""
    workflow_id = DBOS.workflow_id
    assert workflow_id is not None
    runs[workflow_id] = runs.get(workflow_id, 0) + 1


@pytest.fixture
def parking(system_database_url: str) -> Iterator[str]:
    launch_parking(system_database_url, "parking-waits", PARK_AFTER)
    runs.clear()
    yield system_database_url
    DBOS.destroy()


def _relaunch(url: str) -> None:
    DBOS.destroy()
    DBOS(
        config={
            "name": "parking-waits",
            "system_database_url": url,
            "log_level": "WARNING",
            "park_waits_after_sec": PARK_AFTER,
        }
    )
    DBOS.launch()


def _step_shape(workflow_id: str) -> list[tuple[int, str]]:
    return [(s["function_id"], s["function_name"]) for s in DBOS.list_workflow_steps(workflow_id)]


def _step(workflow_id: str, name: str) -> Any:
    (step,) = [s for s in DBOS.list_workflow_steps(workflow_id) if s["function_name"] == name]
    return step


def _wait_for_step(workflow_id: str, name: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if name in [step for _, step in _step_shape(workflow_id)]:
            return
        time.sleep(0.01)
    pytest.fail(f"{workflow_id} did not record {name} within {timeout}s")


# ------------------------------------------------------------------ wait_first


@DBOS.workflow()
def waits_for_its_go(name: str) -> str:
    DBOS.recv("go", timeout_seconds=60)
    return name


@DBOS.workflow()
def parks_in_wait_first() -> str:
    _count_run()
    handles = [DBOS.start_workflow(waits_for_its_go, n) for n in ("a", "b")]
    first = DBOS.wait_first(handles)
    DBOS.recv("after", timeout_seconds=60)  # parks again: the resume replays the winner
    return str(first.get_result())


def _child(parent_id: str, name: str) -> str:
    return f"{parent_id}-{1 if name == 'a' else 2}"


def test_wait_first_parks_and_returns_the_winner_as_an_unparked_run(parking: str) -> None:
    with SetWorkflowID("wf-parked"):
        handle = DBOS.start_workflow(parks_in_wait_first)
    parent = handle.workflow_id
    _wait_until_parked(_child(parent, "a"), _child(parent, "b"), parent)
    parked_at_ms = time.time() * 1000
    entry = get_runtime().parked.get(parent)
    assert entry is not None  # its thread given back; woken by either child's finish
    assert entry.describe() == f"w:{_child(parent, 'a')}:,w:{_child(parent, 'b')}:"
    assert runs[parent] == 1
    time.sleep(0.3)  # a wait long past the threshold: its step still starts at the call
    DBOS.send(_child(parent, "b"), None, "go")
    _wait_for_step(parent, "DBOS.waitFirst")
    _wait_until_parked(parent)  # resumed, recorded b, parked again in its recv
    assert runs[parent] == 2
    # Both have finished now; the resume below replays the recorded winner instead of
    # waiting again (a new wait would return "a", the first finished in the list).
    DBOS.send(_child(parent, "a"), None, "go")
    assert DBOS.retrieve_workflow(_child(parent, "a")).get_result() == "a"
    DBOS.send(parent, None, "after")
    assert handle.get_result() == "b"
    assert runs[parent] == 3
    waited = _step(parent, "DBOS.waitFirst")
    assert waited["output"] == _child(parent, "b")
    assert waited["started_at_epoch_ms"] <= parked_at_ms  # its start, not the resume's
    assert waited["completed_at_epoch_ms"] - waited["started_at_epoch_ms"] >= 300

    # The same workflow called directly never parks; its history has the same shape.
    result: list[str] = []

    def call_directly() -> None:
        with SetWorkflowID("wf-direct"):
            result.append(parks_in_wait_first())

    caller = threading.Thread(target=call_directly)
    caller.start()
    _wait_until_parked(_child("wf-direct", "a"), _child("wf-direct", "b"))
    time.sleep(PARK_AFTER * 4)
    assert get_runtime().parked.get("wf-direct") is None
    DBOS.send(_child("wf-direct", "b"), None, "go")
    _wait_for_step("wf-direct", "DBOS.waitFirst")
    DBOS.send(_child("wf-direct", "a"), None, "go")
    DBOS.send("wf-direct", None, "after")
    caller.join(20)
    assert result == ["b"]
    assert runs["wf-direct"] == 1
    assert _step_shape(parent) == _step_shape("wf-direct")
    assert _step(parent, "DBOS.waitFirst")["output"] == _child(parent, "b")


def test_a_workflow_parked_in_wait_first_is_cancelled_promptly(parking: str) -> None:
    handle = DBOS.start_workflow(parks_in_wait_first)
    parent = handle.workflow_id
    _wait_until_parked(parent)
    began = time.monotonic()
    DBOS.cancel_workflow(parent)
    with pytest.raises(DBOSAwaitedWorkflowCancelledError):
        handle.get_result()
    assert time.monotonic() - began < 2
    assert handle.get_status().status == "CANCELLED"
    assert get_runtime().parked.get(parent) is None
    assert "DBOS.waitFirst" not in [name for _, name in _step_shape(parent)]
    for name in ("a", "b"):
        DBOS.send(_child(parent, name), None, "go")


# ------------------------------------------------------------------ stream reads with a timeout


@DBOS.workflow()
def writes_on_go() -> None:
    DBOS.recv("go", timeout_seconds=60)
    DBOS.write_stream("values", "v1")
    DBOS.close_stream("values")


@DBOS.workflow()
def reads_one(writer_id: str, timeout: float) -> Any:
    _count_run()
    try:
        return next(iter(DBOS.read_stream(writer_id, "values", timeout_seconds=timeout)))
    except DBOSStreamTimeoutError as exc:
        return f"timed out: {exc}"


def test_a_stream_read_with_a_timeout_parks_and_times_out_at_the_original_deadline(
    parking: str,
) -> None:
    writer = DBOS.start_workflow(writes_on_go)
    began = time.monotonic()
    with SetWorkflowID("reader-parked"):
        handle = DBOS.start_workflow(reads_one, writer.workflow_id, 4.0)
    _wait_until_parked("reader-parked")
    first = get_runtime().parked.get("reader-parked")
    assert first is not None and first.wake_at is not None
    # Wake it early (its own key: what a cancel check fires): it resumes, finds nothing, parks
    # again, with half its time left (a resume delayed under load still has over a second,
    # far above the park threshold). Were the timeout counted from the resume, it would end
    # at ~6 s: a second clear of the bound, so a stall on a loaded machine does not blur them.
    time.sleep(max(2.0 - (time.monotonic() - began), 0.0))
    get_runtime().waiters.fire(("w", "reader-parked", ""))
    _wait_until_parked_again("reader-parked", first)
    outcome = handle.get_result()
    elapsed = time.monotonic() - began
    assert str(outcome).startswith("timed out")
    assert 4.0 <= elapsed < 5.0, elapsed
    assert runs["reader-parked"] >= 3  # parked twice, resumed at the deadline
    failed = _step("reader-parked", "DBOS.readStream")
    assert failed["completed_at_epoch_ms"] - failed["started_at_epoch_ms"] >= 4000

    # The recorded error is that of a read that held its thread (called directly).
    with SetWorkflowID("reader-direct"):
        direct = reads_one(writer.workflow_id, 4.0)
    assert runs["reader-direct"] == 1
    assert direct == outcome
    unparked = _step("reader-direct", "DBOS.readStream")
    assert type(unparked["error"]) is type(failed["error"]) is DBOSStreamTimeoutError
    assert str(unparked["error"]) == str(failed["error"])
    assert _step_shape("reader-parked") == _step_shape("reader-direct")
    DBOS.send(writer.workflow_id, None, "go")


def test_a_value_written_before_the_deadline_wakes_a_parked_timed_read(parking: str) -> None:
    writer = DBOS.start_workflow(writes_on_go)
    handle = DBOS.start_workflow(reads_one, writer.workflow_id, 30.0)
    _wait_until_parked(handle.workflow_id)
    began = time.monotonic()
    DBOS.send(writer.workflow_id, None, "go")
    assert handle.get_result() == "v1"
    assert time.monotonic() - began < 5
    assert runs[handle.workflow_id] == 2
    assert _step(handle.workflow_id, "DBOS.readStream")["output"] == ["v1"]


# ------------------------------------------------------------------ graceful stop


@DBOS.workflow()
def parked_until_message() -> Any:
    _count_run()
    return DBOS.recv("topic", timeout_seconds=60)


def _stopped_then_messaged() -> str:
    """A workflow parked in recv, a graceful stop, then its message: returns its ID."""
    handle = DBOS.start_workflow(parked_until_message)
    _wait_until_parked(handle.workflow_id)
    assert stop_gracefully(get_runtime(), 5.0) == 0  # a parked workflow is not running
    DBOS.send(handle.workflow_id, "late", "topic")
    time.sleep(0.5)
    return handle.workflow_id


def _resumes_at_recovery(url: str, workflow_id: str) -> None:
    status = DBOS.get_workflow_status(workflow_id)
    assert status is not None and status.status == "PENDING"
    # The send recorded the message as the parked recv's step (a handoff, `_db/handoff.py`):
    # the workflow itself wrote nothing more (its one run is `runs`), and recovery replays it.
    assert [name for _, name in _step_shape(workflow_id)] == ["DBOS.recv", "DBOS.sleep"]
    _relaunch(url)
    assert DBOS.retrieve_workflow(workflow_id).get_result() == "late"


def test_a_key_firing_during_a_graceful_stop_does_not_resume(parking: str) -> None:
    workflow_id = _stopped_then_messaged()
    assert runs[workflow_id] == 1  # no replay began
    with get_runtime().active_lock:
        assert workflow_id not in get_runtime().active
    entry = get_runtime().parked.get(workflow_id)
    assert entry is not None and entry.fired and not entry.done  # noted, not acted on
    _resumes_at_recovery(parking, workflow_id)


def test_a_resume_woken_just_before_the_stop_does_not_start(
    parking: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key fired before the stop began, its resume ran only after: it stops before
    replaying anything (the table's hold is left out here to reach that path)."""
    monkeypatch.setattr(get_runtime().parked, "hold", lambda: None)
    workflow_id = _stopped_then_messaged()
    assert runs[workflow_id] == 1
    assert get_runtime().parked.get(workflow_id) is None  # it fired and was handed on
    _resumes_at_recovery(parking, workflow_id)


@DBOS.workflow()
def receives_once() -> Any:
    return DBOS.recv("late", timeout_seconds=30)


def test_a_message_sent_just_as_the_wait_parks_is_not_lost(
    parking: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key fired after the wait's last check but before its park is registered reaches only
    the waiter, which is leaving: the park must still resume (it used to sleep until the
    recv's timeout; upstream's wait_first test lost a child's finish that way under load)."""
    table = get_runtime().parked
    original = type(table).add
    sent: list[str] = []

    def send_first(self: Any, ctx: Any, keys: Any, wake_at: Any) -> Any:
        if not sent:  # the message lands in the gap, from another thread
            sent.append(ctx.workflow_id)
            sender = threading.Thread(target=DBOS.send, args=(ctx.workflow_id, "hello", "late"))
            sender.start()
            sender.join(10)
        return original(self, ctx, keys, wake_at)

    monkeypatch.setattr(type(table), "add", send_first)
    began = time.monotonic()
    with SetWorkflowID("parks-as-sent"):
        handle = DBOS.start_workflow(receives_once)
    assert handle.get_result() == "hello"
    assert sent == ["parks-as-sent"]  # it did park, with the message in the gap
    assert time.monotonic() - began < 10  # resumed at once, not after the recv's 30 s

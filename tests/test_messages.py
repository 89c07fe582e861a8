"""DBOS.send and DBOS.recv on both backends: order, exactly-once delivery, durable timeouts."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from conftest import query_system_sql

from dbos import DBOS, SetWorkflowID, SetWorkflowTimeout
from dbos.error import (
    DBOSAwaitedWorkflowCancelledError,
    DBOSException,
    DBOSNonExistentWorkflowError,
    DBOSSerializationError,
)

pytestmark = pytest.mark.through_pgbouncer  # also through a transaction-mode PgBouncer

sends_made: list[str] = []


@DBOS.workflow()
def collect(topic: str | None, n: int, timeout: float = 10.0) -> list[object]:
    return [DBOS.recv(topic, timeout_seconds=timeout) for _ in range(n)]


@DBOS.workflow()
def inbox_two_topics() -> dict[str, object]:
    first_b = DBOS.recv("b", timeout_seconds=10)
    first_a = DBOS.recv("a", timeout_seconds=10)
    second_a = DBOS.recv("a", timeout_seconds=10)
    return {"a": [first_a, second_a], "b": first_b}


@DBOS.step()
def note_sent(tag: str) -> str:
    sends_made.append(tag)
    return tag


@DBOS.workflow()
def send_then_wait(destination: str) -> object:
    DBOS.send(destination, "from-workflow", topic="t")
    note_sent("sent")
    return DBOS.recv("never", timeout_seconds=30)


@DBOS.workflow()
def sink() -> str:
    return "here"


def _messages_to(url: str, destination: str) -> list[tuple[object, ...]]:
    return query_system_sql(
        url,
        "SELECT topic, message, consumed FROM {prefix}notifications "
        f"WHERE destination_uuid = '{destination}' ORDER BY seq",
    )


def test_messages_of_one_topic_arrive_in_send_order(dbos: None) -> None:
    with SetWorkflowID("inbox-order"):
        handle = DBOS.start_workflow(collect, "t", 5)
    for i in range(5):
        DBOS.send("inbox-order", {"n": i}, topic="t")
    assert handle.get_result() == [{"n": i} for i in range(5)]


def test_topics_are_separate_queues_and_none_is_a_topic(dbos: None) -> None:
    with SetWorkflowID("inbox-topics"):
        handle = DBOS.start_workflow(inbox_two_topics)
    DBOS.send("inbox-topics", "a1", topic="a")
    DBOS.send("inbox-topics", "no-topic")  # stays unread: the workflow never recvs topic None
    DBOS.send("inbox-topics", "a2", topic="a")
    DBOS.send("inbox-topics", "b1", topic="b")
    assert handle.get_result() == {"a": ["a1", "a2"], "b": "b1"}
    with SetWorkflowID("inbox-topics-none"):
        handle = DBOS.start_workflow(collect, None, 1)
    DBOS.send("inbox-topics-none", "plain")
    assert handle.get_result() == ["plain"]


def test_a_message_sent_before_anyone_waits_is_kept(dbos: None, system_database_url: str) -> None:
    with SetWorkflowID("early"):
        sink()  # the destination exists and has finished
    with SetWorkflowID("late-reader"):
        handle = DBOS.start_workflow(collect, "t", 0)
    handle.get_result()
    DBOS.send("late-reader", "kept", topic="t")
    assert _messages_to(system_database_url, "late-reader") == [("t", '"kept"', False)]


def test_recv_times_out_with_none_and_records_the_wait(dbos: None) -> None:
    with SetWorkflowID("times-out"):
        assert collect("t", 1, 0.2) == [None]
    steps = DBOS.list_workflow_steps("times-out")
    assert [(s["function_id"], s["function_name"]) for s in steps] == [
        (1, "DBOS.recv"),
        (2, "DBOS.sleep"),
    ]
    assert steps[0]["output"] is None
    assert steps[1]["output"] > time.time() - 5  # the recorded deadline, epoch seconds


@DBOS.workflow()
def waits_then_receives(go: str) -> object:
    DBOS.recv(go, timeout_seconds=10)  # the message "go" lets the second one in first
    return DBOS.recv("t", timeout_seconds=10)


def test_a_recv_that_finds_its_message_at_once_still_records_its_deadline(dbos: None) -> None:
    """Every recv's history is two steps, the message and its deadline, as upstream's: a
    recv that did not wait writes the deadline in the commit that takes the message."""
    with SetWorkflowID("found-at-once"):
        handle = DBOS.start_workflow(waits_then_receives, "go")
    DBOS.send("found-at-once", "now", topic="t")
    DBOS.send("found-at-once", "go", topic="go")
    assert handle.get_result() == "now"
    steps = DBOS.list_workflow_steps("found-at-once")
    assert [(s["function_id"], s["function_name"]) for s in steps] == [
        (1, "DBOS.recv"),
        (2, "DBOS.sleep"),
        (3, "DBOS.recv"),
        (4, "DBOS.sleep"),
    ]
    assert steps[3]["output"] > time.time()  # its deadline, had it waited
    replayed = DBOS.fork_workflow("found-at-once", 5)
    assert replayed.get_result() == "now"


def test_each_message_is_received_exactly_once(dbos: None, system_database_url: str) -> None:
    with SetWorkflowID("once"):
        handle = DBOS.start_workflow(collect, "t", 2)
    DBOS.send("once", 1, topic="t")
    DBOS.send("once", 2, topic="t")
    DBOS.send("once", 3, topic="t")
    assert handle.get_result() == [1, 2]
    rows = _messages_to(system_database_url, "once")
    assert [(r[1], bool(r[2])) for r in rows] == [("1", True), ("2", True), ("3", False)]


def test_send_to_a_missing_workflow_raises_and_writes_nothing(
    dbos: None, system_database_url: str
) -> None:
    with pytest.raises(DBOSNonExistentWorkflowError):
        DBOS.send("no-such-workflow", "hello")
    assert query_system_sql(system_database_url, "SELECT * FROM {prefix}notifications") == []


def test_an_unserializable_message_is_refused_before_anything_is_written(
    dbos: None, system_database_url: str
) -> None:
    with SetWorkflowID("target"):
        sink()
    with pytest.raises(DBOSSerializationError, match="message to workflow target"):
        DBOS.send("target", threading.Lock())
    assert query_system_sql(system_database_url, "SELECT * FROM {prefix}notifications") == []


def test_idempotency_key_delivers_a_retried_send_once(dbos: None, system_database_url: str) -> None:
    with SetWorkflowID("idem"):
        sink()
    for _ in range(3):
        DBOS.send("idem", "pay", topic="t", idempotency_key="payment-42")
    assert len(_messages_to(system_database_url, "idem")) == 1


def test_recv_outside_a_workflow_or_in_a_step_is_an_error(dbos: None) -> None:
    with pytest.raises(DBOSException, match="within a workflow"):
        DBOS.recv("t", timeout_seconds=0.1)

    @DBOS.step(name="test_messages.recv_in_step")
    def recv_in_step() -> object:
        return DBOS.recv("t", timeout_seconds=0.1)

    @DBOS.workflow(name="test_messages.wf_calls_step")
    def wf() -> object:
        return recv_in_step()

    with pytest.raises(DBOSException, match="not a step"):
        wf()


def test_a_send_from_a_workflow_is_not_repeated_when_it_is_resumed(
    dbos: None, system_database_url: str
) -> None:
    sends_made.clear()
    with SetWorkflowID("dest"):
        sink()
    with SetWorkflowID("sender"):
        handle = DBOS.start_workflow(send_then_wait, "dest")
    # Cancel once the step after the send is recorded, not merely run: cancelled between its
    # body and its checkpoint, the step would rightly run again on resume.
    deadline = time.time() + 30
    while time.time() < deadline:
        if "note_sent" in [s["function_name"] for s in DBOS.list_workflow_steps("sender")]:
            break
        time.sleep(0.01)
    DBOS.cancel_workflow("sender")
    with pytest.raises(DBOSAwaitedWorkflowCancelledError):
        handle.get_result()
    resumed = DBOS.resume_workflow("sender")
    time.sleep(0.2)
    DBOS.send("sender", "wake", topic="never")
    assert resumed.get_result() == "wake"
    assert len(_messages_to(system_database_url, "dest")) == 1  # replayed, not sent again
    assert sends_made == ["sent"]  # the step after it replayed too
    names = [s["function_name"] for s in DBOS.list_workflow_steps("sender")]
    assert names == ["DBOS.send", "note_sent", "DBOS.recv", "DBOS.sleep"]


def test_cancel_ends_a_workflow_blocked_in_recv_at_once(dbos: None) -> None:
    with SetWorkflowID("blocked"):
        handle = DBOS.start_workflow(collect, "t", 1, 60.0)
    time.sleep(0.2)
    started = time.monotonic()
    DBOS.cancel_workflow("blocked")
    with pytest.raises(DBOSAwaitedWorkflowCancelledError):
        handle.get_result()
    assert time.monotonic() - started < 5  # not the 60 s timeout
    assert DBOS.get_workflow_status("blocked").status == "CANCELLED"  # type: ignore[union-attr]


def test_a_workflow_deadline_ends_a_wait_in_recv(dbos: None) -> None:
    with SetWorkflowTimeout(0.3), SetWorkflowID("deadline-recv"):
        handle = DBOS.start_workflow(collect, "t", 1, 60.0)
    with pytest.raises(DBOSAwaitedWorkflowCancelledError):
        handle.get_result()
    assert DBOS.get_workflow_status("deadline-recv").status == "CANCELLED"  # type: ignore[union-attr]


@DBOS.workflow()
async def async_inbox(n: int) -> list[object]:
    got = []
    for _ in range(n):
        got.append(await DBOS.recv_async("t", timeout_seconds=10))
    return got


@DBOS.workflow()
async def async_sender(destination: str) -> None:
    await asyncio.gather(*(DBOS.send_async(destination, i, topic="t") for i in range(3)))


def test_async_send_and_recv(dbos: None) -> None:
    async def main() -> list[object]:
        with SetWorkflowID("async-inbox"):
            handle = await DBOS.start_workflow_async(async_inbox, 4)
        await DBOS.send_async("async-inbox", "first", topic="t")
        await async_sender("async-inbox")
        return await handle.get_result()

    got = asyncio.run(main())
    assert got[0] == "first" and sorted(got[1:]) == [0, 1, 2]  # type: ignore[type-var]
    sender = [w for w in DBOS.list_workflows(name="async_sender")][0]
    steps = DBOS.list_workflow_steps(sender.workflow_id)
    # Numbered at call time, in call order, whatever order the threads wrote them in.
    assert [(s["function_id"], s["function_name"]) for s in steps] == [
        (1, "DBOS.send"),
        (2, "DBOS.send"),
        (3, "DBOS.send"),
    ]

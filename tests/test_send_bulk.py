"""`DBOS.send_bulk` / `DBOSClient.send_bulk` (and `send`, which is a bulk of one): many
messages in one transaction, all delivered or none; upstream's message IDs (an idempotency key
scoped to each destination, `<key>::<destination>`); `send_to_forks`; one step from a workflow,
which a recovered sender (SIGKILLed, `tests/messaging_app.py`) does not send again."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import query_system_sql
from programs import program
from test_crash_recovery import WORKFLOW_ID, Launcher

from dbos import DBOS, DBOSClient, SendMessage, SetWorkflowID
from dbos.error import DBOSException, DBOSNonExistentWorkflowError

DESTINATION = "message-sink"  # messaging_app.DESTINATION


@DBOS.workflow()
def inbox(count: int, topic: str | None = None) -> list[object]:
    return [DBOS.recv(topic, timeout_seconds=10) for _ in range(count)]


@DBOS.workflow()
def inbox_then_check(topic: str | None = None) -> list[object]:
    """The first message, then whatever else arrives within a short wait (None: nothing)."""
    return [DBOS.recv(topic, timeout_seconds=10), DBOS.recv(topic, timeout_seconds=0.5)]


@DBOS.workflow()
def sends_bulk(destination: str, key: str | None) -> None:
    DBOS.send_bulk(
        [
            SendMessage(destination, "one", "t"),
            SendMessage(destination, "two", "t", idempotency_key=key),
            SendMessage(destination, "three", "t"),
        ]
    )


@DBOS.workflow()
def sends_with_key(destination: str, message: str, key: str) -> None:
    DBOS.send(destination, message, idempotency_key=key)


@DBOS.step()
def step_sends_with_key(destination: str, message: str, key: str) -> None:
    DBOS.send(destination, message, idempotency_key=key)


@DBOS.workflow()
def sends_from_a_step(destination: str, message: str, key: str) -> None:
    step_sends_with_key(destination, message, key)


@DBOS.workflow()
def sends_nothing() -> str:
    DBOS.send_bulk([])
    return "ok"


@DBOS.step()
def forkable_step() -> int:
    return 1


@DBOS.workflow()
def forkable() -> int:
    return forkable_step()


@pytest.fixture
def url(dbos: None, system_database_url: str) -> str:
    return system_database_url


def _message_rows(url: str) -> list[tuple[object, ...]]:
    return query_system_sql(
        url,
        "SELECT message_uuid, destination_uuid, message FROM {prefix}notifications ORDER BY seq",
    )


def _start(workflow: object, workflow_id: str, *args: object) -> object:
    with SetWorkflowID(workflow_id):
        return DBOS.start_workflow(workflow, *args)  # type: ignore[arg-type]


def test_a_bulk_is_delivered_in_order_across_destinations_and_topics(url: str) -> None:
    a = _start(inbox, "dest-a", 2, "t")
    b = _start(inbox, "dest-b", 1)
    DBOS.send_bulk(
        [
            SendMessage("dest-a", "a1", "t"),
            SendMessage("dest-b", "b1"),
            SendMessage("dest-a", "a2", "t"),
        ]
    )
    assert a.get_result() == ["a1", "a2"]  # type: ignore[attr-defined]
    assert b.get_result() == ["b1"]  # type: ignore[attr-defined]


def test_a_bulk_with_a_missing_destination_delivers_nothing(url: str) -> None:
    waiting = _start(inbox_then_check, "real")
    with pytest.raises(DBOSNonExistentWorkflowError) as caught:
        DBOS.send_bulk(
            [SendMessage("real", "lost"), SendMessage("ghost-1", "x"), SendMessage("ghost-2", "y")]
        )
    # The missing destinations are named, not the one that exists.
    assert "Non-existent `send` destination workflow ID: ghost-1, ghost-2" in str(caught.value)
    assert _message_rows(url) == []
    DBOS.send("real", "later")
    assert waiting.get_result() == ["later", None]  # type: ignore[attr-defined]
    with pytest.raises(DBOSNonExistentWorkflowError, match="`send` destination workflow ID: nope"):
        DBOS.send("nope", "hello")


def test_bad_bulks_are_refused_before_anything_is_written(url: str) -> None:
    _start(inbox_then_check, "dup-dest")
    with pytest.raises(DBOSException, match="duplicate idempotency keys: k1, k2"):
        DBOS.send_bulk(
            [
                SendMessage("dup-dest", "a", idempotency_key="k1"),
                SendMessage("dup-dest", "b", idempotency_key="k2"),
                SendMessage("dup-dest", "c", idempotency_key="k1"),
                SendMessage("dup-dest", "d", idempotency_key="k2"),
            ]
        )
    with pytest.raises(TypeError, match="SendMessage"):
        DBOS.send_bulk([("dup-dest", "a")])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="cannot be serialized"):
        DBOS.send_bulk([SendMessage("dup-dest", "fine"), SendMessage("dup-dest", threading.Lock())])
    assert _message_rows(url) == []
    DBOS.send_bulk([])  # an empty bulk outside a workflow: nothing at all


def test_an_idempotency_key_delivers_once_per_destination(url: str) -> None:
    waiting = _start(inbox_then_check, "keyed-dest")
    DBOS.send("keyed-dest", "hello", idempotency_key="k")
    DBOS.send("keyed-dest", "hello again", idempotency_key="k")  # a repeat: skipped
    DBOS.send_bulk([SendMessage("keyed-dest", "bulk repeat", idempotency_key="k")])
    assert waiting.get_result() == ["hello", None]  # type: ignore[attr-defined]
    assert [r[0] for r in _message_rows(url)] == ["k::keyed-dest"]

    # The same from workflows (different senders, one key) and from a step inside one.
    from_workflows = _start(inbox_then_check, "wf-dest")
    sends_with_key("wf-dest", "first", "wk")
    sends_with_key("wf-dest", "second", "wk")
    assert from_workflows.get_result() == ["first", None]  # type: ignore[attr-defined]
    from_steps = _start(inbox_then_check, "step-dest")
    sends_from_a_step("step-dest", "first", "sk")
    sends_from_a_step("step-dest", "second", "sk")
    assert from_steps.get_result() == ["first", None]  # type: ignore[attr-defined]


def test_from_a_workflow_a_bulk_is_one_step_sent_once(url: str) -> None:
    waiting = _start(inbox, "bulk-dest", 3, "t")
    with SetWorkflowID("bulk-sender"):
        sends_bulk("bulk-dest", "key-2")
    assert waiting.get_result() == ["one", "two", "three"]  # type: ignore[attr-defined]
    steps = DBOS.list_workflow_steps("bulk-sender")
    assert [(s["function_id"], s["function_name"]) for s in steps] == [(1, "DBOS.send_bulk")]
    # IDs derive from the sender and its step, a keyed one from the key and destination.
    assert [r[0] for r in _message_rows(url)] == [
        "bulk-sender-1",
        "key-2::bulk-dest",
        "bulk-sender-1.2",
    ]
    with SetWorkflowID("bulk-sender"):
        sends_bulk("bulk-dest", "key-2")  # the recorded outcome: nothing is sent again
    assert len(_message_rows(url)) == 3
    forked = DBOS.fork_workflow("bulk-sender", 1)  # a fork sends anew, under its own IDs
    forked.get_result()
    assert len(_message_rows(url)) == 5  # its keyed message was a repeat

    assert sends_nothing() == "ok"  # an empty bulk in a workflow is still its step
    (status,) = DBOS.list_workflows(name="sends_nothing")
    assert [s["function_name"] for s in DBOS.list_workflow_steps(status.workflow_id)] == [
        "DBOS.send_bulk"
    ]


def test_send_to_forks_reaches_every_fork_of_each_destination(url: str) -> None:
    def run_root(workflow_id: str) -> str:
        with SetWorkflowID(workflow_id):
            assert forkable() == 1
        return workflow_id

    def fork(workflow_id: str) -> str:
        handle = DBOS.fork_workflow(workflow_id, 1)
        assert handle.get_result() == 1
        return handle.workflow_id

    a = run_root("root-a")
    a_fork = fork(a)
    a_fork_fork = fork(a_fork)
    b = run_root("root-b")
    b_fork = fork(b)
    c = run_root("root-c")
    fork(c)
    DBOS.send_bulk(
        [SendMessage(a, "to a", idempotency_key="ka"), SendMessage(b, "to b")], send_to_forks=True
    )
    rows = _message_rows(url)
    assert sorted(str(r[1]) for r in rows) == sorted([a, a_fork, a_fork_fork, b, b_fork])
    assert {str(r[0]) for r in rows if r[2] == '"to a"'} == {
        f"ka::{a}",
        f"ka::{a_fork}",
        f"ka::{a_fork_fork}",
    }
    DBOS.send(a, "again", idempotency_key="ka", send_to_forks=True)  # every copy a repeat
    assert len(_message_rows(url)) == 5
    DBOS.send(c, "only c")  # without send_to_forks: only the named destination
    assert [str(r[1]) for r in _message_rows(url)][-1] == c
    assert len(_message_rows(url)) == 6


def test_a_client_sends_bulks_too(url: str) -> None:
    waiting = _start(inbox, "client-dest", 3)
    client = DBOSClient(system_database_url=url)
    try:
        client.send_bulk([SendMessage("client-dest", 1), SendMessage("client-dest", 2)])
        asyncio.run(client.send_bulk_async([SendMessage("client-dest", 3, idempotency_key="c")]))
        client.send("client-dest", 4, None, "c")  # upstream's client takes the key positionally
        with pytest.raises(DBOSNonExistentWorkflowError):
            client.send_bulk([SendMessage("nobody", 1)])
    finally:
        client.destroy()
    assert waiting.get_result() == [1, 2, 3]  # type: ignore[attr-defined]
    assert len(_message_rows(url)) == 3


@DBOS.workflow()
async def gathers_sends(destination: str) -> None:
    await asyncio.gather(
        DBOS.send_async(destination, "first"),
        DBOS.send_bulk_async([SendMessage(destination, "second")]),
        DBOS.send_async(destination, "third"),
    )


def test_async_sends_in_a_workflow_are_numbered_at_call_time(url: str) -> None:
    waiting = _start(inbox, "gather-dest", 3)
    with SetWorkflowID("gatherer"):
        asyncio.run(gathers_sends("gather-dest"))
    steps = DBOS.list_workflow_steps("gatherer")
    assert [(s["function_id"], s["function_name"]) for s in steps] == [
        (1, "DBOS.send"),
        (2, "DBOS.send_bulk"),
        (3, "DBOS.send"),
    ]
    assert sorted(waiting.get_result()) == ["first", "second", "third"]  # type: ignore[attr-defined]


@pytest.fixture
def messaging_launcher(system_database_url: str, tmp_path: Path) -> Iterator[Launcher]:
    markers = tmp_path / "markers"
    markers.mkdir()
    launcher = Launcher(system_database_url, markers, app=program("messaging_app"))
    try:
        yield launcher
    finally:
        launcher.kill_all()


@pytest.mark.timeout(120)
def test_a_bulk_checkpointed_before_a_crash_is_not_sent_again(
    messaging_launcher: Launcher, system_database_url: str
) -> None:
    first = messaging_launcher.spawn("start", "send_bulk")
    messaging_launcher.wait_for_marker("held", [first])
    messaging_launcher.sigkill(first)
    report = messaging_launcher.recover("send_bulk")
    assert report["result"] == "sent"
    assert messaging_launcher.pids("held") == [first.pid, report["pid"]]
    rows = query_system_sql(
        system_database_url,
        "SELECT message_uuid, message FROM {prefix}notifications "
        f"WHERE destination_uuid = '{DESTINATION}' ORDER BY seq",
    )
    assert rows == [
        (f"{WORKFLOW_ID}-1", '"first of the bulk"'),
        (f"bulk-key::{DESTINATION}", '"keyed"'),
    ]

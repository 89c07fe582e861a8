"""A send completes a receive waiting in this process (`dbos._db.handoff`): the message is
recorded as the receiver's `DBOS.recv` step in the send's own transaction, so a wake-up by
message is one durable commit instead of two. Both databases.

The store tests pin the statement's guards (the receiver's ownership, an older message waiting,
a repeat, a timeout recorded first, a sender that lost its workflow, a retried statement); the
runtime tests show a held and a parked receiver waking without a write of their own, and the
races a receiver meets; `test_messaging_crashes.py` kills the process just after a handoff.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from conftest import admin_conninfo, query_system_sql, run_system_sql
from test_stores import _pending_row

from dbos import DBOS, SetWorkflowID
from dbos._core.runtime import get_runtime
from dbos._db.connections import Connections
from dbos._db.handoff import UNKNOWN, WaitingReceiver, receiver_params
from dbos._db.message_store import MessageStore, OutgoingMessage
from dbos._db.records import StepWrite, now_ms
from dbos._db.workflow_store import WorkflowStore

# ---------------------------------------------------------------------------- the store


@pytest.fixture
def stores(connections: Connections) -> tuple[WorkflowStore, MessageStore]:
    workflows = WorkflowStore(connections)
    return workflows, MessageStore(connections, workflows)


def _waiting(
    stores: tuple[WorkflowStore, MessageStore], workflow_id: str, owner: str = "owner-r"
) -> WaitingReceiver:
    """A PENDING receiver whose recv (step 0) waits on `topic`, registered with the store."""
    workflows, messages = stores
    assert workflows.insert_workflow(_pending_row(workflow_id, owner))
    step = StepWrite(workflow_id, owner, 0, "DBOS.recv", started_at=now_ms())
    return messages.receivers.register(step, "topic")


def _message(message_id: str, destination: str, text: str = '"hello"') -> OutgoingMessage:
    return OutgoingMessage(message_id, destination, "topic", text, "portable_json")


def _recv_step(workflows: WorkflowStore, workflow_id: str) -> str | None:
    step = workflows.load_steps(workflow_id).get(0)
    return None if step is None else step.output


def _consumed(url: str, workflow_id: str) -> list[bool]:
    """Each message to `workflow_id`, in send order: whether it is consumed."""
    rows = query_system_sql(
        url,
        "SELECT consumed FROM {prefix}notifications "
        f"WHERE destination_uuid = '{workflow_id}' ORDER BY seq",
    )
    return [bool(r[0]) for r in rows]


def test_a_send_records_the_message_as_the_waiting_receivers_step(
    stores: tuple[WorkflowStore, MessageStore], system_database_url: str
) -> None:
    workflows, messages = stores
    receiver = _waiting(stores, "r-1")
    messages.send_messages([_message("m-1", "r-1")])
    assert receiver.mailbox == ('"hello"', "portable_json")
    assert _recv_step(workflows, "r-1") == '"hello"'
    assert _consumed(system_database_url, "r-1") == [True]
    assert messages.receivers.waiting("r-1", "topic") is None  # it took one: not offered again
    # A second message waits for the next receive, as any send.
    messages.send_messages([_message("m-2", "r-1", '"again"')])
    assert _consumed(system_database_url, "r-1") == [True, False]


def test_only_the_first_message_of_a_bulk_send_completes_the_receive(
    stores: tuple[WorkflowStore, MessageStore], system_database_url: str
) -> None:
    workflows, messages = stores
    receiver = _waiting(stores, "r-bulk")
    messages.send_messages([_message("b-1", "r-bulk", '"one"'), _message("b-2", "r-bulk", '"two"')])
    assert receiver.mailbox == ('"one"', "portable_json")
    assert _recv_step(workflows, "r-bulk") == '"one"'
    assert _consumed(system_database_url, "r-bulk") == [True, False]


def test_an_older_message_waiting_keeps_the_order(
    stores: tuple[WorkflowStore, MessageStore], system_database_url: str
) -> None:
    """The receiver takes the oldest message: a send behind one is stored as any send."""
    workflows, messages = stores
    assert workflows.insert_workflow(_pending_row("r-old", "owner-r"))
    messages.send_messages([_message("o-1", "r-old", '"first"')])  # nobody waits yet
    step = StepWrite("r-old", "owner-r", 0, "DBOS.recv", started_at=now_ms())
    receiver = messages.receivers.register(step, "topic")
    messages.send_messages([_message("o-2", "r-old", '"second"')])
    assert receiver.mailbox is None and _recv_step(workflows, "r-old") is None
    assert _consumed(system_database_url, "r-old") == [False, False]
    assert messages.receivers.waiting("r-old", "topic") is None  # no longer offered


@pytest.mark.parametrize("how", ["cancelled", "taken over"])
def test_a_receiver_that_is_no_longer_ours_is_not_completed(
    stores: tuple[WorkflowStore, MessageStore], system_database_url: str, how: str
) -> None:
    workflows, messages = stores
    receiver = _waiting(stores, "r-gone")
    if how == "cancelled":
        run_system_sql(
            system_database_url,
            "UPDATE {prefix}workflow_status SET status = 'CANCELLED' "
            "WHERE workflow_uuid = 'r-gone'",
        )
    else:
        receiver.step = StepWrite("r-gone", "someone-else", 0, "DBOS.recv", started_at=1)
    messages.send_messages([_message("g-1", "r-gone")])
    assert receiver.mailbox is None and _recv_step(workflows, "r-gone") is None
    assert _consumed(system_database_url, "r-gone") == [False]  # kept for whoever receives next
    assert len(messages.receivers) == 0  # a stale receiver goes


def test_a_timeout_recorded_first_wins_and_the_message_is_kept(
    stores: tuple[WorkflowStore, MessageStore], system_database_url: str
) -> None:
    workflows, messages = stores
    receiver = _waiting(stores, "r-late")
    assert workflows.record_step("r-late", "owner-r", 0, "DBOS.recv", None, None, None, None, 1)
    messages.send_messages([_message("l-1", "r-late")])
    assert receiver.mailbox is None and _recv_step(workflows, "r-late") is None  # its None
    assert _consumed(system_database_url, "r-late") == [False]


def test_a_repeated_message_completes_nothing(
    stores: tuple[WorkflowStore, MessageStore], system_database_url: str
) -> None:
    """A message whose ID is taken (an idempotency key sent again) was delivered already."""
    workflows, messages = stores
    assert workflows.insert_workflow(_pending_row("r-dup", "owner-r"))
    messages.send_messages([_message("key::r-dup", "r-dup", '"once"')])
    step = StepWrite("r-dup", "owner-r", 0, "DBOS.recv", started_at=now_ms())
    receiver = messages.receivers.register(step, "topic")
    messages.send_messages([_message("key::r-dup", "r-dup", '"once"')])
    assert receiver.mailbox is None and _recv_step(workflows, "r-dup") is None
    assert _consumed(system_database_url, "r-dup") == [False]  # the first, still there to receive


def test_a_sender_that_lost_its_workflow_writes_nothing(
    stores: tuple[WorkflowStore, MessageStore], system_database_url: str
) -> None:
    from dbos._db.records import NotOwner

    workflows, messages = stores
    receiver = _waiting(stores, "r-from-wf")
    assert workflows.insert_workflow(_pending_row("sender", "owner-s"))
    stale = StepWrite("sender", "not-the-owner", 0, "DBOS.send", started_at=now_ms())
    with pytest.raises(NotOwner):
        messages.send_messages([_message("s-1", "r-from-wf")], stale)
    assert (
        _recv_step(workflows, "r-from-wf") is None
        and _consumed(system_database_url, "r-from-wf") == []
    )
    assert receiver.mailbox is UNKNOWN  # told to look: it finds nothing and waits on
    receiver.mailbox = None
    sending = StepWrite("sender", "owner-s", 0, "DBOS.send", started_at=now_ms())
    messages.send_messages([_message("s-2", "r-from-wf")], sending)
    assert receiver.mailbox == ('"hello"', "portable_json")
    assert _recv_step(workflows, "r-from-wf") == '"hello"'
    assert workflows.load_steps("sender")[0].function_name == "DBOS.send"


@pytest.mark.postgres_only  # SQLite commits locally: no commit lands with its answer lost
def test_a_retried_delivery_still_answers_that_the_receiver_took_it(
    stores: tuple[WorkflowStore, MessageStore], connections: Connections, system_database_url: str
) -> None:
    """A statement retried after its commit's answer was lost meets its own rows: it must
    still say the receiver took the message (the receiver would otherwise wait for nothing)."""
    workflows, messages = stores
    receiver = _waiting(stores, "r-retry")
    params = _message("t-1", "r-retry").params(now_ms()) | receiver_params(receiver)
    sql = connections.sql.DELIVER_TO_RECEIVER
    assert connections.execute(sql, params) == 1
    assert connections.execute(sql, params) == 1  # the retry
    assert _recv_step(workflows, "r-retry") == '"hello"'
    assert _consumed(system_database_url, "r-retry") == [True]


@pytest.mark.postgres_only  # NOTIFY
def test_a_message_handed_to_its_receiver_wakes_no_other_process(
    stores: tuple[WorkflowStore, MessageStore], system_database_url: str
) -> None:
    """The sender wakes its receiver itself: a message stored consumed sends no NOTIFY (every
    listening process would parse it and wake nobody); one stored for a receive to come does."""
    import psycopg

    _waiting(stores, "r-quiet")
    _, messages = stores
    with psycopg.connect(admin_conninfo(system_database_url), autocommit=True) as listener:
        listener.execute("LISTEN dbos_wake")

        def heard() -> list[str]:
            return [n.payload for n in listener.notifies(timeout=0.5, stop_after=10)]

        messages.send_messages([_message("q-1", "r-quiet")])
        assert heard() == []
        messages.send_messages([_message("q-2", "r-quiet")])  # nobody waits for this one
        assert heard() == ["m|7|r-quiettopic"]
    assert _consumed(system_database_url, "r-quiet") == [True, False]


# ---------------------------------------------------------------------------- the runtime


@DBOS.workflow()
def receives(timeout: float = 30.0) -> Any:
    return DBOS.recv("topic", timeout_seconds=timeout)


@DBOS.workflow()
async def receives_async() -> Any:
    return await DBOS.recv_async("topic", timeout_seconds=30)


def _registered(workflow_id: str, timeout: float = 10.0) -> WaitingReceiver:
    deadline = time.monotonic() + timeout
    receivers = get_runtime().sysdb.messages.receivers
    while time.monotonic() < deadline:
        receiver = receivers.waiting(workflow_id, "topic")
        if receiver is not None:
            return receiver
        time.sleep(0.005)
    pytest.fail(f"{workflow_id} never waited in recv")


@pytest.fixture
def receiver_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The workflows whose receive consumed a message itself (a write of its own)."""
    writes: list[str] = []
    store = type(get_runtime().sysdb.messages)
    original = store.receive_message

    def counted(self: Any, step: StepWrite, *args: Any) -> Any:
        found = original(self, step, *args)
        if found[0]:
            writes.append(step.workflow_id)
        return found

    monkeypatch.setattr(store, "receive_message", counted)
    return writes


def _steps(workflow_id: str) -> list[tuple[str, Any]]:
    return [(s["function_name"], s["output"]) for s in DBOS.list_workflow_steps(workflow_id)]


def test_a_held_receiver_wakes_to_its_recorded_step(
    dbos: None, receiver_writes: list[str], system_database_url: str
) -> None:
    with SetWorkflowID("held-1"):
        handle = DBOS.start_workflow(receives)
    _registered("held-1")
    DBOS.send("held-1", {"n": 1}, "topic")
    assert handle.get_result() == {"n": 1}
    assert receiver_writes == []  # the send's transaction recorded it
    steps = _steps("held-1")
    assert [name for name, _ in steps] == ["DBOS.recv", "DBOS.sleep"]
    assert steps[0][1] == {"n": 1}
    assert len(get_runtime().sysdb.messages.receivers) == 0
    rows = query_system_sql(
        system_database_url,
        "SELECT consumed FROM {prefix}notifications WHERE destination_uuid = 'held-1'",
    )
    assert [bool(r[0]) for r in rows] == [True]


def test_a_parked_receiver_resumes_to_its_recorded_step(
    dbos: None, receiver_writes: list[str]
) -> None:
    with SetWorkflowID("parked-1"):
        handle = DBOS.start_workflow(receives)
    _registered("parked-1")
    _parked("parked-1")
    DBOS.send("parked-1", "hello", "topic")
    assert handle.get_result() == "hello"
    assert receiver_writes == []
    assert len(get_runtime().sysdb.messages.receivers) == 0


def _parked(workflow_id: str) -> None:
    deadline = time.monotonic() + 10
    while get_runtime().parked.get(workflow_id) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert get_runtime().parked.get(workflow_id) is not None


def test_a_parked_receiver_resumes_as_the_send_begins_and_reads_its_mailbox(
    dbos: None, monkeypatch: pytest.MonkeyPatch, receiver_writes: list[str]
) -> None:
    """The send resumes a parked receiver before its own transaction (so that the replay's
    history read overlaps the commit); here the resumed run is held back until it waits again
    (its history read without the message), then the send commits: the receive returns the
    message from its mailbox, and writes nothing."""
    with SetWorkflowID("early-1"):
        handle = DBOS.start_workflow(receives)
    _registered("early-1")
    _parked("early-1")
    committer = get_runtime().sysdb.messages.db.committer
    seen: list[bool] = []

    def once_resumed(run: Any) -> Any:
        def run_after_resume(*args: Any) -> Any:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with get_runtime().active_lock:
                    ctx = get_runtime().active.get("early-1")
                if ctx is not None and ctx.waiters:  # waiting in its recv again
                    break
                time.sleep(0.005)
            time.sleep(0.05)  # its check found the send in flight: it sleeps on its keys
            seen.append(get_runtime().parked.get("early-1") is None)
            return run(*args)

        return run_after_resume

    # (`execute` is `execute_unit` of one statement)
    monkeypatch.setattr(committer, "execute_unit", once_resumed(committer.execute_unit))
    DBOS.send("early-1", "from the mailbox", "topic")
    assert seen == [True]  # resumed (no longer parked) before the send's statement ran
    assert handle.get_result() == "from the mailbox"
    assert receiver_writes == []
    assert _steps("early-1")[0] == ("DBOS.recv", "from the mailbox")


def test_with_work_queued_for_the_pool_a_parked_receiver_waits_for_the_commit(
    dbos: None, monkeypatch: pytest.MonkeyPatch, receiver_writes: list[str]
) -> None:
    """Many sends at once: a receive resumed as its send begins would find the send under way
    and park again (the pool is busy), to be resumed a second time; it is resumed once, by
    the send's wake-up after the commit, and finds its step in its history."""
    with SetWorkflowID("busy-1"):
        handle = DBOS.start_workflow(receives)
    _registered("busy-1")
    _parked("busy-1")
    runtime = get_runtime()
    monkeypatch.setattr(runtime.pool, "saturated", lambda: True)
    committer = runtime.sysdb.messages.db.committer
    original = committer.execute_unit
    parked_then: list[bool] = []

    def noting(statements: Any) -> list[int]:
        parked_then.append(runtime.parked.get("busy-1") is not None)
        return original(statements)

    monkeypatch.setattr(committer, "execute_unit", noting)
    DBOS.send("busy-1", "after the commit", "topic")
    assert parked_then == [True]
    assert handle.get_result() == "after the commit"
    assert receiver_writes == []


def test_an_async_receiver_is_completed_too(dbos: None, receiver_writes: list[str]) -> None:
    with SetWorkflowID("async-1"):
        handle = DBOS.start_workflow(receives_async)
    _registered("async-1")
    DBOS.send("async-1", [1, 2], "topic")
    assert handle.get_result() == [1, 2]
    assert receiver_writes == []


def test_a_receive_completed_as_it_times_out_returns_the_message(
    dbos: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The send records the step, but the receiver hears nothing of it (as if the wake-up were
    lost) and times out: recording its None meets the send's step, which it returns."""
    store = type(get_runtime().sysdb.messages)
    monkeypatch.setattr(store, "_fill_mailboxes", lambda *_args: None)
    monkeypatch.setattr(get_runtime().sysdb.messages.db, "wake", lambda _key: None)
    with SetWorkflowID("race-1"):
        handle = DBOS.start_workflow(receives, 1.0)
    _registered("race-1")
    DBOS.send("race-1", "just in time", "topic")
    assert handle.get_result() == "just in time"
    assert _steps("race-1")[0] == ("DBOS.recv", "just in time")


def test_a_send_that_cannot_tell_leaves_the_receiver_to_read_its_step(
    dbos: None, monkeypatch: pytest.MonkeyPatch, receiver_writes: list[str]
) -> None:
    """The send's commit lands but its caller gets an error (a connection lost as the answer
    came back): the receiver, told UNKNOWN, reads its step and returns the message."""
    committer = get_runtime().sysdb.messages.db.committer
    original = committer.execute
    failed: list[bool] = []

    def commits_then_fails(sql: str, params: Any) -> int:
        count = original(sql, params)
        if "recorded" in sql or "changes()" in sql:
            failed.append(True)
            raise ConnectionError("the answer was lost")
        return count

    monkeypatch.setattr(committer, "execute", commits_then_fails)
    original_unit = committer.execute_unit

    def unit_then_fails(statements: Any) -> list[int]:
        counts = original_unit(statements)
        if any("changes()" in sql for sql, _ in statements):
            failed.append(True)
            raise ConnectionError("the answer was lost")
        return counts

    monkeypatch.setattr(committer, "execute_unit", unit_then_fails)
    with SetWorkflowID("unknown-1"):
        handle = DBOS.start_workflow(receives)
    _registered("unknown-1")
    with pytest.raises(ConnectionError):
        DBOS.send("unknown-1", "delivered", "topic")
    assert failed
    assert handle.get_result() == "delivered"
    assert receiver_writes == []


def test_many_receivers_each_get_their_own_message(dbos: None) -> None:
    handles = []
    for i in range(20):
        with SetWorkflowID(f"many-{i}"):
            handles.append(DBOS.start_workflow(receives))
    for i in range(20):
        _registered(f"many-{i}")
    senders = [
        threading.Thread(target=DBOS.send, args=(f"many-{i}", i, "topic")) for i in range(20)
    ]
    for t in senders:
        t.start()
    for t in senders:
        t.join()
    assert [h.get_result() for h in handles] == list(range(20))


# ------------------------------------------------------ the woken receive runs on at once


@pytest.fixture
def yields(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each time a send gave up the GIL to the receive it completed."""
    import dbos._core.messages as messages

    seen: list[str] = []
    monkeypatch.setattr(messages, "yield_the_gil", lambda: seen.append("yield"))
    return seen


def test_a_send_that_completed_a_receive_lets_it_run_on(dbos: None, yields: list[str]) -> None:
    with SetWorkflowID("yield-1"):
        handle = DBOS.start_workflow(receives)
    _registered("yield-1")
    DBOS.send("yield-1", "hello", "topic")
    assert yields == ["yield"]
    assert handle.get_result() == "hello"
    # A message stored for a later receive woke nobody here: the sender goes on.
    DBOS.send("yield-1", "later", "topic")
    assert yields == ["yield"]


def test_a_send_among_others_under_way_does_not_yield(dbos: None, yields: list[str]) -> None:
    import dbos._core.messages as messages

    with SetWorkflowID("yield-2"):
        handle = DBOS.start_workflow(receives)
    _registered("yield-2")
    with messages._sends.under_way():  # another send of this process is writing
        DBOS.send("yield-2", "hello", "topic")
    assert handle.get_result() == "hello"
    assert yields == []

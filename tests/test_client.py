"""DBOSClient: a process that runs no workflows enqueues, sends, reads and controls them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import query_system_sql

from dbos import DBOS, DBOSClient, EnqueueOptions, Queue, SetWorkflowID
from dbos.error import (
    DBOSAwaitedWorkflowCancelledError,
    DBOSException,
    DBOSInitializationError,
    DBOSNonExistentWorkflowError,
    DBOSQueueDeduplicatedError,
)

client_queue = Queue("test_client.queue", worker_concurrency=4)
go = threading.Event()


@DBOS.workflow()
def greet(name: str, punctuation: str = "!") -> str:
    return f"hello {name}{punctuation}"


@DBOS.step()
def wait_for_go() -> None:
    go.wait(10)


@DBOS.workflow()
def talks_back() -> str:
    DBOS.set_event("ready", True)
    message = DBOS.recv("in", timeout_seconds=10)
    DBOS.write_stream("out", f"got {message}")
    DBOS.close_stream("out")
    return f"answered {message}"


@DBOS.workflow()
def gated() -> str:
    wait_for_go()
    return "passed"


@pytest.fixture
def client(dbos: None, system_database_url: str) -> Iterator[DBOSClient]:
    go.clear()
    c = DBOSClient(system_database_url=system_database_url)
    yield c
    go.set()
    c.destroy()


def test_enqueue_by_name_runs_on_a_worker(client: DBOSClient) -> None:
    handle = client.enqueue(
        {"workflow_name": "greet", "queue_name": "test_client.queue"}, "ada", punctuation="?"
    )
    assert handle.get_result() == "hello ada?"
    assert client.get_workflow_status(handle.workflow_id).status == "SUCCESS"  # type: ignore[union-attr]


def test_enqueue_to_an_unknown_queue_is_refused_and_writes_nothing(
    client: DBOSClient, system_database_url: str
) -> None:
    with pytest.raises(DBOSException, match="No queue named 'nope'"):
        client.enqueue({"workflow_name": "greet", "queue_name": "nope"}, "x")
    with pytest.raises(DBOSException, match="workflow_name"):
        client.enqueue({"queue_name": "test_client.queue"}, "x")  # type: ignore[typeddict-item]
    rows = query_system_sql(system_database_url, "SELECT count(*) FROM {prefix}workflow_status")
    assert rows == [(0,)]


def test_an_enqueue_under_one_workflow_id_runs_once(
    client: DBOSClient, system_database_url: str
) -> None:
    options: EnqueueOptions = {
        "workflow_name": "greet",
        "queue_name": "test_client.queue",
        "workflow_id": "client-idempotent",
    }
    first = client.enqueue(options, "once")
    second = client.enqueue(options, "twice")  # the recorded run stands
    assert first.workflow_id == second.workflow_id == "client-idempotent"
    assert second.get_result() == "hello once!"
    rows = query_system_sql(system_database_url, "SELECT count(*) FROM {prefix}workflow_status")
    assert rows == [(1,)]


def test_send_get_event_and_read_stream_from_a_client(client: DBOSClient) -> None:
    handle = client.enqueue({"workflow_name": "talks_back", "queue_name": "test_client.queue"})
    assert client.get_event(handle.workflow_id, "ready", timeout_seconds=10) is True
    client.send(handle.workflow_id, "ping", topic="in")
    assert list(client.read_stream(handle.workflow_id, "out")) == ["got ping"]
    assert handle.get_result() == "answered ping"
    with pytest.raises(DBOSNonExistentWorkflowError):
        client.send("no-such-workflow", "x")


def test_deduplication_through_a_client(client: DBOSClient) -> None:
    options = {
        "workflow_name": "gated",
        "queue_name": "test_client.queue",
        "deduplication_id": "once",
    }
    first = client.enqueue(options)  # type: ignore[arg-type]
    with pytest.raises(DBOSQueueDeduplicatedError):
        client.enqueue(options)  # type: ignore[arg-type]
    go.set()
    assert first.get_result() == "passed"


def test_list_cancel_resume_and_fork_from_a_client(client: DBOSClient) -> None:
    with SetWorkflowID("to-fork"):
        assert greet("bob") == "hello bob!"
    handle = client.enqueue(
        {"workflow_name": "gated", "queue_name": "test_client.queue", "workflow_id": "gate-1"}
    )
    queued = client.list_queued_workflows(queue_name="test_client.queue")
    assert [w.workflow_id for w in queued] == ["gate-1"]
    client.cancel_workflow("gate-1")
    with pytest.raises(DBOSAwaitedWorkflowCancelledError):
        handle.get_result()
    go.set()
    assert client.resume_workflow("gate-1").get_result() == "passed"
    forked = client.fork_workflow("to-fork", 1)
    assert forked.get_result() == "hello bob!"
    assert [w.workflow_id for w in client.list_workflows(name="greet", sort_desc=True)][1] == (
        "to-fork"
    )
    assert [s["function_name"] for s in client.list_workflow_steps("gate-1")] == ["wait_for_go"]


def test_enqueue_many_in_one_transaction(client: DBOSClient) -> None:
    handles = client.enqueue_many(
        {"workflow_name": "greet", "queue_name": "test_client.queue"},
        [(f"n{i}",) for i in range(50)] + [(("kw",), {"punctuation": "."})],
    )
    results = [h.get_result() for h in handles]
    assert results == [f"hello n{i}!" for i in range(50)] + ["hello kw."]


def test_enqueue_many_beyond_one_statements_worth(
    client: DBOSClient, system_database_url: str
) -> None:
    """PostgreSQL inserts a batch in multi-row statements of 500: 1,201 rows take three, all
    in one transaction."""
    before = query_system_sql(system_database_url, "SELECT count(*) FROM {prefix}workflow_status")
    handles = client.enqueue_many(
        {"workflow_name": "greet", "queue_name": "test_client.queue"},
        [(f"m{i}",) for i in range(1201)],
    )
    assert len({h.workflow_id for h in handles}) == 1201
    after = query_system_sql(system_database_url, "SELECT count(*) FROM {prefix}workflow_status")
    assert int(after[0][0]) - int(before[0][0]) == 1201
    assert handles[1200].get_result() == "hello m1200!"


def test_a_client_on_a_database_without_the_schema_says_so(tmp_path: Path) -> None:
    with pytest.raises(DBOSInitializationError, match="no DBOS schema"):
        DBOSClient(system_database_url=f"sqlite:///{tmp_path}/empty.sqlite")

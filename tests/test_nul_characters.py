"""A NUL character in a name the user gives (workflow ID, topic, event or stream key, queue name,
deduplication ID, partition key) is refused with a ValueError naming the argument, the same on
both databases (PostgreSQL cannot store it; SQLite would), and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import query_system_sql

from dbos import DBOS, DBOSClient, Queue, SetEnqueueOptions, SetWorkflowID

nul_queue = Queue("test_nul_characters.queue")
nul_partitioned = Queue("test_nul_characters.partitioned", partition_queue=True)


@DBOS.workflow()
def nul_echo(x: str) -> str:
    return x


@DBOS.workflow()
def nul_sender(destination: str, topic: str) -> str:
    """Tries a bad topic, then reports whether the workflow went on after the refusal."""
    try:
        DBOS.send(destination, "hello", topic)
    except ValueError as exc:
        return f"refused: {exc}"
    return "sent"


@DBOS.workflow()
def nul_event_setter(key: str) -> str:
    try:
        DBOS.set_event(key, 1)
    except ValueError as exc:
        return f"refused: {exc}"
    return "set"


@DBOS.workflow()
def nul_stream_writer(key: str) -> str:
    try:
        DBOS.write_stream(key, 1)
    except ValueError as exc:
        return f"refused: {exc}"
    return "written"


@DBOS.workflow()
def nul_receiver(topic: str) -> str:
    try:
        DBOS.recv(topic, timeout_seconds=0)
    except ValueError as exc:
        return f"refused: {exc}"
    return "received"


def _row_count(url: str) -> int:
    return int(query_system_sql(url, "SELECT count(*) FROM workflow_status")[0][0])  # type: ignore[call-overload]


def test_a_workflow_id_with_nul_is_refused_before_anything_is_written(
    dbos: None, system_database_url: str
) -> None:
    with pytest.raises(ValueError, match=r"A workflow ID cannot contain a NUL character"):
        SetWorkflowID("bad\x00id")
    before = _row_count(system_database_url)
    with pytest.raises(ValueError, match=r"A workflow ID"):
        DBOS.retrieve_workflow("bad\x00id")
    with pytest.raises(ValueError, match=r"A workflow ID"):
        DBOS.cancel_workflow("bad\x00id")
    with pytest.raises(ValueError, match=r"A workflow ID"):
        DBOS.get_event("bad\x00id", "key", timeout_seconds=0)
    assert _row_count(system_database_url) == before


def test_topics_and_keys_with_nul_are_refused_inside_workflows(dbos: None) -> None:
    target = DBOS.start_workflow(nul_echo, "x").get_workflow_id()
    sent = nul_sender(target, "bad\x00topic")
    assert sent.startswith("refused: A topic cannot contain a NUL character")
    assert nul_event_setter("bad\x00key").startswith("refused: An event key")
    assert nul_stream_writer("bad\x00key").startswith("refused: A stream key")
    assert nul_receiver("bad\x00topic").startswith("refused: A topic")
    # Outside a workflow too.
    with pytest.raises(ValueError, match="A topic"):
        DBOS.send(target, "hello", "bad\x00topic")
    with pytest.raises(ValueError, match="An event key"):
        DBOS.get_event(target, "bad\x00key", timeout_seconds=0)


def test_queue_names_and_enqueue_options_with_nul_are_refused(
    dbos: None, system_database_url: str
) -> None:
    with pytest.raises(ValueError, match="A queue name cannot contain a NUL character"):
        Queue("bad\x00queue")
    with pytest.raises(ValueError, match="A queue name"):
        DBOS.register_queue("bad\x00queue")
    before = _row_count(system_database_url)
    with SetEnqueueOptions(deduplication_id="bad\x00dedup"):
        with pytest.raises(ValueError, match="A deduplication ID"):
            nul_queue.enqueue(nul_echo, "x")
    with SetEnqueueOptions(queue_partition_key="bad\x00tenant"):
        with pytest.raises(ValueError, match="A queue partition key"):
            nul_partitioned.enqueue(nul_echo, "x")
    assert _row_count(system_database_url) == before
    # Good names still work next to the refusals.
    assert nul_queue.enqueue(nul_echo, "ok").get_result() == "ok"


def test_the_client_refuses_the_same_names(dbos: None, system_database_url: str) -> None:
    client = DBOSClient(system_database_url=system_database_url)
    try:
        before = _row_count(system_database_url)
        with pytest.raises(ValueError, match="A workflow ID"):
            client.enqueue(
                {
                    "workflow_name": "nul_echo",
                    "queue_name": nul_queue.name,
                    "workflow_id": "a\x00b",
                },
                "x",
            )
        with pytest.raises(ValueError, match="A topic"):
            client.send("somebody", "hello", "bad\x00topic")
        with pytest.raises(ValueError, match="A workflow ID"):
            client.retrieve_workflow("a\x00b")
        assert _row_count(system_database_url) == before
    finally:
        client.destroy()


def test_a_batch_enqueue_with_a_nul_name_is_refused_whole(
    dbos: None, system_database_url: str
) -> None:
    client = DBOSClient(system_database_url=system_database_url)
    try:
        before = _row_count(system_database_url)
        options: Any = {
            "workflow_name": "nul_echo",
            "queue_name": nul_partitioned.name,
            "queue_partition_key": "bad\x00tenant",
        }
        with pytest.raises(ValueError, match="A queue partition key cannot contain a NUL"):
            client.enqueue_many(options, [("x",), ("y",)])
        assert _row_count(system_database_url) == before
        options["queue_partition_key"] = "tenant"
        handles = client.enqueue_many(options, [("x",), ("y",)])
        assert [h.get_result() for h in handles] == ["x", "y"]
    finally:
        client.destroy()

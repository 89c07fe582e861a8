"""The IDs the runtime gives workflows and messages: version-7 UUIDs, ordered by creation."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from conftest import query_system_sql

from dbos import DBOS, DBOSClient, EnqueueOptions, Queue
from dbos._core.time_ordered_ids import new_id, new_ids


def _millis(text: str) -> int:
    return uuid.UUID(text).int >> 80


def _check_v7(text: str, earliest_ms: int, latest_ms: int) -> None:
    parsed = uuid.UUID(text)
    assert str(parsed) == text  # canonical lower-case text, as str(uuid.uuid4()) gives
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert earliest_ms <= _millis(text) <= latest_ms


def test_an_id_is_a_version_7_uuid_stamped_with_its_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_id() for _ in range(200)]
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == 200  # 74 random bits each: the same millisecond does not repeat
    for text in ids:
        _check_v7(text, before, after)


def test_ids_made_later_sort_after_earlier_ones() -> None:
    first = new_id()
    time.sleep(0.003)
    assert new_id() > first


def test_a_batch_of_ids_is_unique_and_ascending() -> None:
    before = time.time_ns() // 1_000_000
    ids = new_ids(5_000)
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == 5_000
    assert ids == sorted(ids)
    for text in ids:
        _check_v7(text, before, after)
    assert new_ids(0) == []


q = Queue("ids_queue")


@DBOS.workflow()
def ids_echo(x: int) -> int:
    return x


@DBOS.workflow()
def ids_receiver() -> object:
    return DBOS.recv("t", timeout_seconds=10)


@pytest.fixture
def client(dbos: None, system_database_url: str) -> Iterator[DBOSClient]:
    c = DBOSClient(system_database_url=system_database_url)
    yield c
    c.destroy()


def test_workflows_started_enqueued_and_batched_get_time_ordered_ids(
    client: DBOSClient, system_database_url: str
) -> None:
    before = time.time_ns() // 1_000_000
    started = DBOS.start_workflow(ids_echo, 1)
    enqueued = q.enqueue(ids_echo, 2)
    options: EnqueueOptions = {"workflow_name": "ids_echo", "queue_name": "ids_queue"}
    batch = client.enqueue_many(options, [(i,) for i in range(50)])
    from_client = client.enqueue(options, 3)
    forked = DBOS.fork_workflow(started.workflow_id, 1)
    after = time.time_ns() // 1_000_000
    handles = [started, enqueued, *batch, from_client, forked]
    for handle in handles:
        _check_v7(handle.workflow_id, before, after)
    assert [h.workflow_id for h in batch] == sorted(h.workflow_id for h in batch)
    assert [h.get_result() for h in (started, enqueued, batch[7], from_client, forked)] == [
        1,
        2,
        7,
        3,
        1,
    ]
    rows = query_system_sql(
        system_database_url,
        "SELECT workflow_uuid FROM {prefix}workflow_status ORDER BY workflow_uuid",
    )
    assert {h.workflow_id for h in handles} <= {str(r[0]) for r in rows}


def test_a_message_sent_without_a_key_gets_a_time_ordered_id(
    dbos: None, system_database_url: str
) -> None:
    handle = DBOS.start_workflow(ids_receiver)
    before = time.time_ns() // 1_000_000
    DBOS.send(handle.workflow_id, "never read", "another topic")
    after = time.time_ns() // 1_000_000
    DBOS.send(handle.workflow_id, "hello", "t")
    assert handle.get_result() == "hello"
    rows = query_system_sql(
        system_database_url,
        "SELECT message_uuid FROM {prefix}notifications WHERE topic = 'another topic'",
    )
    assert len(rows) == 1
    _check_v7(str(rows[0][0]), before, after)

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


def test_a_client_has_its_connection_open_before_its_first_call(
    client: DBOSClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client's first call (a batch enqueue timed by its caller) pays no connect."""
    raw = client._runtime.sysdb.raw
    opened: list[object] = []
    open_connection = raw._open_connection

    def counted() -> object:
        opened.append(True)
        return open_connection()

    monkeypatch.setattr(raw, "_open_connection", counted)
    options: EnqueueOptions = {"workflow_name": "greet", "queue_name": "test_client.queue"}
    handles = client.enqueue_many(options, [("a",), ("b",)])
    assert opened == []
    assert [h.get_result() for h in handles] == ["hello a!", "hello b!"]


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
    with pytest.raises(
        DBOSQueueDeduplicatedError,
        match="due to an existing workflow in queue test_client.queue with deduplication ID once",
    ):
        client.enqueue(options)  # type: ignore[arg-type]
    with pytest.raises(DBOSException, match="Invalid priority -1"):
        client.enqueue(options | {"priority": -1})  # type: ignore[arg-type]
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


def _stored_row(system_database_url: str, workflow_id: str) -> dict[str, object]:
    """The workflow's row, less what differs between any two enqueues (ID, times, order)."""
    import sqlalchemy as sa

    engine = sa.create_engine(system_database_url)
    prefix = "dbos." if engine.dialect.name == "postgresql" else ""
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sa.text(f"SELECT * FROM {prefix}workflow_status WHERE workflow_uuid = :id"),
                {"id": workflow_id},
            ).one()
    finally:
        engine.dispose()
    skip = {"workflow_uuid", "created_at", "updated_at", "seq"}
    return {k: v for k, v in row._mapping.items() if k not in skip}


@pytest.mark.parametrize("partitioned", [False, True], ids=["plain", "partitioned"])
def test_enqueue_many_writes_the_rows_one_enqueue_writes(
    client: DBOSClient, system_database_url: str, partitioned: bool
) -> None:
    """Every option lands in each row of a batch as in a single enqueue's row (PostgreSQL
    streams the batch through COPY, a single enqueue is an INSERT). The version is one no
    worker here runs, so the rows stay as written."""
    queue = f"test_client.same_rows_{'part' if partitioned else 'plain'}"
    client.register_queue(queue, priority_enabled=True, partition_queue=partitioned)
    options: EnqueueOptions = {
        "workflow_name": "greet",
        "queue_name": queue,
        "app_version": "not-served-here",
        "workflow_timeout": 12.5,
        "priority": 3,
        "authenticated_user": "ada",
        "authenticated_roles": ["admin", "ops"],
        "attributes": {"tenant": "t1", "tier": 2},
    }
    if partitioned:
        options["queue_partition_key"] = "t1"
    single = client.enqueue(options, "same", punctuation=".")
    batch = client.enqueue_many(options, [(("same",), {"punctuation": "."})] * 3)
    expected = _stored_row(system_database_url, single.workflow_id)
    assert expected["status"] == "ENQUEUED" and expected["priority"] == 3
    for handle in batch:
        row = _stored_row(system_database_url, handle.workflow_id)
        if partitioned:  # each later row of the partition takes the next fair round
            assert int(row.pop("partition_round")) > int(expected["partition_round"])  # type: ignore[arg-type]
            row["partition_round"] = expected["partition_round"]
        assert row == expected


def test_enqueue_many_serializes_each_calls_own_arguments(client: DBOSClient) -> None:
    """Calls sharing an args object (serialized once) and calls differing only in their
    keyword arguments each run with their own."""
    shared = ("s",)
    handles = client.enqueue_many(
        {"workflow_name": "greet", "queue_name": "test_client.queue"},
        [shared, shared, (shared, {"punctuation": "?"}), (shared, {"punctuation": "."}), ("t",)],
    )
    assert [h.get_result() for h in handles] == [
        "hello s!",
        "hello s!",
        "hello s?",
        "hello s.",
        "hello t!",
    ]
    assert len({h.workflow_id for h in handles}) == 5


def test_enqueue_many_refuses_unserializable_arguments_before_writing(
    client: DBOSClient, system_database_url: str
) -> None:
    before = query_system_sql(system_database_url, "SELECT count(*) FROM {prefix}workflow_status")
    with pytest.raises(DBOSException, match="greet.*cannot be serialized"):
        client.enqueue_many(
            {"workflow_name": "greet", "queue_name": "test_client.queue"},
            [("fine",), (object(),)],
        )
    after = query_system_sql(system_database_url, "SELECT count(*) FROM {prefix}workflow_status")
    assert after == before


def test_a_batch_meeting_an_existing_id_writes_the_others(
    client: DBOSClient, system_database_url: str
) -> None:
    """A batch retried after a lost commit (or holding a workflow ID already in the table)
    skips the rows that are in and writes the rest (PostgreSQL: COPY refuses the batch, the
    INSERT that skips such rows writes it)."""
    from dbos._core.enqueue_batch import build_rows
    from dbos._core.options_enqueue import resolve

    runtime = client._runtime  # noqa: SLF001  (the store beneath the client)
    options: EnqueueOptions = {
        "workflow_name": "greet",
        "queue_name": "test_client.queue",
        "app_version": "not-served-here",
    }
    rows = build_rows(
        runtime, resolve(options, ambient=False), [(("x",), {})] * 3, partitioned=False
    )
    assert runtime.sysdb.queues.enqueue_many(rows[:1]) == 1
    assert runtime.sysdb.queues.enqueue_many(rows) == 2
    assert runtime.sysdb.queues.enqueue_many(rows) == 0
    ids = ", ".join(f"'{r['workflow_uuid']}'" for r in rows)
    stored = query_system_sql(
        system_database_url,
        f"SELECT count(*) FROM {{prefix}}workflow_status WHERE workflow_uuid IN ({ids})",
    )
    assert int(stored[0][0]) == 3  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("args", "shortcut"),
    [
        ((1,), True),
        (("x", -2, 3.25, True, None), True),
        (('quote " and \\ and é and \ud800',), True),
        ((), True),
        ((2**13_100,), True),  # past the plain-int bits, within the digit limit: still plain
        ((2**40_000,), False),  # past the digit limit: tagged by the serializer
        ((float("nan"),), False),
        (([1, 2],), False),  # not a scalar: the serializer's own walk
    ],
    ids=["int", "scalars", "escapes", "none", "big-int", "huge-int", "nan", "list"],
)
def test_a_batchs_plain_arguments_are_stored_as_one_enqueue_stores_them(
    args: tuple[object, ...], shortcut: bool
) -> None:
    """The batch's shortcut for scalar arguments writes exactly `serialize_inputs`' text, or
    leaves the call to it."""
    from dbos._core.enqueue_batch import plain_inputs
    from dbos._serialization import JSONSerializer, serialize_inputs

    fast = plain_inputs(args, {})
    assert (fast is not None) == shortcut
    if fast is not None:
        assert fast == serialize_inputs(JSONSerializer(), args, {})
    assert plain_inputs(args, {"k": 1}) is None


@pytest.mark.postgres_only
def test_a_batch_enqueue_wakes_other_processes_once_and_single_enqueues_still_do(
    client: DBOSClient, system_database_url: str
) -> None:
    """PostgreSQL: a batch's rows leave their wake-up to the batch, which sends its queue's
    NOTIFY (delivered at commit, as the trigger's); the trigger stands aside only inside the
    batch's transaction, so a later enqueue on the same pooled connection notifies again."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(system_database_url).set(drivername="postgresql")
    queue = "test_client.notified"
    client.register_queue(queue)
    options: EnqueueOptions = {
        "workflow_name": "greet",
        "queue_name": queue,
        "app_version": "not-served-here",
    }
    expected = f"q|{len(queue)}|{queue}"
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as listener:
        listener.execute("LISTEN dbos_wake")

        def heard() -> list[str]:
            return [
                n.payload
                for n in listener.notifies(timeout=1.0, stop_after=50)
                if n.payload.startswith("q|")
            ]

        client.enqueue_many(options, [(f"b{i}",) for i in range(20)])
        assert heard() == [expected]
        client.enqueue(options, "single")
        assert heard() == [expected]

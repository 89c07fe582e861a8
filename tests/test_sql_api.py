"""The SQL functions of the PostgreSQL system schema, called from a plain SQL client (no DBOS
in that connection): `dbos.enqueue_workflow(...)` and `dbos.send_message(...)` with upstream's
signatures, inside the caller's transaction (committed or rolled back with its own writes),
their values in the portable JSON format, which Python reads, and results SQL reads back."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from dbos import DBOS, SetWorkflowID

go = threading.Event()


@DBOS.workflow(name="sqlapi.describe")
def describe(n: int, word: str, person: dict[str, Any], *, suffix: str = "") -> dict[str, Any]:
    return {"n": n * 2, "word": word.upper() + suffix, "age": person["age"]}


@DBOS.workflow(name="sqlapi.listener")
def listener(count: int) -> list[Any]:
    go.wait(30)
    return [DBOS.recv("topic", timeout_seconds=10) for _ in range(count)]


@pytest.fixture
def sql(postgres_database_url: str) -> Iterator[sa.Engine]:
    go.clear()
    DBOS.destroy()
    DBOS(config={"name": "sql-api", "system_database_url": postgres_database_url})
    DBOS.launch()
    DBOS.register_queue("sqlapi.q", polling_interval_sec=0.1)
    DBOS.register_queue("sqlapi.parts", partition_concurrency=1, polling_interval_sec=0.1)
    engine = sa.create_engine(postgres_database_url)
    yield engine
    go.set()
    engine.dispose()
    DBOS.destroy()


def _one(engine: sa.Engine, statement: str, **params: Any) -> Any:
    with engine.begin() as conn:
        return conn.execute(sa.text(statement), params).fetchone()


def test_enqueue_from_sql_runs_in_python_and_sql_reads_the_result(sql: sa.Engine) -> None:
    row = _one(
        sql,
        """SELECT dbos.enqueue_workflow(
            workflow_name => 'sqlapi.describe', queue_name => 'sqlapi.q',
            positional_args => ARRAY[:n, :word, :person]::json[],
            named_args => CAST(:named AS json), workflow_id => 'from-sql', priority => 3)""",
        n="21",
        word='"hi"',
        person=json.dumps({"first": "Ada", "age": 36}),
        named=json.dumps({"suffix": "!"}),
    )
    assert row[0] == "from-sql"
    result = DBOS.retrieve_workflow("from-sql").get_result()
    assert result == {"n": 42, "word": "HI!", "age": 36}
    status = DBOS.get_workflow_status("from-sql")
    assert status is not None and (status.queue_name, status.priority) == ("sqlapi.q", 3)
    # The outcome is written in the row's (portable) format: plain JSON any client reads.
    output, fmt = _one(
        sql,
        "SELECT output, serialization FROM dbos.workflow_status WHERE workflow_uuid = 'from-sql'",
    )
    assert fmt == "portable_json" and json.loads(output) == result


def test_enqueue_from_sql_commits_and_rolls_back_with_the_transaction(sql: sa.Engine) -> None:
    enqueue = """SELECT dbos.enqueue_workflow(
        workflow_name => 'sqlapi.describe', queue_name => 'sqlapi.q',
        positional_args => ARRAY['1', '"x"', '{"age": 1}']::json[], workflow_id => :wid)"""
    with pytest.raises(RuntimeError), sql.begin() as conn:
        conn.execute(sa.text(enqueue), {"wid": "rolled-back"})
        raise RuntimeError("the application's own write failed")
    assert DBOS.get_workflow_status("rolled-back") is None
    with sql.begin() as conn:
        conn.execute(sa.text(enqueue), {"wid": "committed"})
        conn.execute(sa.text(enqueue), {"wid": "committed"})  # the same ID: one workflow
    assert DBOS.retrieve_workflow("committed").get_result() == {"n": 2, "word": "X", "age": 1}


def test_sql_enqueue_options_and_their_errors(sql: sa.Engine) -> None:
    base = """SELECT dbos.enqueue_workflow(workflow_name => 'sqlapi.describe',
        queue_name => :queue, positional_args => ARRAY['1', '"x"', '{{"age": 1}}']::json[]
        {extra})"""
    _one(
        sql,
        base.format(extra=", deduplication_id => 'd', delay_until_epoch_ms => 99999999999999"),
        queue="sqlapi.q",
    )
    with pytest.raises(sa.exc.IntegrityError, match="DBOS queue duplicated"):
        _one(sql, base.format(extra=", deduplication_id => 'd'"), queue="sqlapi.q")
    for extra, message in (
        (", delay_until_epoch_ms => -1", "delay_until_epoch_ms must be >= 0"),
        (", timeout_ms => 0", "timeout_ms must be > 0"),
        (", workflow_id => ''", "Workflow ID cannot be an empty string"),
        (", named_args => '[1]'::json", "Named args must be a JSON object"),
    ):
        with pytest.raises(sa.exc.DBAPIError, match=message):
            _one(sql, base.format(extra=extra), queue="sqlapi.q")
    with pytest.raises(sa.exc.DBAPIError, match="Queue name cannot be null or empty"):
        _one(sql, base.format(extra=""), queue="")
    # On a partitioned queue a row takes its partition's fair round, as from Python (one
    # transaction, so that no claim drains the partition meanwhile).
    with sql.begin() as conn:
        for key in ("big", "big", "big", "small"):
            extra = f", queue_partition_key => '{key}'"
            conn.execute(sa.text(base.format(extra=extra)), {"queue": "sqlapi.parts"})
        rounds = [
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "SELECT queue_partition_key, partition_round FROM dbos.workflow_status "
                    "WHERE queue_name = 'sqlapi.parts' ORDER BY seq"
                )
            )
        ]
    assert rounds == [("big", 1), ("big", 2), ("big", 3), ("small", 2)]


def test_send_message_from_sql(sql: sa.Engine) -> None:
    with SetWorkflowID("sql-listener"):
        handle = DBOS.start_workflow(listener, 3)
    send = "SELECT dbos.send_message(:dest, CAST(:message AS json), :topic, :mid)"
    _one(sql, send, dest="sql-listener", message='{"a": 1}', topic="topic", mid="m1")
    _one(sql, send, dest="sql-listener", message='{"a": 1}', topic="topic", mid="m1")  # once
    with pytest.raises(RuntimeError), sql.begin() as conn:
        conn.execute(
            sa.text(send),
            {"dest": "sql-listener", "message": '"no"', "topic": "topic", "mid": None},
        )
        raise RuntimeError("rolled back")
    _one(sql, send, dest="sql-listener", message='[1, "two"]', topic="topic", mid=None)
    _one(sql, send, dest="sql-listener", message='"three"', topic="topic", mid=None)
    go.set()
    assert handle.get_result() == [{"a": 1}, [1, "two"], "three"]
    with pytest.raises(sa.exc.IntegrityError, match="DBOS non-existent workflow"):
        _one(sql, send, dest="nobody", message="1", topic=None, mid=None)

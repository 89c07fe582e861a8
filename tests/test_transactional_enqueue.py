"""The outbox pattern: `DBOSClient.enqueue_in_transaction`, `send_in_transaction` and
`send_bulk_in_transaction` inside the application's own SQLAlchemy transaction on the system
database (Connection or ORM Session): committed or rolled back with the application's writes,
invisible before the commit, refused before anything is written when the input is bad."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from dbos import DBOS, DBOSClient, SendMessage, SetWorkflowID
from dbos.error import DBOSException, DBOSNonExistentWorkflowError, DBOSQueueDeduplicatedError

go = threading.Event()


@DBOS.workflow(name="outbox.ship")
def ship(order: str) -> str:
    return f"shipped {order}"


@DBOS.workflow(name="outbox.inbox")
def inbox(count: int) -> list[Any]:
    go.wait(30)
    return [DBOS.recv("mail", timeout_seconds=10) for _ in range(count)]


def Mail(  # noqa: N802 - reads as the message it makes
    destination_id: str,
    message: Any,
    topic: str | None = "mail",
    idempotency_key: str | None = None,
) -> SendMessage:
    return SendMessage(destination_id, message, topic, idempotency_key)


@pytest.fixture
def app(dbos: None, system_database_url: str) -> Iterator[tuple[DBOSClient, sa.Engine]]:
    go.clear()
    DBOS.register_queue("outbox.q", polling_interval_sec=0.1)
    engine = sa.create_engine(system_database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS orders"))
        conn.execute(sa.text("CREATE TABLE orders (id TEXT PRIMARY KEY)"))
    client = DBOSClient(system_database_url=system_database_url)
    yield client, engine
    go.set()
    client.destroy()
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS orders"))
    engine.dispose()


def _orders(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.text("SELECT id FROM orders ORDER BY id"))]


OPTIONS: dict[str, Any] = {"workflow_name": "outbox.ship", "queue_name": "outbox.q"}


def test_enqueued_with_the_applications_writes(app: tuple[DBOSClient, sa.Engine]) -> None:
    client, engine = app
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO orders (id) VALUES ('o1')"))
        handle = client.enqueue_in_transaction(conn, {**OPTIONS, "workflow_id": "ship-o1"}, "o1")
        # Not committed: no other connection sees it, no worker runs it.
        assert client.get_workflow_status("ship-o1") is None
    assert handle.get_result() == "shipped o1"
    assert _orders(engine) == ["o1"]


def test_rolled_back_with_the_applications_writes(app: tuple[DBOSClient, sa.Engine]) -> None:
    client, engine = app
    with pytest.raises(RuntimeError, match="payment failed"), engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO orders (id) VALUES ('o2')"))
        client.enqueue_in_transaction(conn, {**OPTIONS, "workflow_id": "ship-o2"}, "o2")
        raise RuntimeError("payment failed")
    assert client.get_workflow_status("ship-o2") is None
    assert _orders(engine) == []


def test_an_orm_session_works_too(app: tuple[DBOSClient, sa.Engine]) -> None:
    client, engine = app
    with Session(engine) as session:
        session.execute(sa.text("INSERT INTO orders (id) VALUES ('o3')"))
        handle = client.enqueue_in_transaction(session, OPTIONS, "o3")
        session.commit()
    assert handle.get_result() == "shipped o3"
    with Session(engine) as session:
        client.enqueue_in_transaction(session, {**OPTIONS, "workflow_id": "ship-o4"}, "o4")
        session.rollback()
    assert client.get_workflow_status("ship-o4") is None


def test_bad_input_is_refused_before_any_statement(app: tuple[DBOSClient, sa.Engine]) -> None:
    client, engine = app
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO orders (id) VALUES ('o5')"))
        with pytest.raises(DBOSException, match="No queue named"):
            client.enqueue_in_transaction(conn, {**OPTIONS, "queue_name": "nope"}, "o5")
        with pytest.raises(DBOSException, match="not supported by enqueue_in_transaction"):
            client.enqueue_in_transaction(
                conn,
                {**OPTIONS, "deduplication_id": "d", "duplication_policy": "return-existing"},
                "o5",
            )
        with pytest.raises(DBOSException, match="Unknown enqueue option"):
            client.enqueue_in_transaction(conn, {**OPTIONS, "bogus": 1}, "o5")
        with pytest.raises(ValueError, match="A workflow ID cannot contain a NUL"):
            client.enqueue_in_transaction(conn, {**OPTIONS, "workflow_id": "o\x005"}, "o5")
        with pytest.raises(ValueError, match="A topic cannot contain a NUL"):
            client.send_in_transaction(conn, "anyone", "hello", "bad\x00topic")
    # The transaction was not spoiled by the refusals: the order committed, alone.
    assert _orders(engine) == ["o5"]
    assert client.list_workflows(name="outbox.ship") == []


def test_a_taken_deduplication_id_raises(app: tuple[DBOSClient, sa.Engine]) -> None:
    client, engine = app
    held = client.enqueue({**OPTIONS, "deduplication_id": "d1", "delay_seconds": 3600}, "x")
    with pytest.raises(DBOSQueueDeduplicatedError), engine.begin() as conn:
        client.enqueue_in_transaction(conn, {**OPTIONS, "deduplication_id": "d1"}, "y")
    client.cancel_workflow(held.workflow_id)
    # The same workflow ID twice in one transaction: one workflow (an idempotency key).
    with engine.begin() as conn:
        first = client.enqueue_in_transaction(conn, {**OPTIONS, "workflow_id": "same"}, "a")
        second = client.enqueue_in_transaction(conn, {**OPTIONS, "workflow_id": "same"}, "b")
    assert first.get_result() == second.get_result() == "shipped a"


def test_messages_sent_with_the_applications_writes(app: tuple[DBOSClient, sa.Engine]) -> None:
    client, engine = app
    with SetWorkflowID("outbox-inbox"):
        receiver = DBOS.start_workflow(inbox, 3)
    with engine.begin() as conn:
        client.send_in_transaction(conn, "outbox-inbox", "one", "mail", idempotency_key="k1")
        client.send_in_transaction(conn, "outbox-inbox", "one again", "mail", idempotency_key="k1")
    with pytest.raises(RuntimeError), engine.begin() as conn:
        client.send_in_transaction(conn, "outbox-inbox", "never", "mail")
        raise RuntimeError("rolled back")
    with engine.begin() as conn:
        client.send_bulk_in_transaction(
            conn, [Mail("outbox-inbox", "two"), Mail("outbox-inbox", {"n": 3})]
        )
    go.set()
    assert receiver.get_result() == ["one", "two", {"n": 3}]
    with pytest.raises(DBOSNonExistentWorkflowError), engine.begin() as conn:
        client.send_in_transaction(conn, "no-such-workflow", "lost")
    with pytest.raises(DBOSException, match="duplicate idempotency keys: k"), engine.begin() as c:
        client.send_bulk_in_transaction(
            c, [Mail("outbox-inbox", 1, idempotency_key="k"), Mail("outbox-inbox", 2, None, "k")]
        )


def test_a_connection_elsewhere_writes_nothing_here(
    app: tuple[DBOSClient, sa.Engine], backend: str, tmp_path: Any
) -> None:
    """A connection that does not reach this system database: of another kind, refused with a
    message before any statement; another SQLite file fails on its missing tables."""
    client, _ = app
    other = sa.create_engine(f"sqlite:///{tmp_path}/other.sqlite")
    expected: Any = sqlite3.OperationalError if backend == "sqlite" else DBOSException
    with pytest.raises(expected), other.begin() as conn:
        client.enqueue_in_transaction(conn, OPTIONS, "x")
    assert client.list_workflows(name="outbox.ship") == []
    other.dispose()

"""Writes made on a connection the application owns, inside its transaction (the outbox
pattern): a workflow enqueued or a message sent exists exactly when the application's own
writes beside it commit, and not at all when they roll back.

The statements are the system database's own (`sql/`), run through the application's DBAPI
connection, which must reach this system database. Nothing here begins, commits or retries:
the transaction is the caller's. Nobody is woken here either: the commit itself wakes the
workers (PostgreSQL's notification triggers; SQLite's change poller sees the commit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._storable_text import WORKFLOW_ROW_NAMES, require_storable_fields
from .batch_enqueue import is_dedup_violation
from .connections import Connections
from .message_store import OutgoingMessage, _is_foreign_key_violation
from .records import Deduplicated, now_ms
from .store import Store
from .workflow_store import WorkflowStore


class ForeignConnection(Exception):
    """The caller's connection is not to a database of this system database's kind."""


class MissingDestination(Exception):
    """A message's destination workflow does not exist (nothing was written)."""


class CallerWrites(Store):
    def __init__(self, db: Connections, workflows: WorkflowStore) -> None:
        super().__init__(db)
        self.workflows = workflows  # its rule for the INSERT of a new row, and its reads

    def caller_cursor(self, conn: Any) -> Any:
        """A DBAPI cursor on the caller's SQLAlchemy `Connection` or ORM `Session` (its
        transaction, begun if it was not)."""
        connection = conn.connection() if callable(getattr(conn, "connection", None)) else conn
        dialect = getattr(getattr(connection, "dialect", None), "name", None)
        if dialect != self.backend:
            raise ForeignConnection(
                f"the connection is to a {dialect or 'non-SQLAlchemy'} database; this system "
                f"database is {self.backend}"
            )
        return connection.connection.cursor()

    def enqueue_in(self, cursor: Any, row: Mapping[str, Any]) -> bool:
        """Insert an ENQUEUED (or DELAYED) row in the caller's transaction; False when its ID
        exists already. A taken deduplication ID raises Deduplicated (on PostgreSQL the
        caller's transaction is then aborted, as for any failed statement in it)."""
        require_storable_fields(row, WORKFLOW_ROW_NAMES)
        try:
            cursor.execute(self.workflows.insert_sql(row), dict(row))
        except Exception as exc:
            if is_dedup_violation(exc):
                raise Deduplicated(row["deduplication_id"]) from exc
            raise
        return int(cursor.rowcount) == 1

    def send_in(self, cursor: Any, messages: Sequence[OutgoingMessage]) -> None:
        """Insert messages in the caller's transaction; a message whose ID is taken was sent
        already and is skipped. A missing destination raises MissingDestination, checked
        first: a SQLite connection the application opened may not enforce foreign keys."""
        destinations = sorted({m.destination_id for m in messages})
        for destination in destinations:
            cursor.execute(self.sql.WORKFLOW_EXISTS, {"workflow_uuid": destination})
            if cursor.fetchone() is None:
                raise MissingDestination(destination)
        now = now_ms()
        rows = [m.params(now) for m in messages]
        try:
            cursor.executemany(self.sql.SEND_MESSAGE, rows)
        except Exception as exc:
            if _is_foreign_key_violation(exc):
                raise MissingDestination(", ".join(destinations)) from exc
            raise

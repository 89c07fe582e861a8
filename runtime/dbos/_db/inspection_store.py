"""Reads for the admin tools: a workflow's messages, events and streams, queue depths,
executors, and the schema version (checked without the write lock that set-up takes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from .store import Store


class InspectionStore(Store):
    def schema_version(self) -> int | None:
        """The stamped schema version; None when the database has no DBOS schema. Raises
        SQLAlchemy's OperationalError when the database cannot be reached."""
        with self.db.engine.connect() as conn:
            if not sa.inspect(conn).has_table("dbos_migrations", schema=self.db.schema):
                return None
            migrations = self.db.table("dbos_migrations")
            version = conn.execute(sa.select(sa.func.max(migrations.c.version))).scalar()
            return None if version is None else int(version)

    def messages_to(self, workflow_id: str, limit: int) -> list[Sequence[Any]]:
        """(seq, message_uuid, topic, message, serialization, consumed, created_at)."""
        return self.db.fetchall(
            self.sql.INSPECT_MESSAGES, {"workflow_uuid": workflow_id, "limit": limit}
        )

    def events_of(self, workflow_id: str) -> list[Sequence[Any]]:
        """(key, value, serialization) of each event as it stands."""
        return self.db.fetchall(self.sql.INSPECT_EVENTS, {"workflow_uuid": workflow_id})

    def event_history_of(self, workflow_id: str) -> list[Sequence[Any]]:
        """(function_id, key, value, serialization) of every value an event took."""
        return self.db.fetchall(self.sql.INSPECT_EVENT_HISTORY, {"workflow_uuid": workflow_id})

    def streams_of(self, workflow_id: str, limit: int) -> list[Sequence[Any]]:
        """(key, seq, value, serialization, function_id); a NULL value closes its stream."""
        return self.db.fetchall(
            self.sql.INSPECT_STREAMS, {"workflow_uuid": workflow_id, "limit": limit}
        )

    def queue_depths(self) -> list[Sequence[Any]]:
        """(queue_name, status, count) of live workflows on queues."""
        return self.db.fetchall(self.sql.INSPECT_QUEUE_DEPTHS, {})

    def partition_counts(self) -> dict[str, int]:
        """How many partitions with live work each queue has (queues with none left out)."""
        rows = self.db.fetchall(self.sql.INSPECT_PARTITION_COUNTS, {})
        return {str(r[0]): int(r[1]) for r in rows}

    def largest_partitions(self, queue_name: str, limit: int) -> list[tuple[str, int, int, int]]:
        """(key, enqueued, running, delayed) of the queue's `limit` largest partitions."""
        rows = self.db.fetchall(
            self.sql.INSPECT_PARTITIONS, {"queue_name": queue_name, "limit": limit}
        )
        return [(str(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows]

    def executors(self) -> list[Sequence[Any]]:
        return self.db.fetchall(self.sql.INSPECT_EXECUTORS, {})

    def running_by_executor(self) -> dict[str, int]:
        return {str(r[0]): int(r[1]) for r in self.db.fetchall(self.sql.INSPECT_RUNNING, {})}

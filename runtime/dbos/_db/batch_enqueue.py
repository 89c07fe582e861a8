"""Batch enqueue (`DBOSClient.enqueue_many`): many ENQUEUED rows in one transaction.

PostgreSQL streams the batch in one binary COPY (`sql.COPY_WORKFLOWS`); a batch meeting a
workflow ID already in the table is written instead by one `INSERT ... SELECT FROM unnest(...)`
that skips such rows. The rows' own wake-up trigger stands aside in the COPY's transaction and
the batch sends its queue's one NOTIFY itself (a trigger run per row cost a fifth of the
batch). Rows of a partitioned queue take their partition's fair round, which
depends on the rows before them: one INSERT each (pipelined). SQLite runs `executemany`.
"""

from __future__ import annotations

import operator
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from .._storable_text import WORKFLOW_ROW_NAMES, require_storable_rows
from .connections import Connections
from .records import QUEUE, Deduplicated
from .store import Store
from .triggers import CHANNEL
from .workflow_store import WorkflowStore

# The columns `sql.INSERT_WORKFLOWS_UNNEST` takes as arrays.
_UNNEST_COLUMNS = (
    "workflow_uuid",
    "status",
    "name",
    "class_name",
    "config_name",
    "inputs",
    "serialization",
    "executor_id",
    "application_version",
    "now",
    "recovery_attempts",
    "owner_xid",
    "workflow_timeout_ms",
    "workflow_deadline_epoch_ms",
    "parent_workflow_id",
    "queue_name",
    "authenticated_user",
    "authenticated_roles",
    "assumed_role",
    "priority",
    "forked_from",
    "deduplication_id",
    "queue_partition_key",
    "started_at_epoch_ms",
    "delay_until_epoch_ms",
    "debounce_deadline_epoch_ms",
    "trace_context",
    "attributes",
)


# `sql.COPY_WORKFLOWS`'s columns as the rows name them: the UNNEST columns with `now` twice
# (created_at and updated_at) and, after priority, was_forked_from, which the rows do not carry
# (always false: written between the two parts). Their PostgreSQL types follow (binary COPY
# sends each value in its column's own binary format).
_NOW = _UNNEST_COLUMNS.index("now")
_PRIORITY = _UNNEST_COLUMNS.index("priority")
_COPY_COLUMNS = (*_UNNEST_COLUMNS[: _NOW + 1], "now", *_UNNEST_COLUMNS[_NOW + 1 : _PRIORITY + 1])
_COPY_COLUMNS_AFTER = _UNNEST_COLUMNS[_PRIORITY + 1 :]
_COPY_TYPES = [
    *["text"] * 9,  # workflow_uuid .. application_version
    "int8",  # created_at
    "int8",  # updated_at
    "int8",  # recovery_attempts
    "text",  # owner_xid
    "int8",  # workflow_timeout_ms
    "int8",  # workflow_deadline_epoch_ms
    *["text"] * 5,  # parent_workflow_id, queue_name, authenticated_*, assumed_role
    "int4",  # priority
    "bool",  # was_forked_from
    *["text"] * 3,  # forked_from, deduplication_id, queue_partition_key
    "int8",  # started_at_epoch_ms
    "int8",  # delay_until_epoch_ms
    "int8",  # debounce_deadline_epoch_ms
    "text",  # trace_context
    "text",  # attributes
]


def is_dedup_violation(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.IntegrityError):
        return "deduplication_id" in str(exc)
    if getattr(exc, "sqlstate", None) != "23505":
        return False
    diag = getattr(exc, "diag", None)
    return getattr(diag, "constraint_name", None) == "workflow_status_dedup_index"


def _is_id_violation(exc: BaseException) -> bool:
    """A workflow ID already in the table (PostgreSQL's primary key)."""
    if getattr(exc, "sqlstate", None) != "23505":
        return False
    diag = getattr(exc, "diag", None)
    return getattr(diag, "constraint_name", None) == "workflow_status_pkey"


def _wake(queue_name: str) -> str:
    """The payload the rows' trigger sends for their queue (see `triggers`)."""
    payload = f"{QUEUE}|{len(queue_name)}|{queue_name}"
    return payload if len(payload.encode()) <= _MAX_PAYLOAD_BYTES else "*"


_MAX_PAYLOAD_BYTES = 7900


class BatchEnqueueStore(Store):
    def __init__(self, db: Connections, workflows: WorkflowStore) -> None:
        super().__init__(db)
        self.workflows = workflows  # its rule for the INSERT of a new row, and its reads

    def enqueue_many(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert many ENQUEUED rows in one transaction (all, or on a duplicate deduplication
        ID none); how many were new. Retried whole after a lost connection: rows already in
        are skipped by their IDs."""
        require_storable_rows(rows, WORKFLOW_ROW_NAMES)
        inserted = self.db.retrying(lambda _attempt: self._enqueue_many_once(rows))
        for queue in {str(r["queue_name"]) for r in rows}:
            self.db.wake((QUEUE, queue, ""))
        return inserted

    def _enqueue_many_once(self, rows: Sequence[Mapping[str, Any]]) -> int:
        if self.backend == "postgresql" and not rows[0].get("partitioned"):
            copied = self._copy_many_once(rows)
            if copied is not None:
                return copied
        with self.db.transaction() as cur:
            try:
                if self.backend == "postgresql" and not rows[0].get("partitioned"):
                    # One statement for the batch, a parameter per column (see the SQL).
                    columns = _UNNEST_COLUMNS
                    cur.execute(
                        self.sql.INSERT_WORKFLOWS_UNNEST,
                        {c: [row[c] for row in rows] for c in columns},
                    )
                    return int(cur.rowcount)
                # A partitioned row's round depends on the rows before it: one at a time
                # (psycopg pipelines them; sqlite3 loops in C).
                cur.executemany(self.workflows.insert_sql(rows[0]), rows)
            except Exception as exc:
                if is_dedup_violation(exc):
                    raise Deduplicated("") from exc
                raise
            return int(cur.rowcount)

    def _copy_many_once(self, rows: Sequence[Mapping[str, Any]]) -> int | None:
        """The batch in one binary COPY (PostgreSQL); None when a row's workflow ID is in the
        table already (nothing written: the caller's INSERT skips such rows instead)."""
        with self.db.transaction() as cur:
            try:
                cur.execute(self.sql.SKIP_ROW_WAKEUPS)
                with cur.copy(self.sql.COPY_WORKFLOWS) as copy:
                    copy.set_types(_COPY_TYPES)
                    write = copy.write_row
                    head = operator.itemgetter(*_COPY_COLUMNS)
                    tail = operator.itemgetter(*_COPY_COLUMNS_AFTER)
                    for row in rows:
                        write((*head(row), False, *tail(row)))
                for queue in {str(r["queue_name"]) for r in rows if r["status"] == "ENQUEUED"}:
                    cur.execute(self.sql.NOTIFY_WAKE, {"channel": CHANNEL, "payload": _wake(queue)})
            except Exception as exc:
                if is_dedup_violation(exc):
                    raise Deduplicated("") from exc
                if _is_id_violation(exc):
                    return None  # rolled back by the transaction's exit
                raise
            return len(rows)

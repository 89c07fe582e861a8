"""Converting an upstream DBOS 2.x system database to our schema, in place, keeping every row.

The result is our schema as it stood at version 6 (`CONVERTED_VERSION`); the ordinary
migrations after that run from there, in the same transaction. Everything happens inside the
transaction that `SchemaSetup` holds (an advisory lock on PostgreSQL, BEGIN IMMEDIATE on
SQLite), and both databases undo DDL on rollback: a conversion killed at any point leaves the
upstream database as it was, and the next `dbos migrate` (or launch) starts it again.

What changes:
- `workflow_status`, `operation_outputs`, `workflow_events` stay, gaining the columns of ours
  they lack; upstream's own indexes on them give way to ours.
- `notifications` and `streams` are rebuilt: ours keep send order in `seq` and end a stream
  with a NULL value, upstream's order by time and end a stream with a sentinel value.
- Stored values keep their text and their format label; values written before upstream
  recorded formats are labelled `py_pickle` (upstream's default then), so they are read only
  with pickle configured.
- Upstream's queue, schedule and application-version tables are kept under `upstream_`
  names, for the migrations that give those their counterparts here (`carry_over` moves their
  rows in once the counterpart exists); its stored functions and NOTIFY triggers (which write
  and announce upstream's shapes) are dropped.
"""

from __future__ import annotations

import base64
import logging
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from .._serialization import DEFAULT_SERIALIZER
from .schema import NULL_TOPIC
from .sql import render
from .sql import upstream as sql
from .upstream import UpstreamDatabase

logger = logging.getLogger("dbos")

CONVERTED_VERSION = 6

# Upstream's tables that ours have counterparts of from a later migration (queues: 7,
# schedules: 8, application versions: 10), moved aside with their rows at the conversion and
# carried into ours once the migration that makes the counterpart has run (`carry_over`):
# upstream table -> (our table, its key).
KEPT_ASIDE = {
    "queues": ("queues", "name"),
    "workflow_schedules": ("workflow_schedules", "schedule_name"),
    "application_versions": ("application_versions", "version_id"),
}
ASIDE_PREFIX = "upstream_"


_STREAM_CLOSED = "__DBOS_STREAM_CLOSED__"
_VALUE_COLUMNS = {
    "workflow_status": ("inputs", "output", "error"),
    "operation_outputs": ("output", "error"),
    "workflow_events": ("value",),
    "workflow_events_history": ("value",),
}


@dataclass(frozen=True)
class Converted:
    """What a conversion did, for the log and `dbos migrate`."""

    source: str
    workflows: int
    messages: int
    stream_values: int


class _Converter:
    def __init__(self, conn: sa.Connection, found: UpstreamDatabase) -> None:
        self.conn = conn
        self.found = found
        self.backend = found.backend
        self.schema = found.schema
        self.pg = found.backend == "postgresql"

    def run(self, statement: str, **params: object) -> list[tuple[object, ...]]:
        text = render(statement, self.backend, self.schema)
        result = self.conn.exec_driver_sql(text, params or {})
        return [tuple(r) for r in result.all()] if result.returns_rows else []

    def ddl(self, statement: str) -> None:
        self.conn.exec_driver_sql(render(statement, self.backend, self.schema))

    def count(self, table: str) -> int:
        return int(str(self.run(f"SELECT COUNT(*) FROM {{s}}{table}")[0][0]))

    # ------------------------------------------------------------------ the steps

    def convert(self) -> Converted:
        found = self.found
        workflows = self.count("workflow_status")
        if self.pg:
            self._drop_upstream_functions()
        for table in ("workflow_status", "operation_outputs", "workflow_events"):
            self._drop_foreign_indexes(table)
        self._workflow_status()
        self._add_columns("operation_outputs", sql.OPERATION_OUTPUTS_COLUMNS)
        self._add_columns("workflow_events", sql.EVENTS_COLUMNS)
        if found.has("workflow_events_history"):
            self._drop_foreign_indexes("workflow_events_history")
            self._add_columns("workflow_events_history", sql.EVENTS_COLUMNS)
        else:
            self.ddl(sql.CREATE_EVENTS_HISTORY)
        for table, columns in _VALUE_COLUMNS.items():
            self._label_pickled(table, columns)
        messages = self._notifications()
        stream_values = self._streams()
        for table in KEPT_ASIDE:
            if found.has(table):
                self._move_aside(table)
        for create in (sql.CREATE_EXECUTORS, sql.CREATE_QUEUES, sql.CREATE_SCHEDULES):
            self.ddl(create)
        for create in sql.CREATE_INDEXES:
            self.ddl(create)
        self.run(sql.CLEAR_STAMP)
        self.run(sql.STAMP, version=CONVERTED_VERSION)
        return Converted(found.describe(), workflows, messages, stream_values)

    def _workflow_status(self) -> None:
        present = self.found.columns["workflow_status"]
        self._add_columns("workflow_status", sql.WORKFLOW_STATUS_COLUMNS)
        for column in sql.DROPPED_WORKFLOW_STATUS_COLUMNS:
            if column in present:
                self.ddl(f"ALTER TABLE {{s}}workflow_status DROP COLUMN {column}")
        self.run(sql.WORKFLOW_STATUS_DEFAULTS)
        if self.pg:
            if "attributes" in present:
                self.ddl(sql.PG_ATTRIBUTES_AS_TEXT)  # upstream's is JSONB, ours text
            start = self.count("workflow_status") + 1
            for statement in sql.PG_ADD_SEQ:
                self.ddl(statement.replace("{start}", str(start)))

    def _add_columns(self, table: str, columns: tuple[tuple[str, str], ...]) -> None:
        present = self.found.columns.get(table, set())
        for column, type_ in columns:
            if column not in present:
                self.ddl(f"ALTER TABLE {{s}}{table} ADD COLUMN {column} {type_}")

    def _label_pickled(self, table: str, columns: tuple[str, ...]) -> None:
        checks = " OR ".join(sql.PICKLED_TEXT.replace("{column}", c) for c in columns)
        self.run(sql.LABEL_PICKLED.replace("{table}", table).replace("{checks}", checks))

    @staticmethod
    def _format(value_column: str, labelled: bool) -> str:
        """A row's format label as converted: its own (where upstream recorded one), or pickle
        for unlabelled pickle text (see `sql.LABEL_PICKLED`)."""
        guess = f"CASE WHEN {value_column} LIKE 'gA%' THEN 'py_pickle' END"
        return f"COALESCE(serialization, {guess})" if labelled else guess

    def _notifications(self) -> int:
        old = self._move_aside("notifications")
        self.ddl(
            sql.CREATE_NOTIFICATIONS.replace("{serial}", "BIGSERIAL" if self.pg else "INTEGER")
        )
        self.ddl(sql.CREATE_NOTIFICATIONS_INDEX)
        have = self.found.columns["notifications"]
        copy = (
            sql.COPY_NOTIFICATIONS.replace("{old}", old)
            .replace("{format}", self._format("message", "serialization" in have))
            .replace("{consumed}", "consumed" if "consumed" in have else "false")
            .replace("{physical}", "ctid" if self.pg else "rowid")
        )
        self.run(copy, null_topic=NULL_TOPIC)
        self.ddl(f"DROP TABLE {{s}}{old}")
        return self.count("notifications")

    def _streams(self) -> int:
        if not self.found.has("streams"):
            self.ddl(sql.CREATE_STREAMS)
            return 0
        old = self._move_aside("streams")
        self.ddl(sql.CREATE_STREAMS)
        have = self.found.columns["streams"]
        closed, params = self._closed_sentinel("serialization" in have)
        copy = (
            sql.COPY_STREAMS.replace("{old}", old)
            .replace("{closed}", closed)
            .replace("{format}", self._format("value", "serialization" in have))
            .replace("{function_id}", "function_id" if "function_id" in have else "0")
        )
        self.run(copy, **params)
        self.ddl(f"DROP TABLE {{s}}{old}")
        return self.count("streams")

    @staticmethod
    def _closed_sentinel(labelled: bool) -> tuple[str, dict[str, object]]:
        """SQL true for upstream's end-of-stream row: the sentinel in portable JSON, or pickled
        (matched against its pickles, never unpickling anything)."""
        marks, params = _pickles_of(_STREAM_CLOSED, "closed")
        params["closed_json"] = f'"{_STREAM_CLOSED}"'
        json_match = (
            "(value = :closed_json AND serialization = 'portable_json')" if labelled else "FALSE"
        )
        return f"({json_match} OR value IN ({marks}))", params

    def _move_aside(self, table: str) -> str:
        """Rename an upstream table (and its indexes, whose names are schema-wide) out of the
        way of ours; returns its new name."""
        new = f"{ASIDE_PREFIX}{table}"
        if self.pg:
            indexes = [
                r[0] for r in self.run(sql.PG_TABLE_INDEXES, schema=self.schema, table=table)
            ]
            self.ddl(f"ALTER TABLE {{s}}{table} RENAME TO {new}")
            for index in indexes:
                self.ddl(f'ALTER INDEX {{s}}"{index}" RENAME TO "{ASIDE_PREFIX}{index}"')
        else:
            for (index,) in self.run(sql.SQLITE_INDEXES, table=table):
                self.ddl(f'DROP INDEX "{index}"')  # SQLite renames none: drop, they are upstream's
            self.ddl(f"ALTER TABLE {table} RENAME TO {new}")
        return new

    def _drop_foreign_indexes(self, table: str) -> None:
        """Upstream's indexes (and unique constraints) on a table kept in place."""
        if self.pg:
            for index, constraint, _ in self.run(sql.PG_INDEXES, schema=self.schema, table=table):
                if index in sql.OUR_INDEXES:
                    continue
                if constraint is not None:
                    self.ddl(f'ALTER TABLE {{s}}{table} DROP CONSTRAINT "{constraint}"')
                else:
                    self.ddl(f'DROP INDEX {{s}}"{index}"')
            return
        for (index,) in self.run(sql.SQLITE_INDEXES, table=table):
            if index not in sql.OUR_INDEXES:
                self.ddl(f'DROP INDEX "{index}"')

    def _drop_upstream_functions(self) -> None:
        for trigger, table in self.run(sql.PG_UPSTREAM_TRIGGERS, schema=self.schema):
            self.ddl(f'DROP TRIGGER "{trigger}" ON {{s}}{table}')
        for (signature,) in self.run(sql.PG_UPSTREAM_FUNCTIONS, schema=self.schema):
            self.ddl(f"DROP FUNCTION {signature}")


def _pickles_of(value: object, name: str) -> tuple[str, dict[str, object]]:
    """`value` as upstream's default serializer stores it (base64 pickle), in every protocol:
    SQL parameter marks and their values, to recognise it without unpickling anything."""
    params: dict[str, object] = {}
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        params[f"{name}_p{protocol}"] = base64.b64encode(pickle.dumps(value, protocol)).decode()
    return ", ".join(f":{n}" for n in params), params


def _prepare_schedules(conn: sa.Connection, backend: str, schema: str | None, aside: str) -> None:
    """Give upstream's schedules what ours record and upstream's table lacks: the format of
    each context, and a creation time (see `sql.LABEL_SCHEDULE_CONTEXTS`)."""
    have = {c["name"] for c in sa.inspect(conn).get_columns(aside, schema=schema)}
    for column, type_ in sql.SCHEDULE_ASIDE_COLUMNS:
        if column not in have:
            conn.exec_driver_sql(
                render(f"ALTER TABLE {{s}}{aside} ADD COLUMN {column} {type_}", backend, schema)
            )
    marks, params = _pickles_of(None, "none")
    statement = sql.LABEL_SCHEDULE_CONTEXTS.replace("{aside}", aside).replace(
        "{none_pickles}", marks
    )
    params.update(
        json_none=DEFAULT_SERIALIZER.serialize(None),
        json_format=DEFAULT_SERIALIZER.name(),
        now=int(time.time() * 1000),
    )
    conn.exec_driver_sql(render(statement, backend, schema), params)


# What a kept-aside table needs before its rows are carried (the carry copies the columns
# both tables have, so a value ours keeps and upstream's lacks is added to the aside first).
_PREPARE: dict[str, Callable[[sa.Connection, str, str | None, str], None]] = {
    "workflow_schedules": _prepare_schedules,
}


def carry_over(conn: sa.Connection, backend: str, schema: str | None) -> list[str]:
    """Move the rows of kept-aside upstream tables into ours, for each whose counterpart a
    migration has made by now, and drop the emptied aside table. Runs after the migrations,
    in their transaction (and on later launches, for a counterpart that a newer version of
    this code adds). Returns what it carried, for the log."""
    inspector = sa.inspect(conn)
    tables = set(inspector.get_table_names(schema=schema))
    carried = []
    for upstream_name, (target, key) in KEPT_ASIDE.items():
        aside = f"{ASIDE_PREFIX}{upstream_name}"
        if aside not in tables or target not in tables:
            continue
        prepare = _PREPARE.get(upstream_name)
        if prepare is not None:
            prepare(conn, backend, schema, aside)
        ours = [c["name"] for c in inspector.get_columns(target, schema=schema)]
        theirs = {c["name"] for c in sa.inspect(conn).get_columns(aside, schema=schema)}
        shared = [c for c in ours if c in theirs]
        columns = ", ".join(f'"{c}"' for c in shared)
        statement = (
            sql.CARRY_OVER.replace("{target}", target)
            .replace("{aside}", aside)
            .replace("{columns}", columns)
            .replace("{key}", key)
        )
        result = conn.exec_driver_sql(render(statement, backend, schema))
        conn.exec_driver_sql(render(f"DROP TABLE {{s}}{aside}", backend, schema))
        carried.append(f"{result.rowcount} {upstream_name}")
    return carried


def convert(conn: sa.Connection, found: UpstreamDatabase) -> Converted:
    """Convert, on `conn`'s open transaction; the caller commits (or rolls back)."""
    return _Converter(conn, found).convert()

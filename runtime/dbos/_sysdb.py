"""The system database: connections, creation, migrations, and every read and write.

Hot-path statements go straight to the DBAPI connection (rendered once per dialect in `_sql`),
because SQLAlchemy's statement layer costs more per call than the INSERT itself. SQLAlchemy still
owns the schema definition, the connection pool and the dynamic listing queries.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine

from . import _sql
from ._config import mask_url
from ._error import (
    DBOSDatabaseConnectionError,
    DBOSException,
    DBOSInitializationError,
    DBOSSchemaVersionError,
)
from ._group_commit import GroupCommitter
from ._schema import SCHEMA_VERSION, build_metadata


def is_connection_error(exc: BaseException) -> bool:
    """The database could not be reached or dropped the connection: worth retrying a read."""
    if isinstance(exc, (sa.exc.OperationalError, sqlite3.OperationalError)):
        return True
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(exc, psycopg.OperationalError)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class StepRecord:
    function_id: int
    function_name: str
    output: str | None
    error: str | None
    child_workflow_id: str | None
    serialization: str | None
    started_at_epoch_ms: int | None
    completed_at_epoch_ms: int | None


class _Statements:
    """The `_sql` module's statements rendered for one dialect, looked up by attribute."""

    def __init__(self, backend: str, schema: str | None) -> None:
        for name in dir(_sql):
            value = getattr(_sql, name)
            if name.isupper() and isinstance(value, str):
                setattr(self, name, _sql.render(value, backend, schema))

    def __getattr__(self, name: str) -> str:
        # Declares the attributes set in __init__ as str for the type checker; at run time it
        # is reached only for a name `_sql` does not define.
        raise AttributeError(name)


class SystemDatabase:
    """One process's handle on the system database, shared by every workflow thread."""

    def __init__(
        self,
        url: URL,
        *,
        schema: str = "dbos",
        pool_size: int = 20,
        sqlite_synchronous: str = "FULL",
    ) -> None:
        self.url = url
        self.backend = url.get_backend_name()
        self.schema: str | None = schema if self.backend == "postgresql" else None
        self.metadata = build_metadata(self.schema)
        self.sql = _Statements(self.backend, self.schema)
        self._sqlite_synchronous = sqlite_synchronous.upper()
        # SQLite admits one writer; taking turns in-process avoids its sleeping busy handler.
        self._write_lock: threading.Lock | contextlib.nullcontext[None] = (
            threading.Lock() if self.backend == "sqlite" else contextlib.nullcontext()
        )
        self.engine = self._create_engine(pool_size)
        self._idle: list[tuple[Any, float]] = []
        self._idle_cond = threading.Condition(threading.Lock())
        self._closed = False
        self._open = 0
        self._max_open = pool_size * 5  # at most this many, however many threads run
        self.idle_check_after_sec = 10.0
        self._committer = GroupCommitter(self.execute, self._execute_batch)
        # On PostgreSQL, starting a workflow commits on a lane (and connection) of its own: a
        # caller starting many workflows then waits for its own small commit, not behind a
        # large batch of other workflows' step checkpoints. (The server merges the flushes of
        # concurrent commits.) SQLite has one writer, so a second lane would only queue.
        self._start_committer = (
            GroupCommitter(self.execute, self._execute_batch)
            if self.backend == "postgresql"
            else self._committer
        )

    # ----------------------------------------------------------------- connection management

    def _create_engine(self, pool_size: int) -> Engine:
        if self.backend == "sqlite":
            engine = sa.create_engine(
                self.url,
                connect_args={"check_same_thread": False, "timeout": 30.0},
                poolclass=sa.pool.QueuePool,
                pool_size=pool_size,
                max_overflow=pool_size * 4,
                pool_reset_on_return=None,
            )
            sync = self._sqlite_synchronous

            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.isolation_level = None  # autocommit: one statement, one transaction
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA busy_timeout=30000")  # first: the next pragma may wait
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute(f"PRAGMA synchronous={sync}")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()

        else:
            engine = sa.create_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=pool_size * 4,
                pool_timeout=60,
                pool_reset_on_return=None,
                connect_args={"connect_timeout": 10, "application_name": "dbos"},
            )

            @event.listens_for(engine, "connect")
            def _pg_autocommit(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.autocommit = True

        return engine

    @contextlib.contextmanager
    def connection(self) -> Iterator[Any]:
        """A raw DBAPI connection in autocommit mode, reused afterwards unless an error hit it.

        SQLAlchemy's pool opens and configures the connections; this free list reuses them
        without its per-checkout bookkeeping, which cost about as much as a SQLite INSERT.
        """
        conn = self._acquire()
        try:
            yield conn.dbapi_connection
        except BaseException:
            self._release(conn, reuse=False)  # its state is unknown after a failure
            raise
        self._release(conn, reuse=True)

    def _acquire(self) -> Any:
        while True:
            with self._idle_cond:
                while True:
                    if self._closed:
                        # After DBOS.destroy() a still-running workflow thread must not write:
                        # to the database it is as if its process had died; recovery takes over.
                        raise DBOSException("The system database was closed by DBOS.destroy()")
                    if self._idle:
                        conn, last_used = self._idle.pop()
                        break
                    if self._open < self._max_open:
                        self._open += 1
                        conn = None
                        break
                    self._idle_cond.wait()
            if conn is None:
                return self._open_connection()
            if time.monotonic() - last_used < self.idle_check_after_sec or self._alive(conn):
                return conn
            self._release(conn, reuse=False)  # the server dropped it while idle: try another

    def _open_connection(self) -> Any:
        try:
            conn = self.engine.raw_connection()
            conn.detach()  # ours to keep or close from now on
            return conn
        except BaseException:
            with self._idle_cond:
                self._open -= 1
                self._idle_cond.notify()
            raise

    @staticmethod
    def _alive(conn: Any) -> bool:
        """A connection idle for a while is checked before use (a server restart or an idle
        timeout closes it); busy connections are not, so the hot path pays nothing."""
        try:
            cur = conn.dbapi_connection.cursor()
            cur.execute("SELECT 1")
            cur.fetchall()
            cur.close()
            return True
        except Exception:
            return False

    def _release(self, conn: Any, reuse: bool) -> None:
        with self._idle_cond:
            if reuse and not self._closed:
                self._idle.append((conn, time.monotonic()))
                self._idle_cond.notify()
                return
            self._open -= 1
            self._idle_cond.notify()
        with contextlib.suppress(Exception):
            conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """A cursor inside an explicit transaction (BEGIN IMMEDIATE on SQLite: write intent)."""
        with self._write_lock, self.connection() as conn:
            cur = conn.cursor()
            cur.execute("BEGIN IMMEDIATE" if self.backend == "sqlite" else "BEGIN")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
            finally:
                cur.close()

    def execute(self, sql: str, params: Mapping[str, Any]) -> int:
        """Run one write statement as its own transaction; return the affected row count."""
        # The hot path of every checkpoint: written out rather than through `connection()`.
        with self._write_lock:
            conn = self._acquire()
            try:
                cur = conn.dbapi_connection.cursor()
                cur.execute(sql, params)
                count = int(cur.rowcount)
                cur.close()
            except BaseException:
                self._release(conn, reuse=False)
                raise
            self._release(conn, reuse=True)
            return count

    def _execute_batch(self, statements: list[tuple[str, Mapping[str, Any]]]) -> list[int]:
        """Several writes in one transaction; on PostgreSQL pipelined, so one round trip."""
        if self.backend == "postgresql":
            with self.connection() as conn, conn.transaction(), conn.pipeline():
                cursors = []
                for sql, params in statements:
                    cur = conn.cursor()
                    cur.execute(sql, params)
                    cursors.append(cur)
            return [int(c.rowcount) for c in cursors]
        with self.transaction() as cur:
            counts = []
            for sql, params in statements:
                cur.execute(sql, params)
                counts.append(int(cur.rowcount))
            return counts

    def fetchall(self, sql: str, params: Mapping[str, Any]) -> list[Sequence[Any]]:
        with self.connection() as conn:
            cur = conn.cursor()
            try:
                cur.execute(sql, params)
                return list(cur.fetchall())
            finally:
                cur.close()

    def fetchone(self, sql: str, params: Mapping[str, Any]) -> Sequence[Any] | None:
        rows = self.fetchall(sql, params)
        return rows[0] if rows else None

    def dispose(self) -> None:
        with self._idle_cond:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            with contextlib.suppress(Exception):
                conn.close()
        self.engine.dispose()

    # ------------------------------------------------------------------------- set-up

    def initialize(self, run_migrations: bool = True) -> None:
        """Create the database when missing, bring the schema to this code's version, or refuse."""
        try:
            self._initialize_schema(run_migrations)
        except sa.exc.OperationalError as exc:
            # Only a missing PostgreSQL database costs a second connection (to `postgres`).
            if self.backend != "postgresql" or "does not exist" not in str(exc.orig):
                raise DBOSDatabaseConnectionError(
                    f"Cannot open system database {mask_url(self.url)}: {exc.orig}"
                ) from exc
        else:
            return
        self._create_postgres_database_if_missing()
        try:
            self._initialize_schema(run_migrations)
        except sa.exc.OperationalError as exc:
            raise DBOSDatabaseConnectionError(
                f"Cannot open system database {mask_url(self.url)}: {exc.orig}"
            ) from exc

    def _initialize_schema(self, run_migrations: bool) -> None:
        # Connections run in autocommit mode, so the transaction that makes concurrent first
        # launches (N replicas starting at once) take turns is begun explicitly.
        with self.engine.connect() as conn:
            if self.backend == "postgresql":
                conn.exec_driver_sql("BEGIN")
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(8128004917)")
                conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                self._migrate(conn, run_migrations)
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")

    def _migrate(self, conn: sa.Connection, run_migrations: bool) -> None:
        inspector = sa.inspect(conn)
        migrations = self.table("dbos_migrations")
        if not inspector.has_table("dbos_migrations", schema=self.schema):
            if not run_migrations:
                raise DBOSInitializationError(
                    f"System database {mask_url(self.url)} has no DBOS schema and "
                    "run_migrations is False"
                )
            self._create_tables(conn)
            conn.execute(migrations.insert().values(version=SCHEMA_VERSION))
            return
        version = conn.execute(sa.select(sa.func.max(migrations.c.version))).scalar()
        if version is None:
            raise DBOSInitializationError(
                f"System database {mask_url(self.url)} has an empty dbos_migrations table: "
                "the schema is corrupt or was created by another tool"
            )
        if int(version) > SCHEMA_VERSION:
            raise DBOSSchemaVersionError(
                f"System database {mask_url(self.url)} has schema version {version}, newer than "
                f"the version {SCHEMA_VERSION} this dbos understands. Upgrade dbos, or point "
                "system_database_url at another database."
            )
        # Future migrations apply here, in order, for versions in (version, SCHEMA_VERSION].

    def _create_tables(self, conn: sa.Connection) -> None:
        if self.backend != "postgresql":
            self.metadata.create_all(conn, checkfirst=False)
            return
        # One round trip for all the DDL instead of one per table and index.
        ddl: list[str] = []
        for table in self.metadata.sorted_tables:
            ddl.append(str(sa.schema.CreateTable(table).compile(dialect=conn.dialect)))
            for index in table.indexes:
                ddl.append(str(sa.schema.CreateIndex(index).compile(dialect=conn.dialect)))
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(";\n".join(ddl))  # no parameters: psycopg sends it as one query
        finally:
            cursor.close()

    @contextlib.contextmanager
    def _server_connection(self) -> Iterator[sa.Connection]:
        """An autocommit connection to the server's `postgres` database, for CREATE/DROP."""
        engine = sa.create_engine(
            self.url.set(database="postgres"),
            isolation_level="AUTOCOMMIT",
            poolclass=sa.pool.NullPool,
            connect_args={"connect_timeout": 10},
        )
        try:
            with engine.connect() as conn:
                yield conn
        except sa.exc.OperationalError as exc:
            raise DBOSDatabaseConnectionError(
                f"Cannot connect to the PostgreSQL server of system database "
                f"{mask_url(self.url)}: {exc.orig}"
            ) from exc
        finally:
            engine.dispose()

    def _create_postgres_database_if_missing(self) -> None:
        exists_query = sa.text("SELECT 1 FROM pg_database WHERE datname = :name")
        name = {"name": self.url.database}
        with self._server_connection() as conn:
            if conn.execute(exists_query, name).scalar():
                return
            try:
                conn.execute(sa.text(f'CREATE DATABASE "{self.url.database}"'))
            except (sa.exc.ProgrammingError, sa.exc.IntegrityError):
                # Another process may have created it at the same moment: fine if so.
                if not conn.execute(exists_query, name).scalar():
                    raise

    def drop_database(self) -> None:
        """Remove every trace of the system database (the test-fixture reset)."""
        self.engine.dispose()
        if self.backend == "sqlite":
            path = self.url.database
            assert path is not None
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path + suffix)
            return
        with self._server_connection() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.url.database}" WITH (FORCE)'))

    # ----------------------------------------------------------------- workflow records

    def insert_workflow(self, row: Mapping[str, Any]) -> bool:
        """Insert a new workflow row; False when the ID exists already (nothing is changed)."""
        return self._start_committer.execute(self.sql.INSERT_WORKFLOW, row) == 1

    def get_workflow(self, workflow_id: str) -> Sequence[Any] | None:
        return self.fetchone(self.sql.SELECT_WORKFLOW, {"workflow_uuid": workflow_id})

    def record_step(
        self,
        workflow_id: str,
        owner: str,
        function_id: int,
        function_name: str,
        output: str | None,
        error: str | None,
        child_workflow_id: str | None,
        serialization: str | None,
        started_at: int,
    ) -> bool:
        """Checkpoint one step; False when this execution no longer owns a PENDING workflow."""
        params = {
            "workflow_uuid": workflow_id,
            "function_id": function_id,
            "function_name": function_name,
            "output": output,
            "error": error,
            "child_workflow_id": child_workflow_id,
            "serialization": serialization,
            "started_at": started_at,
            "completed_at": now_ms(),
            "owner_xid": owner,
        }
        return self._committer.execute(self.sql.RECORD_STEP, params) == 1

    def complete_workflow(
        self, workflow_id: str, owner: str, status: str, output: str | None, error: str | None
    ) -> bool:
        params = {
            "workflow_uuid": workflow_id,
            "owner_xid": owner,
            "status": status,
            "output": output,
            "error": error,
            "now": now_ms(),
        }
        return self._committer.execute(self.sql.COMPLETE_WORKFLOW, params) == 1

    def load_steps(self, workflow_id: str) -> dict[int, StepRecord]:
        rows = self.fetchall(self.sql.SELECT_STEPS, {"workflow_uuid": workflow_id})
        return {int(r[0]): StepRecord(int(r[0]), *r[1:]) for r in rows}

    def claim_workflow(
        self, workflow_id: str, old_owner: str | None, new_owner: str, executor_id: str
    ) -> bool:
        params = {
            "workflow_uuid": workflow_id,
            "old_owner": old_owner,
            "new_owner": new_owner,
            "executor_id": executor_id,
            "now": now_ms(),
        }
        return self._committer.execute(self.sql.CLAIM_WORKFLOW, params) == 1

    def mark_max_recovery_exceeded(self, workflow_id: str) -> None:
        self.execute(self.sql.MARK_MAX_RECOVERY, {"workflow_uuid": workflow_id, "now": now_ms()})

    def pending_for_executor(self, executor_id: str) -> list[Sequence[Any]]:
        """This executor's PENDING workflows, in the column order of `get_workflow`."""
        return self.fetchall(self.sql.SELECT_PENDING_FOR_EXECUTOR, {"executor_id": executor_id})

    def cancel_workflow(self, workflow_id: str, cascade: bool) -> list[str]:
        """Mark CANCELLED (unless finished); with cascade, every descendant too. Returns IDs hit."""
        cancelled: list[str] = []
        frontier = [workflow_id]
        seen: set[str] = set()
        while frontier:
            wf = frontier.pop()
            if wf in seen:
                continue
            seen.add(wf)
            if self.execute(self.sql.CANCEL_WORKFLOW, {"workflow_uuid": wf, "now": now_ms()}):
                cancelled.append(wf)
            if cascade:
                rows = self.fetchall(self.sql.SELECT_CHILDREN, {"workflow_uuid": wf})
                frontier.extend(str(r[0]) for r in rows)
        return cancelled

    def resume_workflow(
        self, workflow_id: str, owner: str, executor_id: str, deadline: int | None
    ) -> bool:
        params = {
            "workflow_uuid": workflow_id,
            "owner_xid": owner,
            "executor_id": executor_id,
            "deadline": deadline,
            "now": now_ms(),
        }
        return self.execute(self.sql.RESUME_WORKFLOW, params) == 1

    def fork_workflow(self, row: Mapping[str, Any], original_id: str, start_step: int) -> bool:
        """Insert the fork's row and copy the original's checkpoints before `start_step`;
        False (and nothing written) when the fork's ID is taken."""
        with self.transaction() as cur:
            cur.execute(self.sql.INSERT_WORKFLOW, row)
            if cur.rowcount != 1:
                return False
            if start_step > 1:
                cur.execute(
                    self.sql.COPY_STEPS_FOR_FORK,
                    {
                        "new_workflow_uuid": row["workflow_uuid"],
                        "workflow_uuid": original_id,
                        "start_step": start_step,
                    },
                )
            cur.execute(self.sql.MARK_FORKED, {"workflow_uuid": original_id})
        return True

    def table(self, name: str) -> sa.Table:
        key = f"{self.schema}.{name}" if self.schema else name
        return self.metadata.tables[key]

    def run_query(self, query: sa.Select[Any]) -> list[sa.Row[Any]]:
        with self.engine.connect() as conn:
            return list(conn.execute(query).fetchall())

"""Connections to the system database: running statements on them, through outages.

Hot-path statements go straight to the DBAPI connection (rendered once per dialect by `sql`),
because SQLAlchemy's statement layer costs more per call than the INSERT itself. SQLAlchemy still
owns the schema definition, the connection pool and the dynamic listing queries. The three jobs
under a statement live apart: `engines` builds and configures the engines, `raw_connections`
reuses raw connections, `faults` says which errors are worth retrying and for how long.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

from .bulk_writes import BulkForm, plan, postgres_forms, row_counts
from .engines import listen_engine, system_engine
from .faults import DEFAULT_RETRY_BOUND_SEC, RetryPolicy
from .group_commit import GroupCommitter
from .pooler import PoolerGuard, goes_through_a_pooler
from .raw_connections import RawConnections
from .records import WakeKey
from .schema import build_metadata
from .sql import Statements
from .sqlite_file import SqliteFileGuard


def _ignore(_key: WakeKey) -> None:
    pass


T = TypeVar("T")


class Connections:
    """One process's connections to the system database, shared by every workflow thread.

    Every statement rides through database outages: on a connection fault it is retried on a
    fresh connection, with backoff, until `retry_bound_sec` has passed. A retried write may have
    committed the first time (the connection died after the commit and before the reply), so
    each write is idempotent or is recognised by its caller as its own (see the stores)."""

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
        self.sql = Statements(self.backend, self.schema)
        # Runs of these statements in one group commit go as one statement (`bulk_writes`).
        self._bulk_forms: dict[str, BulkForm] = (
            postgres_forms(self.sql) if self.backend == "postgresql" else {}
        )
        # SQLite admits one writer; taking turns in-process avoids its sleeping busy handler.
        self._write_lock: threading.Lock | contextlib.nullcontext[None] = (
            threading.Lock() if self.backend == "sqlite" else contextlib.nullcontext()
        )
        self.pooler = PoolerGuard("system database")
        self.sqlite_file = SqliteFileGuard(str(url.database)) if self.backend == "sqlite" else None
        self.engine = system_engine(
            url,
            pool_size=pool_size,
            sqlite_synchronous=sqlite_synchronous,
            sqlite_file=self.sqlite_file,
            pooler=self.pooler,
        )
        self._listen_engine: Engine | None = None
        # PostgreSQL server processes of the connections this process writes through: their
        # notifications are of writes that already woke this process's waiters directly.
        self.own_backend_pids: set[int] = set()
        self.raw = RawConnections(
            self.engine,
            max_open=pool_size * 5,  # at most this many, however many threads run
            on_open=self._note_backend if self.backend == "postgresql" else _no_backend,
        )
        # Bound once: the hot path's two calls per statement cost no extra attribute hop.
        self._acquire = self.raw.acquire
        self._release = self.raw.release
        self.connection = self.raw.connection
        # How long a write keeps retrying through a database outage before it gives up.
        self.retry = RetryPolicy(
            DEFAULT_RETRY_BOUND_SEC,
            explain=self.sqlite_file.explain if self.sqlite_file else _no_explanation,
            closed=lambda: self.raw.closed,
            after_fault=self._discard_idle,
        )
        self.retrying = self.retry.run
        # Called after a write others may wait on commits, with (kind, workflow, key): the
        # runtime wakes this process's waiters through it (see records.WakeKey).
        self.wake: Callable[[WakeKey], None] = _ignore
        self.committer = GroupCommitter(self.execute, self._execute_batch)
        # On PostgreSQL, starting a workflow commits on a lane (and connection) of its own: a
        # caller starting many workflows then waits for its own small commit, not behind a
        # large batch of other workflows' step checkpoints. (The server merges the flushes of
        # concurrent commits.) SQLite has one writer, so a second lane would only queue.
        self.start_committer = (
            GroupCommitter(self.execute, self._execute_batch)
            if self.backend == "postgresql"
            else self.committer
        )

    @property
    def retry_bound_sec(self) -> float:
        """How long a statement keeps retrying through a database outage before it gives up."""
        return self.retry.bound_sec

    @retry_bound_sec.setter
    def retry_bound_sec(self, seconds: float) -> None:
        self.retry.bound_sec = seconds

    @property
    def idle_check_after_sec(self) -> float:
        """An idle connection older than this is checked before it is used again."""
        return self.raw.idle_check_after_sec

    @idle_check_after_sec.setter
    def idle_check_after_sec(self, seconds: float) -> None:
        self.raw.idle_check_after_sec = seconds

    def _note_backend(self, dbapi_conn: Any) -> None:
        if not self.pooler.pooled:
            self.own_backend_pids.add(int(dbapi_conn.info.backend_pid))

    def _discard_idle(self) -> None:
        if self.backend == "sqlite":
            return  # a lock conflict, not a dead server: the connections are fine
        self.raw.discard_idle()
        self.engine.dispose()  # the pool behind listings and set-up

    # ----------------------------------------------------------------- connections

    def use_listen_url(self, url: URL) -> None:
        """Open the LISTEN connection through `url` (the same database reached directly, where
        the other connections go through a transaction-pooling proxy that LISTEN cannot cross)."""
        self._listen_engine = listen_engine(url)

    def listen_connection(self) -> tuple[Any, bool]:
        """A raw autocommit connection for LISTEN, the caller's to close, and whether it goes
        through a pooler (where notifications would not reach it)."""
        engine = self._listen_engine or self.engine
        raw = engine.raw_connection()
        raw.detach()
        return raw, goes_through_a_pooler(raw.dbapi_connection)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """A cursor inside an explicit transaction (BEGIN IMMEDIATE on SQLite: write intent).

        Not retried here: the caller retries the whole transaction (see `retrying`)."""
        if self.sqlite_file is not None:
            self.sqlite_file.check_now_and_then()
        with self._write_lock, self.connection() as conn:
            cur = conn.cursor()
            cur.execute("BEGIN IMMEDIATE" if self.backend == "sqlite" else "BEGIN")
            try:
                yield cur
            except BaseException:
                with contextlib.suppress(Exception):  # a dead connection cannot roll back
                    cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
            finally:
                with contextlib.suppress(Exception):
                    cur.close()

    def execute(self, sql: str, params: Mapping[str, Any]) -> int:
        """Run one write statement as its own transaction; return the affected row count."""
        return self.retrying(lambda _attempt: self._execute_once(sql, params))

    def _execute_once(self, sql: str, params: Mapping[str, Any]) -> int:
        # The hot path of every checkpoint: written out rather than through `connection()`.
        if self.sqlite_file is not None:
            self.sqlite_file.check_now_and_then()
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
        return self.retrying(lambda _attempt: self._execute_batch_once(statements))

    def _execute_batch_once(self, statements: list[tuple[str, Mapping[str, Any]]]) -> list[int]:
        if self.backend == "postgresql":
            planned = plan(statements, self._bulk_forms)
            # BEGIN, the statements and COMMIT in one pipeline: one round trip. A transaction
            # block around the pipeline costs two more (BEGIN's and COMMIT's), and after each
            # wait this thread queues for the GIL behind the workflow threads: beside one busy
            # thread a flush of 67 outcomes took 37 ms that way, 13-17 ms in one pipeline. On
            # an error the connection is dropped with its failed transaction (`connection()`
            # does not reuse it).
            with self.connection() as conn, conn.pipeline():
                conn.execute("BEGIN")
                cursors = []
                for item in planned:
                    cur = conn.cursor()
                    cur.execute(item.sql, item.params)
                    cursors.append(cur)
                conn.execute("COMMIT")
            results = [
                c.rowcount if item.keys is None else [r[0] for r in c.fetchall()]
                for item, c in zip(planned, cursors, strict=True)
            ]
            return row_counts(planned, results)
        with self.transaction() as cur:
            counts = []
            for sql, params in statements:
                cur.execute(sql, params)
                counts.append(int(cur.rowcount))
            return counts

    def execute_returning(self, sql: str, params: Mapping[str, Any]) -> list[Sequence[Any]]:
        """A write that returns rows (UPDATE ... RETURNING), as its own transaction."""

        def once(_attempt: int) -> list[Sequence[Any]]:
            with self._write_lock:
                return self.fetchall_once(sql, params)

        return self.retrying(once)

    def fetchall(self, sql: str, params: Mapping[str, Any]) -> list[Sequence[Any]]:
        return self.retrying(lambda _attempt: self.fetchall_once(sql, params))

    def fetchall_once(self, sql: str, params: Mapping[str, Any]) -> list[Sequence[Any]]:
        """`fetchall` without the retry: for a caller retrying a larger unit itself."""
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
        self.raw.close()
        self.engine.dispose()
        if self._listen_engine is not None:
            self._listen_engine.dispose()

    def table(self, name: str) -> sa.Table:
        key = f"{self.schema}.{name}" if self.schema else name
        return self.metadata.tables[key]

    def run_query(self, query: sa.Executable) -> list[Any]:
        def once(_attempt: int) -> list[Any]:
            with self.engine.connect() as conn:
                return list(conn.execute(query).fetchall())

        return self.retrying(once)


def _no_backend(_dbapi_conn: Any) -> None:
    pass


def _no_explanation(_exc: Exception) -> Exception | None:
    return None

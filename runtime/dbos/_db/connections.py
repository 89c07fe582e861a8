"""Connections to the system database: opening, reusing, and running statements on them.

Hot-path statements go straight to the DBAPI connection (rendered once per dialect by `sql`),
because SQLAlchemy's statement layer costs more per call than the INSERT itself. SQLAlchemy still
owns the schema definition, the connection pool and the dynamic listing queries.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine

from .._error import DBOSDatabaseConnectionError, DBOSException
from .group_commit import GroupCommitter
from .pooler import PoolerGuard, goes_through_a_pooler
from .records import WakeKey
from .schema import build_metadata
from .sql import Statements
from .sqlite_file import SqliteFileGuard

logger = logging.getLogger("dbos")


def _ignore(_key: WakeKey) -> None:
    pass


# SQLite's transient conditions, faults of the machine rather than of the statement: another
# process holds the lock past the busy timeout, the file is briefly unavailable, the disk is full
# or the file system went read-only (a remount after an I/O error). Its other OperationalErrors
# (no such table ...) are not transient.
_SQLITE_TRANSIENT = ("locked", "busy", "unable to open", "disk i/o", "is full", "readonly")
_PG_TRANSIENT_CLASSES = ("08", "40", "53", "57", "58")


def is_connection_error(exc: BaseException) -> bool:
    """A fault of the database or the way to it, not of the statement: worth retrying.

    PostgreSQL: connection refused or lost, server shutting down or restarting, a failover,
    a serialization conflict (all `psycopg.OperationalError`). SQLite: locked or busy."""
    if isinstance(exc, sa.exc.OperationalError) and exc.orig is not None:
        return is_connection_error(exc.orig)
    if isinstance(exc, sqlite3.OperationalError):
        message = str(exc).lower()
        return any(marker in message for marker in _SQLITE_TRANSIENT)
    if isinstance(exc, sa.exc.OperationalError):
        return True
    psycopg = sys.modules.get("psycopg")
    if psycopg is None or not isinstance(exc, psycopg.OperationalError):
        return False
    # No SQLSTATE: the server was never reached, or the connection broke. With one: transient
    # classes only (connection exception, operator intervention such as a restart, transaction
    # rollback, insufficient resources, system error), not a wrong password or a missing database.
    code = getattr(exc, "sqlstate", None)
    return code is None or code[:2] in _PG_TRANSIENT_CLASSES


def describe_fault(exc: BaseException) -> str:
    """What a transient fault means for the log and the final error: a cancelled statement
    (PostgreSQL's statement_timeout, a lock_timeout, or pg_cancel_backend) reached the server,
    so calling it "unreachable" would send an operator to check the network instead of the
    role's settings."""
    inner = getattr(exc, "orig", None) or exc
    code = getattr(inner, "sqlstate", None)
    if code == "57014":
        return "cancelled a statement (statement_timeout or a cancel request)"
    if code == "55P03":
        return "timed out waiting for a lock (lock_timeout)"
    return "unreachable"


DEFAULT_RETRY_BOUND_SEC = 180.0
_RETRY_FIRST_SEC = 0.05
_RETRY_MAX_SEC = 2.0
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
        self._sqlite_synchronous = sqlite_synchronous.upper()
        # SQLite admits one writer; taking turns in-process avoids its sleeping busy handler.
        self._write_lock: threading.Lock | contextlib.nullcontext[None] = (
            threading.Lock() if self.backend == "sqlite" else contextlib.nullcontext()
        )
        self.pooler = PoolerGuard("system database")
        self.sqlite_file = SqliteFileGuard(str(url.database)) if self.backend == "sqlite" else None
        self.engine = self._create_engine(pool_size)
        self._listen_engine: Engine | None = None
        self._idle: list[tuple[Any, float]] = []
        self._idle_cond = threading.Condition(threading.Lock())
        self._closed = False
        self._open = 0
        self._max_open = pool_size * 5  # at most this many, however many threads run
        self.idle_check_after_sec = 10.0
        # How long a write keeps retrying through a database outage before it gives up.
        self.retry_bound_sec = DEFAULT_RETRY_BOUND_SEC
        self._last_outage_log = 0.0
        # Called after a write others may wait on commits, with (kind, workflow, key): the
        # runtime wakes this process's waiters through it (see records.WakeKey).
        self.wake: Callable[[WakeKey], None] = _ignore
        # PostgreSQL server processes of the connections this process writes through: their
        # notifications are of writes that already woke this process's waiters directly.
        self.own_backend_pids: set[int] = set()
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
            guard = self.sqlite_file

            @event.listens_for(engine, "do_connect")
            def _same_file(*_args: Any) -> None:
                if guard is not None:
                    guard.check()  # before sqlite3.connect could create a new, empty file

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
                self.pooler.on_connect(dbapi_conn)

        return engine

    def use_listen_url(self, url: URL) -> None:
        """Open the LISTEN connection through `url` (the same database reached directly, where
        the other connections go through a transaction-pooling proxy that LISTEN cannot cross)."""
        engine = sa.create_engine(
            url,
            poolclass=sa.pool.NullPool,
            connect_args={
                "connect_timeout": 10,
                "application_name": "dbos-listener",
                "prepare_threshold": None,
            },
        )

        @event.listens_for(engine, "connect")
        def _autocommit(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.autocommit = True

        self._listen_engine = engine

    def listen_connection(self) -> tuple[Any, bool]:
        """A raw autocommit connection for LISTEN, the caller's to close, and whether it goes
        through a pooler (where notifications would not reach it)."""
        engine = self._listen_engine or self.engine
        raw = engine.raw_connection()
        raw.detach()
        return raw, goes_through_a_pooler(raw.dbapi_connection)

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
            if self.backend == "postgresql" and not self.pooler.pooled:
                pg_conn: Any = conn.dbapi_connection
                self.own_backend_pids.add(int(pg_conn.info.backend_pid))
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

    def retrying(self, operation: Callable[[int], T]) -> T:
        """Run `operation(attempt)` until it gets past connection faults; attempt 0 is the first.

        Raises DBOSDatabaseConnectionError once the database has been unreachable for longer
        than the bound, and at once after DBOS.destroy() (a closed database never comes back)."""
        attempt = 0
        started = time.monotonic()
        delay = _RETRY_FIRST_SEC
        while True:
            try:
                return operation(attempt)
            except Exception as exc:
                replaced = self.sqlite_file.explain(exc) if self.sqlite_file else None
                if replaced is not None:
                    raise replaced from exc
                if self._closed or not is_connection_error(exc):
                    raise
                waited = time.monotonic() - started
                if waited >= self.retry_bound_sec:
                    raise DBOSDatabaseConnectionError(
                        f"System database {describe_fault(exc)}, still after {waited:.0f}s of "
                        f"retries: {exc}"
                    ) from exc
                self._log_outage(exc, self.retry_bound_sec - waited)
                self._discard_idle()  # after a restart every idle connection is dead too
            time.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX_SEC)
            attempt += 1

    def _discard_idle(self) -> None:
        if self.backend == "sqlite":
            return  # a lock conflict, not a dead server: the connections are fine
        with self._idle_cond:
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._idle_cond.notify_all()
        for conn, _ in idle:
            with contextlib.suppress(Exception):
                conn.close()
        self.engine.dispose()  # the pool behind listings and set-up

    def _log_outage(self, exc: BaseException, remaining_sec: float) -> None:
        now = time.monotonic()
        if now - self._last_outage_log >= 5.0:  # one line every few seconds, not per statement
            self._last_outage_log = now
            logger.warning(
                "System database %s; retrying for up to %.0fs more: %s",
                describe_fault(exc),
                remaining_sec,
                exc,
            )

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

    def execute_returning(self, sql: str, params: Mapping[str, Any]) -> list[Sequence[Any]]:
        """A write that returns rows (UPDATE ... RETURNING), as its own transaction."""

        def once(_attempt: int) -> list[Sequence[Any]]:
            with self._write_lock:
                return self._fetchall_once(sql, params)

        return self.retrying(once)

    def fetchall(self, sql: str, params: Mapping[str, Any]) -> list[Sequence[Any]]:
        return self.retrying(lambda _attempt: self._fetchall_once(sql, params))

    def _fetchall_once(self, sql: str, params: Mapping[str, Any]) -> list[Sequence[Any]]:
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

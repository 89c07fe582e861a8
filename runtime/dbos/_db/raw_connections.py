"""Reuse of raw DBAPI connections: a free list in front of SQLAlchemy's pool.

SQLAlchemy's pool opens and configures the connections; this free list reuses them without
its per-checkout bookkeeping, which cost about as much as a SQLite INSERT. It bounds how many
are open however many threads run, checks a connection that sat idle for a while before
handing it out (a server restart or an idle timeout closes it; a busy one is not checked, so
the hot path pays nothing), and after `close()` refuses every caller: to the database, a
workflow thread still running after `DBOS.destroy()` is as if its process had died.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy.engine import Engine

from .._error import DBOSException


def _ignore(_conn: Any) -> None:
    pass


class RawConnections:
    """Raw connections of `engine`, at most `max_open` at a time; `on_open(conn)` is told of
    each connection opened."""

    def __init__(
        self, engine: Engine, *, max_open: int, on_open: Callable[[Any], None] = _ignore
    ) -> None:
        self.engine = engine
        self.idle_check_after_sec = 10.0
        self._on_open = on_open
        self._idle: list[tuple[Any, float]] = []
        self._idle_cond = threading.Condition(threading.Lock())
        self._closed = False
        self._open = 0
        self._max_open = max_open

    @property
    def closed(self) -> bool:
        return self._closed

    @contextlib.contextmanager
    def connection(self) -> Iterator[Any]:
        """A raw DBAPI connection, reused afterwards unless an error hit it."""
        conn = self.acquire()
        try:
            yield conn.dbapi_connection
        except BaseException:
            self.release(conn, reuse=False)  # its state is unknown after a failure
            raise
        self.release(conn, reuse=True)

    def acquire(self) -> Any:
        """A pooled connection (its `.dbapi_connection` is the driver's), to `release`."""
        while True:
            with self._idle_cond:
                while True:
                    if self._closed:
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
            self.release(conn, reuse=False)  # the server dropped it while idle: try another

    def open_one(self) -> None:
        """Have a connection ready before the first caller asks (a client's first call then
        pays no connect: on PostgreSQL 3-7 ms, a tenth of a 2,000-row `enqueue_many`)."""
        self.release(self.acquire(), reuse=True)

    def _open_connection(self) -> Any:
        try:
            conn = self.engine.raw_connection()
            conn.detach()  # ours to keep or close from now on
            self._on_open(conn.dbapi_connection)
            return conn
        except BaseException:
            with self._idle_cond:
                self._open -= 1
                self._idle_cond.notify()
            raise

    @staticmethod
    def _alive(conn: Any) -> bool:
        try:
            cur = conn.dbapi_connection.cursor()
            cur.execute("SELECT 1")
            cur.fetchall()
            cur.close()
            return True
        except Exception:
            return False

    def release(self, conn: Any, reuse: bool) -> None:
        """Give back a connection from `acquire`: kept for reuse, or closed (`reuse=False`
        after an error, whose state is unknown)."""
        with self._idle_cond:
            if reuse and not self._closed:
                self._idle.append((conn, time.monotonic()))
                self._idle_cond.notify()
                return
            self._open -= 1
            self._idle_cond.notify()
        with contextlib.suppress(Exception):
            conn.close()

    def discard_idle(self) -> None:
        """Close every idle connection (after a server restart they are all dead)."""
        with self._idle_cond:
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._idle_cond.notify_all()
        for conn, _ in idle:
            with contextlib.suppress(Exception):
                conn.close()

    def close(self) -> None:
        """Close the idle connections and refuse every later `acquire`."""
        with self._idle_cond:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            with contextlib.suppress(Exception):
                conn.close()

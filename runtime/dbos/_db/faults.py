"""Which database errors are faults of the infrastructure, and how long a statement is retried
through them.

A dropped connection, a server restart, a failover or a locked SQLite file is not the user's
error: the statement is retried on a fresh connection, with backoff, until a bound passes
(DESIGN.md: an infrastructure fault never ends a workflow in ERROR). Anything else is raised
at once. The classification is also asked by the waiters and the dispatcher, which retry on
their own schedule.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

from .._error import DBOSDatabaseConnectionError
from .._threads import waiting_on_database

logger = logging.getLogger("dbos")

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


def _never(_exc: Exception) -> Exception | None:
    return None


def _no(_: None = None) -> bool:
    return False


def _nothing() -> None:
    pass


class RetryPolicy:
    """Retries an operation through connection faults, with exponential backoff, until
    `bound_sec` has passed; logs the outage once every few seconds, not once per statement.

    What the owner of the connections knows is given as functions: `explain` turns an error
    into the one to raise instead (SQLite: the file was replaced under us), `closed` says the
    database was closed for good (no retry), `after_fault` drops what a fault made stale (the
    idle connections after a server restart)."""

    def __init__(
        self,
        bound_sec: float = DEFAULT_RETRY_BOUND_SEC,
        *,
        explain: Callable[[Exception], Exception | None] = _never,
        closed: Callable[[], bool] = _no,
        after_fault: Callable[[], None] = _nothing,
    ) -> None:
        self.bound_sec = bound_sec
        self._explain = explain
        self._closed = closed
        self._after_fault = after_fault
        self._last_outage_log = 0.0

    def run(self, operation: Callable[[int], T]) -> T:
        """Run `operation(attempt)` until it gets past connection faults; attempt 0 is the first.

        Raises DBOSDatabaseConnectionError once the database has been unreachable for longer
        than the bound, and at once when it is closed (a closed database never comes back)."""
        with waiting_on_database():  # not a long step: the pool does not grow for it
            return self._run(operation)

    def _run(self, operation: Callable[[int], T]) -> T:
        attempt = 0
        started = time.monotonic()
        delay = _RETRY_FIRST_SEC
        while True:
            try:
                return operation(attempt)
            except Exception as exc:
                replaced = self._explain(exc)
                if replaced is not None:
                    raise replaced from exc
                if self._closed() or not is_connection_error(exc):
                    raise
                waited = time.monotonic() - started
                if waited >= self.bound_sec:
                    raise DBOSDatabaseConnectionError(
                        f"System database {describe_fault(exc)}, still after {waited:.0f}s of "
                        f"retries: {exc}"
                    ) from exc
                self._log_outage(exc, self.bound_sec - waited)
                self._after_fault()
            time.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX_SEC)
            attempt += 1

    def _log_outage(self, exc: BaseException, remaining_sec: float) -> None:
        now = time.monotonic()
        if now - self._last_outage_log >= 5.0:
            self._last_outage_log = now
            logger.warning(
                "System database %s; retrying for up to %.0fs more: %s",
                describe_fault(exc),
                remaining_sec,
                exc,
            )

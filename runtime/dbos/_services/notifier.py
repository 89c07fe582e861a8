"""Which notifier this process runs: LISTEN/NOTIFY on PostgreSQL, the change poller on SQLite
(or on PostgreSQL when LISTEN is turned off, or cannot work: its connection would go through a
transaction-pooling PgBouncer and no direct URL for it was given)."""

from __future__ import annotations

from sqlalchemy.engine import URL

from .._core.runtime import Runtime, Service, logger
from .change_poller import ChangePoller
from .pg_listener import PostgresListener

# How long start-up waits for the listener's first LISTEN. Its first connection wakes every
# waiter to re-check (a write before it was not heard); a workflow parked before it would be
# resumed by replay for nothing. A database that cannot be reached in this time is left to the
# listener's retries, which log why.
_FIRST_LISTEN_WAIT_SEC = 5.0


def start_notifier(
    runtime: Runtime, use_listen_notify: bool = True, listen_url: URL | None = None
) -> Service:
    sysdb = runtime.sysdb
    if sysdb.backend != "postgresql":
        return ChangePoller(runtime)
    if not use_listen_notify:
        logger.info("LISTEN/NOTIFY is off: waiters in other processes are found by polling")
        return ChangePoller(runtime)
    if listen_url is not None:
        sysdb.use_listen_url(listen_url)
    # A pooled system database whose listener has no URL of its own is told by the listener
    # itself, on its first connection, which then polls instead.
    listener = PostgresListener(runtime)
    listener.connected.wait(_FIRST_LISTEN_WAIT_SEC)
    return listener

"""Which notifier this process runs: LISTEN/NOTIFY on PostgreSQL, the change poller on SQLite
(or on PostgreSQL when LISTEN is turned off, as behind a transaction-pooling PgBouncer)."""

from __future__ import annotations

from .._core.runtime import Runtime, Service, logger
from .change_poller import ChangePoller
from .pg_listener import PostgresListener


def start_notifier(runtime: Runtime, use_listen_notify: bool = True) -> Service:
    if runtime.sysdb.backend == "postgresql":
        if use_listen_notify:
            return PostgresListener(runtime)
        logger.info("LISTEN/NOTIFY is off: waiters in other processes are found by polling")
    return ChangePoller(runtime)

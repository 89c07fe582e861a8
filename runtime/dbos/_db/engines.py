"""The SQLAlchemy engines behind the system database's connections, configured per dialect.

SQLite: autocommit connections (one statement, one transaction), a busy timeout set before
anything may wait, WAL, the configured `synchronous`, foreign keys on, and a check before each
connect that the file is still the one the database was opened on. PostgreSQL (psycopg 3):
autocommit connections, a connect timeout, an application name, and the pooler check of each
new connection. SQLAlchemy's pool opens and configures connections; reusing them is
`raw_connections`' job.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine

from .pooler import PoolerGuard
from .sqlite_file import SqliteFileGuard


def system_engine(
    url: URL,
    *,
    pool_size: int,
    sqlite_synchronous: str,
    sqlite_file: SqliteFileGuard | None,
    pooler: PoolerGuard,
) -> Engine:
    """The engine of the system database at `url`."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, pool_size, sqlite_synchronous.upper(), sqlite_file)
    engine = sa.create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size * 4,
        pool_timeout=60,
        pool_reset_on_return=None,
        connect_args={"connect_timeout": 10, "application_name": "dbos"},
    )

    @event.listens_for(engine, "connect")
    def _pg_autocommit(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.autocommit = True
        pooler.on_connect(dbapi_conn)

    return engine


def _sqlite_engine(
    url: URL, pool_size: int, synchronous: str, guard: SqliteFileGuard | None
) -> Engine:
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30.0},
        poolclass=sa.pool.QueuePool,
        pool_size=pool_size,
        max_overflow=pool_size * 4,
        pool_reset_on_return=None,
    )

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
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return engine


def listen_engine(url: URL) -> Engine:
    """An engine for the one LISTEN connection, at `url` (the same database reached directly,
    where the other connections go through a transaction-pooling proxy that LISTEN cannot
    cross): no pool, autocommit, no prepared statements."""
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

    return engine

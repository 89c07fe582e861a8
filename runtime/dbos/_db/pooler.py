"""Connections that go through a transaction-pooling proxy (PgBouncer) hold no session state.

Such a proxy hands each transaction to whichever server connection is free, so anything a
session keeps between transactions is lost or, worse, met by another client: psycopg's
prepared statements (made after a statement's fifth use) then fail with "prepared statement
does not exist", or find another client's statement under the same name. A proxy also answers
the connection handshake itself, so the server process named there is not the one that runs
the queries: comparing the two tells a pooled connection from a direct one, with no setting.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("dbos")

_SERVER_PID = "SELECT pg_backend_pid()"


def goes_through_a_pooler(dbapi_conn: Any) -> bool:
    """Whether this (autocommit) psycopg connection reaches its server through a proxy."""
    cur = dbapi_conn.execute(_SERVER_PID)
    try:
        row = cur.fetchone()
    finally:
        cur.close()
    return row is None or int(row[0]) != int(dbapi_conn.info.backend_pid)


class PoolerGuard:
    """Per database: turns prepared statements off on every connection that goes through a
    pooler, and says so once."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.pooled = False

    def on_connect(self, dbapi_conn: Any) -> None:
        if not goes_through_a_pooler(dbapi_conn):
            return
        dbapi_conn.prepare_threshold = None  # nothing may outlive the transaction
        if not self.pooled:
            self.pooled = True
            logger.info(
                "The %s is reached through a connection pooler: prepared statements are off "
                "for its connections",
                self.what,
            )

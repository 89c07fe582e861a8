"""Creating and dropping whole PostgreSQL databases, for the system and application databases.

A missing database is created at launch, as upstream does. The server is asked first (through
its `postgres` database) rather than after a failed connection: through a pooler such as
PgBouncer, one login to a missing database makes the pooler refuse every login to it for a
while ("server login has been failing"), even once it exists.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import URL

from .._config import mask_url
from .._error import DBOSDatabaseConnectionError
from .faults import describe_fault, is_connection_error

logger = logging.getLogger("dbos")

_EXISTS = "SELECT 1 FROM pg_database WHERE datname = :name"


@contextlib.contextmanager
def server_connection(url: URL, what: str) -> Iterator[sa.Connection]:
    """An autocommit connection to the server's `postgres` database, for CREATE/DROP."""
    engine = sa.create_engine(
        url.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
        connect_args={"connect_timeout": 10, "prepare_threshold": None},
    )
    try:
        with engine.connect() as conn:
            yield conn
    except sa.exc.OperationalError as exc:
        raise DBOSDatabaseConnectionError(
            f"Cannot connect to the PostgreSQL server of {what} {mask_url(url)}: {exc.orig}"
        ) from exc
    finally:
        engine.dispose()


def database_exists(url: URL, what: str) -> bool:
    with server_connection(url, what) as conn:
        return bool(conn.execute(sa.text(_EXISTS), {"name": url.database}).scalar())


def create_database_if_missing(url: URL, what: str) -> bool:
    """Create the URL's database unless it exists; whether this call created it."""
    name = {"name": url.database}
    with server_connection(url, what) as conn:
        if conn.execute(sa.text(_EXISTS), name).scalar():
            return False
        try:
            conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
        except (sa.exc.ProgrammingError, sa.exc.IntegrityError):
            # Another process may have created it at the same moment: fine if so.
            if not conn.execute(sa.text(_EXISTS), name).scalar():
                raise
            return False
    logger.info("Created the %s %s", what, mask_url(url))
    return True


def ensure_database(url: URL, what: str) -> None:
    """Create the database when missing; a server that cannot be reached is an outage (raised,
    to be waited out), but a `postgres` database this role may not use only means that the
    check is skipped and the database is opened as it is."""
    try:
        create_database_if_missing(url, what)
    except DBOSDatabaseConnectionError as exc:
        if exc.__cause__ is not None and is_connection_error(exc.__cause__):
            raise
        logger.debug("Could not check whether the %s exists: %s", what, exc)
    except sa.exc.DBAPIError as exc:  # e.g. no right to CREATE DATABASE
        logger.debug("Could not create the %s: %s", what, exc)


def drop_database(url: URL, what: str) -> None:
    with server_connection(url, what) as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))


def open_waiting(
    open_once: Callable[[], None], url: URL, what: str, retry_bound_sec: float
) -> None:
    """Run `open_once` until it succeeds, waiting out a database that cannot be reached yet (a
    container starting before its database, a restart, a pooler's login back-off) with a log
    line every few seconds, up to `retry_bound_sec`; any other failure is raised at once."""
    started = time.monotonic()
    delay = 0.1
    while True:
        try:
            open_once()
            return
        except DBOSDatabaseConnectionError as exc:
            cause = exc.__cause__
            waited = time.monotonic() - started
            if cause is None or not is_connection_error(cause) or waited >= retry_bound_sec:
                raise
            logger.warning(
                "Waiting for %s %s: it %s (%s); retrying for up to %.0fs more",
                what,
                mask_url(url),
                describe_fault(cause),
                getattr(cause, "orig", cause),
                retry_bound_sec - waited,
            )
        time.sleep(delay)
        delay = min(delay * 2, 5.0)

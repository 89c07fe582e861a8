"""The application database behind `@DBOS.transaction`: the user's SQL and the transaction's
checkpoint commit together, so a transaction's effect happens exactly once.

Each transaction writes its output into `transaction_outputs` inside its own database
transaction. The system database's step record follows; if the process dies between the two,
the recovered run finds the output here and does not run the transaction again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from .._config import mask_url
from .._db.rows import CompatSession
from .._error import DBOSDatabaseConnectionError, DBOSException
from .databases import ensure_database, open_waiting
from .pooler import PoolerGuard

current_session: ContextVar[Session | None] = ContextVar("dbos_sql_session", default=None)

_RETRY_FIRST_SEC = 0.001
_RETRY_MAX_SEC = 2.0
ISOLATION_LEVELS = ("SERIALIZABLE", "REPEATABLE READ", "READ COMMITTED")


class ApplicationDatabase:
    def __init__(self, url: URL, schema: str = "dbos") -> None:
        self.url = url
        self.backend = url.get_backend_name()
        self.schema = schema if self.backend == "postgresql" else None
        self.metadata = sa.MetaData(schema=self.schema)
        self.outputs = sa.Table(
            "transaction_outputs",
            self.metadata,
            sa.Column("workflow_uuid", sa.Text, nullable=False),
            sa.Column("function_id", sa.Integer, nullable=False),
            sa.Column("output", sa.Text),
            sa.Column("created_at", sa.BigInteger, nullable=False),
            sa.PrimaryKeyConstraint("workflow_uuid", "function_id"),
        )
        if self.backend == "sqlite":
            self.engine = sa.create_engine(url, connect_args={"timeout": 30.0})

            @event.listens_for(self.engine, "connect")
            def _busy_timeout(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.execute("PRAGMA busy_timeout=30000")

        else:
            self.engine = sa.create_engine(
                url, pool_size=20, max_overflow=40, connect_args={"connect_timeout": 10}
            )
            self.pooler = PoolerGuard("application database")

            @event.listens_for(self.engine, "connect")
            def _no_prepares_behind_a_pooler(dbapi_conn: Any, _record: Any) -> None:
                autocommit = dbapi_conn.autocommit
                dbapi_conn.autocommit = True
                try:
                    self.pooler.on_connect(dbapi_conn)
                finally:
                    dbapi_conn.autocommit = autocommit

    def initialize(self, retry_bound_sec: float = 180.0) -> None:
        """Create the database when missing (PostgreSQL), and the outputs table; a database that
        cannot be reached yet is waited for, like the system database."""
        open_waiting(self._initialize_once, self.url, "application database", retry_bound_sec)

    def _initialize_once(self) -> None:
        if self.backend == "postgresql":
            ensure_database(self.url, "application database")
        try:
            self._create_tables()
        except sa.exc.OperationalError as exc:
            raise DBOSDatabaseConnectionError(
                f"Cannot open application database {mask_url(self.url)}: {exc.orig}"
            ) from exc

    def _create_tables(self) -> None:
        with self.engine.begin() as conn:
            if self.schema:
                conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            self.metadata.create_all(conn, checkfirst=True)

    def dispose(self) -> None:
        self.engine.dispose()

    def recorded_output(self, workflow_id: str, function_id: int) -> tuple[bool, str | None]:
        """(True, output) if this transaction already committed for that step."""
        t = self.outputs
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.c.output).where(
                    t.c.workflow_uuid == workflow_id, t.c.function_id == function_id
                )
            ).first()
        return (True, row[0]) if row is not None else (False, None)

    @contextmanager
    def _session(self, isolation_level: str) -> Iterator[CompatSession]:
        session = CompatSession(bind=self.engine)
        try:
            if self.backend == "postgresql":
                session.connection(execution_options={"isolation_level": isolation_level})
            token = current_session.set(session)
            try:
                yield session
            finally:
                current_session.reset(token)
        finally:
            session.close()

    def run(
        self,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        isolation_level: str,
        checkpoint: tuple[str, int, Callable[[Any], str]] | None,
    ) -> tuple[Any, str | None]:
        """Run `func` in one transaction, retried on serialization conflicts; with a checkpoint
        (workflow ID, step number, serializer) its output row commits with it."""
        delay = _RETRY_FIRST_SEC
        while True:
            try:
                with self._session(isolation_level) as session:
                    result = func(*args, **kwargs)
                    output: str | None = None
                    if checkpoint is not None:
                        workflow_id, function_id, serialize = checkpoint
                        output = serialize(result)
                        session.execute(
                            self.outputs.insert().values(
                                workflow_uuid=workflow_id,
                                function_id=function_id,
                                output=output,
                                created_at=time.time_ns() // 1_000_000,
                            )
                        )
                    session.commit_for_the_runtime()
                    return result, output
            except sa.exc.OperationalError as exc:
                if not _is_retriable(exc):
                    raise
            time.sleep(delay)
            delay = min(delay * 1.5, _RETRY_MAX_SEC)


def _is_retriable(exc: sa.exc.OperationalError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40001", "40P01") or "database is locked" in str(exc.orig)


def require_session() -> Session:
    session = current_session.get()
    if session is None:
        raise DBOSException(
            "DBOS.sql_session is only available inside a @DBOS.transaction() function"
        )
    return session

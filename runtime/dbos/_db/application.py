"""The application database behind `@DBOS.transaction`: the user's SQL and the transaction's
checkpoint commit together, so a transaction's effect happens exactly once.

Each transaction writes its output into `transaction_outputs` inside its own database
transaction. The system database's step record follows; if the process dies between the two,
the recovered run finds the output here and does not run the transaction again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from .._clock import now_ms
from .._config import mask_url
from .._db.rows import CompatSession
from .._error import DBOSDatabaseConnectionError, DBOSNotInTransactionError
from .databases import ensure_database, open_waiting
from .pooler import PoolerGuard

current_session: ContextVar[Session | None] = ContextVar("dbos_sql_session", default=None)

RETRY_FIRST_SEC = 0.001
RETRY_MAX_SEC = 2.0
ISOLATION_LEVELS = ("SERIALIZABLE", "REPEATABLE READ", "READ COMMITTED")


@dataclass(frozen=True)
class OutputsTable:
    """Where a database keeps the outputs of the transactions committed in it: the
    application database's `transaction_outputs`, or a datasource's `datasource_outputs`
    (upstream's table and column names, so an upstream application's table is reused)."""

    name: str = "transaction_outputs"
    workflow_column: str = "workflow_uuid"
    step_column: str = "function_id"

    def table(self, metadata: sa.MetaData) -> sa.Table:
        return sa.Table(
            self.name,
            metadata,
            sa.Column(self.workflow_column, sa.Text, nullable=False),
            sa.Column(self.step_column, sa.Integer, nullable=False),
            sa.Column("output", sa.Text),
            sa.Column("created_at", sa.BigInteger, nullable=False),
            sa.PrimaryKeyConstraint(self.workflow_column, self.step_column),
        )

    def select_output(self, table: sa.Table, workflow_id: str, step_id: int) -> sa.Select[Any]:
        return sa.select(table.c.output).where(
            table.c[self.workflow_column] == workflow_id, table.c[self.step_column] == step_id
        )

    def insert_output(
        self, table: sa.Table, workflow_id: str, step_id: int, output: str | None
    ) -> sa.Insert:
        return table.insert().values(
            {
                self.workflow_column: workflow_id,
                self.step_column: step_id,
                "output": output,
                "created_at": now_ms(),
            }
        )


DATASOURCE_OUTPUTS = OutputsTable("datasource_outputs", "workflow_id", "step_id")


class ApplicationDatabase:
    def __init__(
        self,
        url: URL,
        schema: str = "dbos",
        outputs: OutputsTable = OutputsTable(),
        engine: sa.Engine | None = None,
        engine_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.url = url
        self.backend = url.get_backend_name()
        self.schema = schema if self.backend == "postgresql" else None
        self.metadata = sa.MetaData(schema=self.schema)
        self.spec = outputs
        self.outputs = outputs.table(self.metadata)
        self._initialized = False
        self._init_lock = threading.Lock()
        self.pooler = PoolerGuard("application database")
        self.engine = engine if engine is not None else self._create_engine(engine_kwargs or {})

    def _create_engine(self, engine_kwargs: dict[str, Any]) -> sa.Engine:
        if self.backend == "sqlite":
            engine = sa.create_engine(
                self.url, **{"connect_args": {"timeout": 30.0}, **engine_kwargs}
            )

            @event.listens_for(engine, "connect")
            def _busy_timeout(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.execute("PRAGMA busy_timeout=30000")

            return engine
        options: dict[str, Any] = {
            "pool_size": 20,
            "max_overflow": 40,
            "connect_args": {"connect_timeout": 10},
        }
        engine = sa.create_engine(self.url, **{**options, **engine_kwargs})

        @event.listens_for(engine, "connect")
        def _no_prepares_behind_a_pooler(dbapi_conn: Any, _record: Any) -> None:
            autocommit = dbapi_conn.autocommit
            dbapi_conn.autocommit = True
            try:
                self.pooler.on_connect(dbapi_conn)
            finally:
                dbapi_conn.autocommit = autocommit

        return engine

    def ready(self) -> None:
        """Initialize on first use (a datasource made before, or without, DBOS.launch())."""
        if self._initialized:
            return
        with self._init_lock:
            if not self._initialized:
                self.initialize()

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
        self._initialized = True

    def dispose(self) -> None:
        self.engine.dispose()

    def has_outputs_table(self) -> bool:
        """Whether this database holds transaction outputs (an admin tool opening it must not
        create the table)."""
        try:
            return sa.inspect(self.engine).has_table("transaction_outputs", schema=self.schema)
        except sa.exc.OperationalError as exc:
            raise DBOSDatabaseConnectionError(
                f"Cannot open application database {mask_url(self.url)}: {exc.orig}"
            ) from exc

    def delete_outputs(self, workflow_ids: Sequence[str]) -> int:
        """Forget the transaction outputs of workflows being garbage-collected. Called before
        their system-database rows go: a stale output left here would be replayed into a new
        workflow that reuses the ID (upstream py#769)."""
        t = self.outputs
        with self.engine.begin() as conn:
            column = t.c[self.spec.workflow_column]
            result = conn.execute(t.delete().where(column.in_(list(workflow_ids))))
            return int(result.rowcount)

    def recorded_output(self, workflow_id: str, function_id: int) -> tuple[bool, str | None]:
        """(True, output) if this transaction already committed for that step."""
        with self.engine.connect() as conn:
            row = conn.execute(
                self.spec.select_output(self.outputs, workflow_id, function_id)
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
        delay = RETRY_FIRST_SEC
        while True:
            try:
                with self._session(isolation_level) as session:
                    result = func(*args, **kwargs)
                    output: str | None = None
                    if checkpoint is not None:
                        workflow_id, function_id, serialize = checkpoint
                        output = serialize(result)
                        session.execute(
                            self.spec.insert_output(self.outputs, workflow_id, function_id, output)
                        )
                    session.commit_for_the_runtime()
                    return result, output
            except sa.exc.OperationalError as exc:
                if not is_retriable_conflict(exc):
                    raise
            time.sleep(delay)
            delay = min(delay * 1.5, RETRY_MAX_SEC)


def is_retriable_conflict(exc: sa.exc.OperationalError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40001", "40P01") or "database is locked" in str(exc.orig)


def require_session(
    what: str = "DBOS.sql_session", where: str = "a @DBOS.transaction()"
) -> Session:
    session = current_session.get()
    if session is None:
        raise DBOSNotInTransactionError(f"{what} is only available inside {where} function")
    return session

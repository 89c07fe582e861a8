"""A database of an `AsyncSQLAlchemyDatasource`: its async engine, its outputs table, and one
transaction of a function with its output committed alongside, retried on serialization
conflicts. The async twin of `ApplicationDatabase`, for psycopg's async driver and aiosqlite."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from .._error import DBOSException, DBOSNotInTransactionError
from .application import (
    DATASOURCE_OUTPUTS,
    RETRY_FIRST_SEC,
    RETRY_MAX_SEC,
    OutputsTable,
    is_retriable_conflict,
)
from .databases import ensure_database

current_async_session: ContextVar[AsyncSession | None] = ContextVar(
    "dbos_async_sql_session", default=None
)


class GuardedAsyncSession(AsyncSession):
    """The session of one async datasource transaction: the runtime commits it with the
    output, so the function may not commit or roll back on its own."""

    async def commit(self) -> None:
        raise DBOSException(
            "ds.sql_session().commit() inside a datasource transaction: the transaction is the "
            "runtime's, which commits it with the step's output when the function returns"
        )

    async def rollback(self) -> None:
        raise DBOSException(
            "ds.sql_session().rollback() inside a datasource transaction: raise an exception "
            "to roll it back"
        )

    async def commit_for_the_runtime(self) -> None:
        await super().commit()


def async_driver_url(url: URL) -> URL:
    """The same database through an async driver: aiosqlite for SQLite, psycopg's async mode
    (the same `postgresql+psycopg` dialect) for PostgreSQL."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        return url.set(drivername="postgresql+psycopg")
    return url


class AsyncDatabase:
    def __init__(
        self,
        url: URL,
        schema: str = "dbos",
        outputs: OutputsTable = DATASOURCE_OUTPUTS,
        engine: AsyncEngine | None = None,
        engine_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.url = url
        self.backend = url.get_backend_name()
        self.schema = schema if self.backend == "postgresql" else None
        self.metadata = sa.MetaData(schema=self.schema)
        self.spec = outputs
        self.outputs = outputs.table(self.metadata)
        self.owns_engine = engine is None
        self._connect_args = dict((engine_kwargs or {}).get("connect_args") or {})
        self.engine = engine or create_async_engine(async_driver_url(url), **(engine_kwargs or {}))
        # An async engine's pooled connections belong to the loop that opened them. The engine
        # serves the first loop that uses it; any other (the loops recovery and queues run
        # async workflows on) gets an unpooled engine of its own.
        self._engine_loop: asyncio.AbstractEventLoop | None = None
        self._other_loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncEngine] = (
            weakref.WeakKeyDictionary()
        )
        self._initialized = False

    def engine_here(self) -> AsyncEngine:
        loop = asyncio.get_running_loop()
        if self._engine_loop is None:
            self._engine_loop = loop
        if loop is self._engine_loop:
            return self.engine
        engine = self._other_loops.get(loop)
        if engine is None:
            engine = self._unpooled()
            self._other_loops[loop] = engine
        return engine

    def _unpooled(self) -> AsyncEngine:
        return create_async_engine(
            self.engine.url, poolclass=sa.pool.NullPool, connect_args=self._connect_args
        )

    async def ready(self) -> None:
        if self._initialized:
            return
        try:
            await self.initialize()
        except sa.exc.DBAPIError:
            await self.initialize()  # a concurrent first use created the table meanwhile

    async def initialize(self) -> None:
        async with self.engine_here().begin() as conn:
            await self._create_tables(conn)
        self._initialized = True

    async def initialize_unbound(self) -> None:
        """Create the outputs table without tying our engine's pool to this event loop: the
        datasource is often made under one `asyncio.run` and used under another. A missing
        PostgreSQL database is created first, as the sync datasource's is."""
        if self.backend == "postgresql":
            await asyncio.to_thread(ensure_database, self.url, "datasource database")
        if not self.owns_engine:
            await self.initialize()  # the application's engine, on the application's loop
            return
        engine = self._unpooled()
        try:
            async with engine.begin() as conn:
                await self._create_tables(conn)
        finally:
            await engine.dispose()
        self._initialized = True

    async def _create_tables(self, conn: Any) -> None:
        if self.schema:
            await conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
        await conn.run_sync(self.metadata.create_all, checkfirst=True)

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def recorded_output(self, workflow_id: str, step_id: int) -> tuple[bool, str | None]:
        async with self.engine_here().connect() as conn:
            result = await conn.execute(self.spec.select_output(self.outputs, workflow_id, step_id))
            row = result.first()
        return (True, row[0]) if row is not None else (False, None)

    @asynccontextmanager
    async def _session(self, isolation_level: str) -> AsyncIterator[GuardedAsyncSession]:
        session = GuardedAsyncSession(bind=self.engine_here())
        try:
            if self.backend == "postgresql":
                await session.connection(execution_options={"isolation_level": isolation_level})
            token = current_async_session.set(session)
            try:
                yield session
            finally:
                current_async_session.reset(token)
        finally:
            await session.close()

    async def run(
        self,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        isolation_level: str,
        checkpoint: tuple[str, int, Callable[[Any], str]] | None,
    ) -> tuple[Any, str | None]:
        delay = RETRY_FIRST_SEC
        while True:
            try:
                async with self._session(isolation_level) as session:
                    result = await func(*args, **kwargs)
                    output: str | None = None
                    if checkpoint is not None:
                        workflow_id, step_id, serialize = checkpoint
                        output = serialize(result)
                        await session.execute(
                            self.spec.insert_output(self.outputs, workflow_id, step_id, output)
                        )
                    await session.commit_for_the_runtime()
                    return result, output
            except sa.exc.OperationalError as exc:
                if not is_retriable_conflict(exc):
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, RETRY_MAX_SEC)


def require_async_session() -> AsyncSession:
    session = current_async_session.get()
    if session is None:
        raise DBOSNotInTransactionError(
            "ds.sql_session() is only available inside a transaction of an "
            "AsyncSQLAlchemyDatasource"
        )
    return session

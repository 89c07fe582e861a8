"""`AsyncSQLAlchemyDatasource`: the async twin of `SQLAlchemyDatasource`. Imported only when
used (`dbos.AsyncSQLAlchemyDatasource`): SQLAlchemy's asyncio layer needs greenlet, which
`pip install 'dbos-durable[async]'` brings, with aiosqlite for SQLite."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from .._core.async_transactions import run_transaction_async
from .._db.async_application import AsyncDatabase, require_async_session
from . import decorators as _decorators
from .datasource import DatasourceTransactionOptions, datasource_url, refuse_kind

F = TypeVar("F", bound=Callable[..., Any])


class AsyncSQLAlchemyDatasource:
    """The async datasource: `async def` transactions on an async engine (psycopg's async
    mode on PostgreSQL, aiosqlite on SQLite), checkpointed without blocking the event loop."""

    def __init__(self, database: AsyncDatabase, created_engine: bool = True) -> None:
        self._database = database
        self.created_engine = created_engine  # True: the engine is ours to dispose of

    @classmethod
    async def create(
        cls,
        database_url: str | None = None,
        engine_kwargs: dict[str, Any] | None = None,
        engine: AsyncEngine | None = None,
        schema: str | None = "dbos",
        serializer: Any = None,
    ) -> AsyncSQLAlchemyDatasource:
        """`await AsyncSQLAlchemyDatasource.create(url)`: a datasource on `database_url` (or an
        async `engine`), its `datasource_outputs` table created now (in `schema` on
        PostgreSQL)."""
        url = datasource_url(cls.__name__, database_url, engine, serializer)
        datasource = cls(
            AsyncDatabase(url, schema=schema or "dbos", engine=engine, engine_kwargs=engine_kwargs),
            created_engine=engine is None,
        )
        await datasource._database.initialize_unbound()
        return datasource

    @property
    def engine(self) -> AsyncEngine:
        return self._database.engine

    async def run_migrations(self) -> None:
        await self._database.initialize()

    def sql_session(self) -> AsyncSession:
        return require_async_session()

    @overload
    def transaction(self, func: F) -> F: ...

    @overload
    def transaction(
        self, func: None = None, *, name: str | None = None, isolation_level: str = "SERIALIZABLE"
    ) -> Callable[[F], F]: ...

    def transaction(
        self,
        func: F | None = None,
        *,
        name: str | None = None,
        isolation_level: str = "SERIALIZABLE",
    ) -> F | Callable[[F], F]:
        registering: Callable[[F], F] = _decorators.async_transaction(
            isolation_level, name, self._database
        )

        def decorate(target: F) -> F:
            refuse_kind(type(self).__name__, getattr(target, "__func__", target), True)
            return registering(target)

        return decorate if func is None else decorate(func)

    async def run_tx_step_async(
        self,
        ds_options: DatasourceTransactionOptions | None,
        func: Callable[..., Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Run an undecorated coroutine function as one transaction step of this datasource
        (a plain transaction outside any workflow)."""
        refuse_kind(type(self).__name__, func, True)
        options = ds_options or {}
        name = str(options.get("name") or getattr(func, "__qualname__", repr(func)))
        level = options.get("isolation_level", "SERIALIZABLE")
        return await run_transaction_async(name, func, args, kwargs, level, self._database)

    async def dispose(self) -> None:
        await self._database.dispose()

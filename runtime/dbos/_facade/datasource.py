"""`SQLAlchemyDatasource`: upstream 2.31's way to run exactly-once transactions against any
SQLAlchemy database, next to (and like) `@DBOS.transaction` on the application database
(`async_datasource.py` holds the async one).

Each transaction's output commits in the datasource's own `datasource_outputs` table in the
same transaction as the function's SQL, and is then recorded as the workflow's step; a crash
between the two is found on recovery by the output row, so the SQL never runs twice. Outside
any workflow (before `DBOS.launch()` too) a datasource transaction is a plain transaction.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypedDict, TypeVar, overload

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from .._config import normalize_url
from .._core.transactions import run_transaction
from .._db.application import DATASOURCE_OUTPUTS, ApplicationDatabase, require_session
from .._error import DBOSException
from . import decorators as _decorators

F = TypeVar("F", bound=Callable[..., Any])


class DatasourceTransactionOptions(TypedDict, total=False):
    name: str
    isolation_level: str


def datasource_url(kind: str, database_url: str | None, engine: Any, serializer: Any) -> URL:
    """What `create` was given, checked: the database's URL (from the engine, if one)."""
    if serializer is not None:
        raise DBOSException(
            f"{kind}.create(serializer=...) is not supported: a datasource's outputs are the "
            "workflow's steps and use DBOS's serializer (config 'serializer')"
        )
    if engine is None and not database_url:
        raise DBOSException(f"{kind}.create needs database_url= or engine=")
    return engine.url if engine is not None else normalize_url(str(database_url))


def refuse_kind(kind: str, func: Callable[..., Any], wants_coroutine: bool) -> None:
    """A sync datasource runs plain functions, an async one coroutine functions: the other
    kind is refused where it is given (decorated or passed), before anything runs."""
    is_coroutine = inspect.iscoroutinefunction(func)
    if is_coroutine == wants_coroutine:
        return
    name = getattr(func, "__qualname__", repr(func))
    if wants_coroutine:
        raise DBOSException(
            f"{kind} runs coroutine functions (`async def`), but {name} is not a coroutine "
            "function; use SQLAlchemyDatasource for a synchronous one"
        )
    raise DBOSException(
        f"{kind} runs synchronous functions, but {name} is a coroutine function; use "
        "AsyncSQLAlchemyDatasource.run_tx_step_async (or its transaction decorator) for it"
    )


class SQLAlchemyDatasource:
    def __init__(self, database: ApplicationDatabase, created_engine: bool = True) -> None:
        self._database = database
        self.created_engine = created_engine  # True: the engine is ours to dispose of

    @classmethod
    def create(
        cls,
        database_url: str | None = None,
        engine_kwargs: dict[str, Any] | None = None,
        engine: sa.Engine | None = None,
        schema: str | None = "dbos",
        serializer: Any = None,
    ) -> SQLAlchemyDatasource:
        """A datasource on `database_url` (an engine is made for it, with `engine_kwargs`) or
        on an `engine` of the application's own, its `datasource_outputs` table created now
        (in `schema` on PostgreSQL). Outputs are stored with DBOS's serializer, the one its
        steps use."""
        url = datasource_url(cls.__name__, database_url, engine, serializer)
        datasource = cls(
            ApplicationDatabase(
                url,
                schema=schema or "dbos",
                outputs=DATASOURCE_OUTPUTS,
                engine=engine,
                engine_kwargs=engine_kwargs,
            ),
            created_engine=engine is None,
        )
        datasource.run_migrations()
        return datasource

    @property
    def engine(self) -> sa.Engine:
        return self._database.engine

    def run_migrations(self) -> None:
        """Create `datasource_outputs` (done on first use otherwise)."""
        self._database.initialize()

    def sql_session(self) -> Session:
        """The session of the running transaction of this datasource (an AssertionError,
        `DBOSNotInTransactionError`, outside one, as upstream)."""
        return require_session("ds.sql_session()", "a SQLAlchemyDatasource transaction")

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
        """`@ds.transaction` or `@ds.transaction(name=, isolation_level=)`."""
        registering: Callable[[F], F] = _decorators.transaction(
            isolation_level, name, database=self._database
        )

        def decorate(target: F) -> F:
            refuse_kind(type(self).__name__, getattr(target, "__func__", target), False)
            return registering(target)

        return decorate if func is None else decorate(func)

    def run_tx_step(
        self,
        ds_options: DatasourceTransactionOptions | None,
        func: Callable[..., Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Run an undecorated function as one transaction step of this datasource (a plain
        transaction outside any workflow)."""
        refuse_kind(type(self).__name__, func, False)
        options = ds_options or {}
        name = str(options.get("name") or getattr(func, "__qualname__", repr(func)))
        level = options.get("isolation_level", "SERIALIZABLE")
        return run_transaction(name, func, args, kwargs, level, self._database)

    def dispose(self) -> None:
        self._database.dispose()

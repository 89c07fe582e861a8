"""Rows that `dict(row)` and `row["column"]` accept, as SQLAlchemy 1.x rows did.

DBOS examples written for that era return `dict(result)` from a transaction; SQLAlchemy 2 rows
are plain tuples to `dict()`, which then fails or, worse, builds a wrong dict from two-character
strings. Rows fetched through `DBOS.sql_session` keep tuple behaviour (indexing, unpacking,
equality, `row.column`, `row._mapping`) and add the mapping protocol. A transaction that returns
them gets the same type back on a replay (`CompatRow` lives with the value formats).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy.engine import Result, Row
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session

from .._error import DBOSException
from .._serialization.rows import CompatRow


def compat_row(row: Row[Any]) -> CompatRow:
    return CompatRow(tuple(row), row._fields)


class CompatResult:
    """Wraps a Result so that fetched rows are CompatRows; everything else passes through."""

    def __init__(self, result: Result[Any]) -> None:
        self._result = result

    def _wrap(self, row: Row[Any] | None) -> CompatRow | None:
        return compat_row(row) if row is not None else None

    def fetchone(self) -> CompatRow | None:
        return self._wrap(self._result.fetchone())

    def first(self) -> CompatRow | None:
        return self._wrap(self._result.first())

    def one(self) -> CompatRow:
        return compat_row(self._result.one())

    def one_or_none(self) -> CompatRow | None:
        return self._wrap(self._result.one_or_none())

    def fetchall(self) -> list[CompatRow]:
        return [compat_row(r) for r in self._result.fetchall()]

    def all(self) -> list[CompatRow]:
        return [compat_row(r) for r in self._result.all()]

    def fetchmany(self, size: int | None = None) -> Sequence[CompatRow]:
        return [compat_row(r) for r in self._result.fetchmany(size)]

    def __iter__(self) -> Iterator[CompatRow]:
        return (compat_row(r) for r in self._result)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._result, name)


class CompatSession(Session):
    """The session of one `@DBOS.transaction()`. Its transaction is the runtime's: the output
    checkpoint commits with it, so the function may not commit or roll back on its own."""

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        result = super().execute(*args, **kwargs)
        return CompatResult(result) if getattr(result, "returns_rows", True) else result

    def commit(self) -> None:
        raise _owned_by_the_runtime("commit()")

    def rollback(self) -> None:
        raise _owned_by_the_runtime("rollback()")

    def commit_for_the_runtime(self) -> None:
        super().commit()


class DBOSTransactionControlError(DBOSException, InvalidRequestError):
    """`DBOS.sql_session.commit()` or `.rollback()` inside a transaction function. Also
    SQLAlchemy's `InvalidRequestError`, which upstream raises there."""


def _owned_by_the_runtime(call: str) -> Exception:
    return DBOSTransactionControlError(
        f"DBOS.sql_session.{call} inside a @DBOS.transaction(): the transaction is the "
        "runtime's, which commits it with the step's checkpoint when the function returns "
        "(raise an exception to roll it back). Can't operate on closed transaction inside "
        "context manager."
    )

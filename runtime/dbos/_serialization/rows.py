"""Rows of a query result as a value: what a transaction that returns rows gives its caller on
a replay, and what `DBOS.sql_session` hands out (`_db/rows.py`) on the first run, so both runs
see the same type.

A `CompatRow` is a tuple of the row's values (indexing, unpacking, equality with tuples, a JSON
array to FastAPI) that also knows its column names: `row.name`, `row["name"]`, `row._mapping`,
`row._asdict()`, `row._fields`, and `dict(row)` as SQLAlchemy 1.x rows allowed. Stored as the
tagged object `{"__dbos__": "row", "fields": [...], "v": [...]}`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class CompatRow(tuple[Any, ...]):
    _fields: tuple[str, ...]

    def __new__(cls, values: Iterable[Any], fields: Iterable[str]) -> CompatRow:
        made = super().__new__(cls, tuple(values))
        names = tuple(str.__str__(f) for f in fields)  # plain str, not quoted_name
        if len(names) != len(made):
            raise ValueError(f"a row of {len(made)} values cannot have {len(names)} column names")
        made._fields = names
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (CompatRow, (tuple(self), self._fields))

    def keys(self) -> list[str]:
        return list(self._fields)

    @property
    def _mapping(self) -> dict[str, Any]:
        return dict(zip(self._fields, self, strict=True))

    def _asdict(self) -> dict[str, Any]:
        return self._mapping

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._fields.index(key))
            except ValueError:
                raise KeyError(key) from None
        return tuple.__getitem__(self, key)

    def __getattr__(self, name: str) -> Any:
        fields = self.__dict__.get("_fields", ())
        if name in fields:
            return tuple.__getitem__(self, fields.index(name))
        raise AttributeError(name)

"""Every statement the runtime sends, written once with `:name` parameters and `{s}` for the schema.

One module per area (`workflows`, `steps`, ...). A thin per-dialect renderer turns them into the
DBAPI's parameter style. Keeping the SQL in one place (rather than spread over the code that
calls it) is what lets a reviewer check the hot path at a glance: a step on a fresh run is
exactly `steps.RECORD_STEP`.
"""

from __future__ import annotations

import hashlib
import re
from types import ModuleType

_PARAM = re.compile(r"(?<!:):([a-zA-Z_][a-zA-Z0-9_]*)")
_DIALECT_ONLY = re.compile(r"\{(postgresql|sqlite):([^{}]*)\}")


def render(sql: str, backend: str, schema: str | None) -> str:
    """Substitute the schema prefix, `{seq}` (a workflow row's enqueue order), `{fence}` (a
    subquery kept apart), `{postgresql:TEXT}` and `{sqlite:TEXT}` (TEXT on that dialect only,
    nothing on the other: a row lock, a longer row comparison, a dialect's way to one count;
    TEXT may hold the substitutions above), and convert `:name` to psycopg's `%(name)s` where
    needed."""
    prefix = f'"{schema}".' if (schema and backend == "postgresql") else ""
    out = sql.replace("{s}", prefix)
    out = out.replace("{seq}", "seq" if backend == "postgresql" else "rowid")
    # A subquery the planner must not merge into its parent (each one's spelling of it).
    out = out.replace("{fence}", "OFFSET 0" if backend == "postgresql" else "LIMIT -1 OFFSET 0")
    out = _DIALECT_ONLY.sub(lambda m: m.group(2) if m.group(1) == backend else "", out)
    if backend == "postgresql":
        out = out.replace("%", "%%")
        out = _PARAM.sub(r"%(\1)s", out)
    return out


def advisory_lock_key(name: str) -> int:
    """A PostgreSQL advisory lock's key for `name`: 64 bits of its hash, so processes agree."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def in_list(sql: str, backend: str, values: list[str]) -> tuple[str, dict[str, str]]:
    """Fill a rendered statement's `{ids}` with one parameter per value."""
    names = [f"id{i}" for i in range(len(values))]
    marks = ", ".join(f"%({n})s" if backend == "postgresql" else f":{n}" for n in names)
    return sql.replace("{ids}", marks), dict(zip(names, values, strict=True))


def _areas() -> list[ModuleType]:
    from . import (
        inspection,
        messages,
        queue_definitions,
        queues,
        replay,
        retention,
        schedules,
        steps,
        versions,
        workflows,
    )

    return [
        workflows,
        steps,
        messages,
        queues,
        queue_definitions,
        schedules,
        retention,
        inspection,
        replay,
        versions,
    ]


class Statements:
    """Every area's statements rendered for one dialect, looked up by attribute
    (`sql.RECORD_STEP`); a name defined in two areas is refused, so none shadows another."""

    def __init__(self, backend: str, schema: str | None) -> None:
        for area in _areas():
            for name in dir(area):
                value = getattr(area, name)
                if name.startswith("_") or not (name.isupper() and isinstance(value, str)):
                    continue
                if name in self.__dict__:
                    raise RuntimeError(f"SQL statement {name} is defined in two areas")
                setattr(self, name, render(value, backend, schema))

    def __getattr__(self, name: str) -> str:
        # Declares the attributes set in __init__ as str for the type checker; at run time it
        # is reached only for a name no area defines.
        raise AttributeError(name)

"""Recognising a system database written by upstream DBOS 2.x, and what to check before
converting it: whether upstream processes still use it, and which application versions hold
its work in flight.

Both projects keep a version number in a table called `dbos_migrations`, so the number alone
says nothing. Upstream's schema is told apart by its shape: every upstream 2.x schema has a
`request` column on `workflow_status` (from its first migration on; 2.x never writes it) and
an `"offset"` column on `streams`; no schema of ours has either, and converting removes both.
Upstream numbers its migrations separately for PostgreSQL and SQLite (its SQLite list skips
the PostgreSQL-only ones, and both were padded to a shared base of 100 in 2.30, hence 108), so
its version is reported together with the backend; the conversion itself follows the columns
it finds, not the number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from .records import now_ms
from .sql import render
from .sql import upstream as sql

# Upstream releases by the schema version they leave, per backend: for messages only.
_RELEASES = {
    "postgresql": {
        1: "2.0-2.1",
        2: "2.2-2.3",
        5: "2.4",
        6: "2.5-2.6",
        7: "2.7-2.10",
        8: "2.11-2.12",
        10: "2.13",
        13: "2.14",
        15: "2.15",
        18: "2.16",
        19: "2.17-2.19",
        35: "2.20-2.22",
        39: "2.23-2.24",
        41: "2.25-2.26",
        42: "2.27",
        44: "2.28",
        47: "2.29",
        107: "2.30",
        108: "2.31",
    },
    "sqlite": {
        1: "2.0-2.1",
        2: "2.2-2.3",
        5: "2.4",
        6: "2.5-2.7",
        7: "2.8-2.10",
        8: "2.11-2.12",
        9: "2.13",
        12: "2.14",
        13: "2.15",
        16: "2.16",
        17: "2.17-2.19",
        32: "2.20-2.22",
        34: "2.23-2.24",
        36: "2.25-2.26",
        37: "2.27-2.28",
        40: "2.29",
        107: "2.30",
        108: "2.31",
    },
}

# Writes this recent mean an upstream process may still be running against the database.
DEFAULT_QUIET_SEC = 60.0


@dataclass
class UpstreamDatabase:
    """An upstream system database as found: its version and its tables' columns."""

    backend: str
    schema: str | None
    version: int
    columns: dict[str, set[str]] = field(default_factory=dict)

    @property
    def releases(self) -> str:
        """The upstream releases that leave this schema version, for messages."""
        known = _RELEASES.get(self.backend, {}).get(self.version)
        return f"dbos {known}" if known else "an unreleased or newer upstream dbos"

    def describe(self) -> str:
        db = "PostgreSQL" if self.backend == "postgresql" else "SQLite"
        return f"upstream DBOS {db} schema version {self.version} ({self.releases})"

    def has(self, table: str, column: str | None = None) -> bool:
        if table not in self.columns:
            return False
        return column is None or column in self.columns[table]


def detect(conn: sa.Connection, backend: str, schema: str | None) -> UpstreamDatabase | None:
    """The upstream database behind `conn`, or None when it is ours, empty, or not DBOS."""
    inspector = sa.inspect(conn)
    tables = set(inspector.get_table_names(schema=schema))
    if "dbos_migrations" not in tables or "workflow_status" not in tables:
        return None

    def columns_of(name: str) -> set[str]:
        return {c["name"] for c in inspector.get_columns(name, schema=schema)}

    marked = "request" in columns_of("workflow_status")
    if not marked and not ("streams" in tables and "offset" in columns_of("streams")):
        return None  # ours: two catalogue reads at launch, nothing more
    columns = {name: columns_of(name) for name in tables}
    prefix = f'"{schema}".' if schema and backend == "postgresql" else ""
    version = conn.exec_driver_sql(f"SELECT MAX(version) FROM {prefix}dbos_migrations").scalar()
    return UpstreamDatabase(backend, schema, int(version or 0), columns)


def _run(
    conn: sa.Connection, found: UpstreamDatabase, statement: str, **params: object
) -> list[Sequence[object]]:
    text = render(statement, found.backend, found.schema)
    return [tuple(r) for r in conn.exec_driver_sql(text, params or {}).all()]


def signs_of_life(
    conn: sa.Connection, found: UpstreamDatabase, quiet_sec: float = DEFAULT_QUIET_SEC
) -> list[str]:
    """Why upstream processes may still be using the database (empty when nothing says so):
    a write within `quiet_sec`, or (PostgreSQL) other sessions connected to it. Upstream keeps
    no heartbeat table, so these are the traces a running process leaves."""
    reasons: list[str] = []
    step_times = sql.STEP_TIMES if found.has("operation_outputs", "started_at_epoch_ms") else ""
    now = now_ms()
    last = _run(conn, found, sql.LAST_WRITE.replace("{step_times}", step_times), now=now)[0][0]
    if last is not None:
        age_sec = (now - int(float(str(last)))) / 1000
        if age_sec < quiet_sec:
            reasons.append(f"its last write was {max(age_sec, 0):.0f}s ago")
    if found.backend == "postgresql":
        sessions = _run(conn, found, sql.PG_OTHER_SESSIONS)
        if sessions:
            shown = "; ".join(
                f"{app} from {addr} ({state}: {query!s:.40})"
                for app, addr, state, query in sessions[:3]
            )
            more = f" and {len(sessions) - 3} more" if len(sessions) > 3 else ""
            reasons.append(f"{len(sessions)} other session(s) are connected: {shown}{more}")
    return reasons


@dataclass(frozen=True)
class InFlight:
    """Workflows not finished, by the application version that owns them."""

    version: str | None
    pending: int
    enqueued: int
    delayed: int

    def describe(self) -> str:
        parts = [
            f"{n} {what}"
            for n, what in (
                (self.pending, "PENDING"),
                (self.enqueued, "ENQUEUED"),
                (self.delayed, "DELAYED"),
            )
            if n
        ]
        name = repr(self.version) if self.version else "no version (any worker takes them)"
        return f"{name}: {', '.join(parts)}"


def in_flight(conn: sa.Connection, backend: str, schema: str | None) -> list[InFlight]:
    """Unfinished workflows grouped by application version (works on either schema)."""
    text = render(sql.IN_FLIGHT_BY_VERSION, backend, schema)
    counts: dict[str | None, dict[str, int]] = {}
    for version, status, count in conn.exec_driver_sql(text).all():
        counts.setdefault(version or None, {})[str(status)] = int(count)
    return [
        InFlight(v, c.get("PENDING", 0), c.get("ENQUEUED", 0), c.get("DELAYED", 0))
        for v, c in sorted(counts.items(), key=lambda item: (item[0] is None, item[0] or ""))
    ]

"""Schema migrations: each one brings a database from the version before it to its own.

A fresh database is created at the current version in one step from `schema.build_metadata`
(plus PostgreSQL's triggers); an existing one runs every migration above its stamp, in order,
inside the transaction that `setup` holds, and is stamped after each. A migration creates new
tables from the same metadata, so a migrated database and a fresh one cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from .triggers import wake_trigger_ddl


@dataclass(frozen=True)
class MigrationContext:
    conn: sa.Connection
    backend: str
    schema: str | None
    metadata: sa.MetaData

    def table(self, name: str) -> sa.Table:
        key = f"{self.schema}.{name}" if self.schema else name
        return self.metadata.tables[key]

    def run_ddl(self, statements: list[str]) -> None:
        for statement in statements:
            self.conn.exec_driver_sql(statement)

    def create_tables(self, *names: str) -> None:
        for name in names:
            self.table(name).create(self.conn)

    def install_wake_triggers(self) -> None:
        if self.backend == "postgresql" and self.schema is not None:
            self.run_ddl(wake_trigger_ddl(self.schema))


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[MigrationContext], None]


def _messages_events_streams(ctx: MigrationContext) -> None:
    # Version 1 defined a notifications table but had no way to send: it is always empty, so it
    # is replaced rather than altered (SQLite cannot add the ordered key to an existing table).
    ctx.conn.execute(sa.schema.DropTable(ctx.table("notifications"), if_exists=True))
    ctx.create_tables("notifications", "workflow_events_history", "streams")
    ctx.install_wake_triggers()


MIGRATIONS: list[Migration] = [
    Migration(
        2, "ordered messages, event history, streams, wake-up triggers", _messages_events_streams
    ),
]


def pending(from_version: int) -> list[Migration]:
    return [m for m in MIGRATIONS if m.version > from_version]

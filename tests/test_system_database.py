"""The system database: durability settings, creation and schema stamping."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from dbos import DBOS
from dbos._config import normalize_url
from dbos._db.schema import SCHEMA_VERSION
from dbos._db.system import SystemDatabase
from dbos.error import DBOSInitializationError


@pytest.mark.parametrize(("setting", "expected"), [(None, 2), ("NORMAL", 1), ("FULL", 2)])
def test_sqlite_runs_wal_with_full_sync_by_default(
    tmp_path: Path, setting: str | None, expected: int
) -> None:
    sysdb = SystemDatabase(
        normalize_url(f"sqlite:///{tmp_path}/s.sqlite"),
        sqlite_synchronous=setting or "FULL",
    )
    sysdb.setup.initialize()
    try:
        with sysdb.connection() as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("PRAGMA synchronous").fetchone()[0] == expected
    finally:
        sysdb.dispose()


def test_bad_sqlite_synchronous_setting_is_refused() -> None:
    DBOS.destroy()
    with pytest.raises(DBOSInitializationError, match="sqlite_synchronous"):
        DBOS(config={"name": "x", "sqlite_synchronous": "OFF"})


def test_database_is_created_and_stamped_once(system_database_url: str) -> None:
    for _ in range(2):  # the second open finds the schema and leaves it alone
        sysdb = SystemDatabase(normalize_url(system_database_url))
        sysdb.setup.initialize()
        sysdb.dispose()
    engine = sa.create_engine(normalize_url(system_database_url))
    schema = "dbos" if engine.dialect.name == "postgresql" else None
    try:
        inspector = sa.inspect(engine)
        tables = set(inspector.get_table_names(schema=schema))
        assert {"workflow_status", "operation_outputs", "dbos_migrations"} <= tables
        prefix = "dbos." if schema else ""
        with engine.connect() as conn:
            versions = conn.execute(sa.text(f"SELECT version FROM {prefix}dbos_migrations"))
            assert [r[0] for r in versions] == [SCHEMA_VERSION]
    finally:
        engine.dispose()


def test_postgres_url_without_driver_uses_psycopg() -> None:
    url = normalize_url("postgresql://u:p@localhost:5432/db")
    assert url.drivername == "postgresql+psycopg"

"""`dbos migrate` on an upstream DBOS database: what it reports, what it refuses, and that a
conversion killed at any point leaves a database the next `dbos migrate` finishes."""

from __future__ import annotations

import random
import signal
import subprocess
import time

import psycopg
import pytest
import sqlalchemy as sa
from conftest import query_system_sql, run_system_sql
from support.upstream_db import RELEASES, load
from test_admin_cli import dbos_command, one_line_error, run_dbos

from dbos._config import normalize_url

LATEST = RELEASES[-1]


def test_admin_commands_point_at_migrate(system_database_url: str, backend: str) -> None:
    load(LATEST, backend, system_database_url)
    error = one_line_error(run_dbos("workflow", "list", url=system_database_url, check=False))
    assert "upstream DBOS" in error and "dbos migrate" in error


def test_migrate_refuses_a_live_upstream_database_unless_forced(
    system_database_url: str, backend: str
) -> None:
    load(LATEST, backend, system_database_url)
    run_system_sql(
        system_database_url,
        f"UPDATE {{prefix}}workflow_status SET updated_at = {int(time.time() * 1000)} "
        "WHERE workflow_uuid = 'waiter-wf'",
    )
    refused = one_line_error(run_dbos("migrate", url=system_database_url, check=False))
    assert "may still be using" in refused and "--force" in refused
    version = query_system_sql(
        system_database_url,
        "SELECT application_version FROM {prefix}workflow_status "
        "WHERE workflow_uuid = 'sleeper-wf'",
    )[0][0]
    done = run_dbos("migrate", "--force", url=system_database_url)
    assert "converted upstream DBOS" in done.stdout
    assert f"'{version}': 3 PENDING" in done.stdout
    assert "pin application_version" in done.stdout
    # Converted: the admin commands now read it.
    listed = run_dbos("workflow", "list", "--json", url=system_database_url)
    assert "finished-wf" in listed.stdout


_BULK = {
    "sqlite": [
        """WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows)
        INSERT INTO workflow_status (workflow_uuid, status, name, inputs, output, serialization,
            executor_id, created_at, updated_at, application_version, recovery_attempts)
        SELECT 'bulk-' || i, 'SUCCESS', 'finished_wf', inputs, output, serialization,
            'local', created_at, updated_at, application_version, 1
        FROM n, workflow_status WHERE workflow_uuid = 'finished-wf'""",
        """INSERT INTO operation_outputs (workflow_uuid, function_id, function_name, output,
            serialization)
        SELECT workflow_uuid, 1, 'double', 'gARLKi4=', 'py_pickle' FROM workflow_status
        WHERE workflow_uuid LIKE 'bulk-%'""",
        """INSERT INTO notifications (message_uuid, destination_uuid, topic, message,
            created_at_epoch_ms, serialization, consumed)
        SELECT 'm-' || workflow_uuid, workflow_uuid, 'note', 'gASVCQAAAAAAAACMBWhlbGxvlC4=',
            created_at, 'py_pickle', 0
        FROM workflow_status WHERE workflow_uuid LIKE 'bulk-%'""",
    ],
    "postgres": [
        """INSERT INTO dbos.workflow_status (workflow_uuid, status, name, inputs, output,
            serialization, executor_id, created_at, updated_at, application_version,
            recovery_attempts)
        SELECT 'bulk-' || i, 'SUCCESS', 'finished_wf', inputs, output, serialization,
            'local', created_at, updated_at, application_version, 1
        FROM generate_series(1, %(rows)s) i, dbos.workflow_status
        WHERE workflow_uuid = 'finished-wf'""",
        """INSERT INTO dbos.operation_outputs (workflow_uuid, function_id, function_name, output,
            serialization)
        SELECT workflow_uuid, 1, 'double', 'gARLKi4=', 'py_pickle' FROM dbos.workflow_status
        WHERE workflow_uuid LIKE 'bulk-%%'""",
        """INSERT INTO dbos.notifications (message_uuid, destination_uuid, topic, message,
            created_at_epoch_ms, serialization, consumed)
        SELECT 'm-' || workflow_uuid, workflow_uuid, 'note', 'gASVCQAAAAAAAACMBWhlbGxvlC4=',
            created_at, 'py_pickle', false
        FROM dbos.workflow_status WHERE workflow_uuid LIKE 'bulk-%%'""",
    ],
}


def _bulk_up(url: str, backend: str, rows: int) -> None:
    engine = sa.create_engine(normalize_url(url))
    try:
        with engine.begin() as conn:
            for statement in _BULK[backend]:
                conn.exec_driver_sql(statement, {"rows": rows})
    finally:
        engine.dispose()


def _state(url: str) -> str:
    """'upstream' or 'ours': never anything in between."""
    columns = query_system_sql(url, "SELECT * FROM {prefix}workflow_status LIMIT 0")
    del columns
    engine = sa.create_engine(normalize_url(url))
    try:
        inspector = sa.inspect(engine)
        schema = "dbos" if engine.dialect.name == "postgresql" else None
        names = {c["name"] for c in inspector.get_columns("workflow_status", schema=schema)}
        tables = set(inspector.get_table_names(schema=schema))
    finally:
        engine.dispose()
    versions = [r[0] for r in query_system_sql(url, "SELECT version FROM {prefix}dbos_migrations")]
    if "request" in names:
        assert versions == [108] and "executors" not in tables, (versions, tables)
        return "upstream"
    assert "executors" in tables and max(versions) >= 6, (versions, tables)  # type: ignore[type-var]
    return "ours"


def _counts(url: str) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        int(str(query_system_sql(url, f"SELECT COUNT(*) FROM {{prefix}}{t}")[0][0]))
        for t in ("workflow_status", "operation_outputs", "notifications")
    )


def _start_migrate(url: str) -> subprocess.Popen[str]:
    import os

    env = {k: v for k, v in os.environ.items() if k != "DBOS_SYSTEM_DATABASE_URL"}
    env["DBOS_SYSTEM_DATABASE_URL"] = url
    return subprocess.Popen(
        [*dbos_command(), "migrate", "--force"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_a_conversion_killed_at_any_point_is_finished_by_the_next_migrate(
    system_database_url: str, backend: str
) -> None:
    load(LATEST, backend, system_database_url)
    _bulk_up(system_database_url, backend, 20000)
    before = _counts(system_database_url)
    # How long a whole run takes here (interpreter start included), on a copy.
    started = time.monotonic()
    with _copy(system_database_url, backend) as copy_url:
        done = _start_migrate(copy_url)
        assert done.wait(timeout=300) == 0, done.stderr and done.stderr.read()
    took = time.monotonic() - started
    rng = random.Random(21)
    killed_mid_run = 0
    for _ in range(6):
        if _state(system_database_url) == "ours":
            break
        run = _start_migrate(system_database_url)
        time.sleep(rng.uniform(0.3, 0.95) * took)
        run.send_signal(signal.SIGKILL)
        code = run.wait(timeout=60)
        killed_mid_run += code == -signal.SIGKILL
        _state(system_database_url)  # asserts: upstream's, untouched, or wholly ours
    assert killed_mid_run >= 1
    run_dbos("migrate", url=system_database_url)
    assert _state(system_database_url) == "ours"
    assert _counts(system_database_url) == before


class _copy:
    """A copy of the database to time a conversion on (a file copy; a template database)."""

    def __init__(self, url: str, backend: str) -> None:
        self.url, self.backend = url, backend

    def __enter__(self) -> str:
        if self.backend == "sqlite":
            import shutil

            path = sa.make_url(self.url).database
            assert path
            shutil.copy(path, path + ".copy")
            self.copy = self.url + ".copy"
            return self.copy
        plain = sa.make_url(normalize_url(self.url)).set(drivername="postgresql")
        self.name = f"{plain.database}_copy"
        admin = plain.set(database="postgres").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}" TEMPLATE "{plain.database}"')
        self.admin = admin
        self.copy = plain.set(database=self.name).render_as_string(hide_password=False)
        return self.copy

    def __exit__(self, *exc: object) -> None:
        if self.backend == "sqlite":
            import os

            os.remove(sa.make_url(self.copy).database or "")
            return
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

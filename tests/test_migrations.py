"""Schema migrations: a database made by an older dbos-durable is brought up to date in place."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from dbos._config import normalize_url
from dbos._db.databases import create_database_if_missing
from dbos._db.migrations import MIGRATIONS
from dbos._db.schema import SCHEMA_VERSION
from dbos._db.system import SystemDatabase

FIXTURES = Path(__file__).resolve().parent / "fixtures"


# The two status indexes as version 11 made them (queued rows included).
_VERSION_11_STATUS_INDEXES = (
    "DROP INDEX dbos.workflow_status_queue_status_index",
    "CREATE INDEX workflow_status_queue_status_index ON dbos.workflow_status (queue_name, status)",
    "DROP INDEX dbos.workflow_status_partition_index",
    "CREATE INDEX workflow_status_partition_index ON dbos.workflow_status "
    "(queue_name, queue_partition_key, status) WHERE queue_partition_key IS NOT NULL",
)


def _trigger_definition(conn: sa.Connection, name: str) -> str:
    """PostgreSQL's text of the trigger `name` (its WHEN condition included)."""
    return str(
        conn.exec_driver_sql(
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = %(name)s", {"name": name}
        ).scalar_one()
    )


def _index_definition(conn: sa.Connection, name: str) -> str:
    return str(
        conn.exec_driver_sql(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %(name)s", {"name": name}
        ).scalar_one()
    )


def _stage_v1(url: str, backend: str, version: int = 1) -> sa.Engine:
    engine = sa.create_engine(normalize_url(url))
    if backend == "postgres":
        # The system database must exist before the old schema can be loaded into it.
        create_database_if_missing(normalize_url(url), "system database")
    ddl = (FIXTURES / f"schema_v{version}_{backend}.sql").read_text()
    prefix = "dbos." if backend == "postgres" else ""
    with engine.begin() as conn:
        for statement in ddl.split(";"):
            lines = [ln for ln in statement.splitlines() if not ln.startswith("--")]
            if "".join(lines).strip():
                conn.exec_driver_sql("\n".join(lines))
        conn.exec_driver_sql(
            f"INSERT INTO {prefix}workflow_status (workflow_uuid, status, name, created_at, "
            "updated_at) VALUES ('old-wf', 'SUCCESS', 'old_workflow', 1, 1)"
        )
    return engine


def test_version_1_database_is_migrated_and_keeps_its_rows(
    system_database_url: str, backend: str
) -> None:
    engine = _stage_v1(system_database_url, backend)
    schema = "dbos" if backend == "postgres" else None
    prefix = "dbos." if schema else ""
    try:
        sysdb = SystemDatabase(normalize_url(system_database_url))
        sysdb.setup.initialize()
        sysdb.dispose()
        inspector = sa.inspect(engine)
        tables = set(inspector.get_table_names(schema=schema))
        assert {
            "streams",
            "workflow_events_history",
            "notifications",
            "executors",
            "queues",
        } <= tables
        indexes = {i["name"] for i in inspector.get_indexes("workflow_status", schema=schema)}
        assert {"workflow_status_enqueued_index", "workflow_status_dedup_index"} <= indexes
        columns = {c["name"] for c in inspector.get_columns("notifications", schema=schema)}
        assert {"seq", "message_uuid", "topic"} <= columns
        with engine.connect() as conn:
            versions = [
                r[0] for r in conn.exec_driver_sql(f"SELECT version FROM {prefix}dbos_migrations")
            ]
            # Stamped once per migration run (numbers reserved for other work may be absent).
            assert sorted(versions) == [1, *(m.version for m in MIGRATIONS)]
            assert max(versions) == SCHEMA_VERSION
            kept = conn.exec_driver_sql(f"SELECT name FROM {prefix}workflow_status").all()
            assert [r[0] for r in kept] == ["old_workflow"]
            if backend == "postgres":
                triggers = {
                    r[0]
                    for r in conn.exec_driver_sql(
                        "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'dbos_wake_%%'"
                    )
                }
                assert triggers == {
                    "dbos_wake_message",
                    "dbos_wake_event",
                    "dbos_wake_stream",
                    "dbos_wake_final",
                    "dbos_wake_enqueued",
                    "dbos_wake_queue_slot",
                    "dbos_wake_queues",
                }
        # A second open finds nothing to do.
        sysdb = SystemDatabase(normalize_url(system_database_url))
        sysdb.setup.initialize()
        sysdb.dispose()
    finally:
        engine.dispose()


def test_version_6_database_gains_registered_queues_and_keeps_its_rows(
    system_database_url: str, backend: str
) -> None:
    """Version 7: the queues table becomes a superset of upstream's (its declared queues are
    marked so), rows gain their fair order, and PostgreSQL gains the SQL functions."""
    engine = _stage_v1(system_database_url, backend, version=6)
    prefix = "dbos." if backend == "postgres" else ""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"INSERT INTO {prefix}queues (name, concurrency, worker_concurrency, "
            "priority_enabled, partition_queue, updated_at) VALUES ('old_q', 3, 2, false, "
            "false, 1234)"
        )
        conn.exec_driver_sql(
            f"INSERT INTO {prefix}workflow_status (workflow_uuid, status, name, queue_name, "
            "created_at, updated_at) VALUES ('queued-wf', 'ENQUEUED', 'old_workflow', 'old_q', "
            "1, 1)"
        )
    try:
        sysdb = SystemDatabase(normalize_url(system_database_url))
        sysdb.setup.initialize()
        sysdb.dispose()
        with engine.connect() as conn:
            versions = [
                r[0] for r in conn.exec_driver_sql(f"SELECT version FROM {prefix}dbos_migrations")
            ]
            assert sorted(versions) == [1, *(m.version for m in MIGRATIONS)]
            queue = conn.exec_driver_sql(
                f"SELECT concurrency, worker_concurrency, declared_in_code, created_at, "
                f"polling_interval_sec, partition_concurrency FROM {prefix}queues"
            ).one()
            assert tuple(queue) == (3, 2, True, 1234, 1.0, None)
            kept = conn.exec_driver_sql(
                f"SELECT workflow_uuid, status, partition_round FROM {prefix}workflow_status"
            ).all()
            assert sorted(tuple(r) for r in kept) == [
                ("old-wf", "SUCCESS", 0),  # staged with every old schema
                ("queued-wf", "ENQUEUED", 0),
            ]
            if backend == "postgres":
                functions = {
                    r[0]
                    for r in conn.exec_driver_sql(
                        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n "
                        "ON n.oid = p.pronamespace WHERE n.nspname = 'dbos'"
                    )
                }
                assert {"enqueue_workflow", "send_message", "dbos_wake_queues"} <= functions
        schema = "dbos" if backend == "postgres" else None
        indexes = {i["name"] for i in sa.inspect(engine).get_indexes("workflow_status", schema)}
        assert {
            "workflow_status_enqueued_index",
            "workflow_status_partition_queued_index",
            "workflow_status_partition_started_index",
        } <= indexes
        columns = {c["name"] for c in sa.inspect(engine).get_columns("queues", schema)}
        upstream = {
            "queue_id", "name", "concurrency", "worker_concurrency", "rate_limit_max",
            "rate_limit_period_sec", "priority_enabled", "partition_queue",
            "partition_concurrency", "partition_worker_concurrency", "partition_rate_limit_max",
            "partition_rate_limit_period_sec", "polling_interval_sec", "created_at",
            "updated_at", "application_name",
        }  # fmt: skip
        assert upstream <= columns
    finally:
        engine.dispose()


def test_version_7_schedules_carry_over_into_workflow_schedules(
    system_database_url: str, backend: str
) -> None:
    """Version 8: the `schedules` table of @DBOS.scheduled becomes upstream's
    `workflow_schedules` (a schedule that fired and one that has not), workflows gain
    `schedule_name` and processes the workflows they registered; the rows stay."""
    engine = _stage_v1(system_database_url, backend, version=7)
    schema = "dbos" if backend == "postgres" else None
    prefix = "dbos." if schema else ""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"INSERT INTO {prefix}workflow_status (workflow_uuid, status, name, created_at, "
            "updated_at) VALUES ('sched-nightly-2026-01-01T02:00:00+00:00', 'SUCCESS', "
            "'nightly', 1, 1)"
        )
        conn.exec_driver_sql(
            f"INSERT INTO {prefix}schedules (name, cron, queue_name, last_fired_at, updated_at) "
            "VALUES ('nightly', '0 2 * * *', '_dbos_internal_queue', 1767232800000, 5), "
            "('hourly', '0 * * * *', 'reports', NULL, 6)"
        )
        conn.exec_driver_sql(
            f"INSERT INTO {prefix}executors (instance_id, executor_id, started_at, heartbeat_at) "
            "VALUES ('i1', 'local', 1, 1)"
        )
    try:
        sysdb = SystemDatabase(normalize_url(system_database_url))
        sysdb.setup.initialize()
        try:
            nightly = sysdb.schedules.get_schedule("nightly")
            hourly = sysdb.schedules.get_schedule("hourly")
        finally:
            sysdb.dispose()
        assert nightly is not None and hourly is not None
        assert (nightly.workflow_name, nightly.schedule, nightly.source) == (
            "nightly",
            "0 2 * * *",
            "decorator",
        )
        assert nightly.status == "ACTIVE" and nightly.queue_name == "_dbos_internal_queue"
        # The last tick fired, kept (now in upstream's ISO form); the next is computed by the
        # first scheduler to look, from it.
        assert nightly.last_fired_at == "2026-01-01T02:00:00+00:00"
        assert nightly.next_tick_at is None
        assert hourly.last_fired_at is None and hourly.queue_name == "reports"
        inspector = sa.inspect(engine)
        assert "schedules" not in set(inspector.get_table_names(schema=schema))
        columns = {c["name"] for c in inspector.get_columns("workflow_status", schema=schema)}
        assert "schedule_name" in columns
        columns = {c["name"] for c in inspector.get_columns("executors", schema=schema)}
        assert "workflow_names" in columns
        with engine.connect() as conn:
            kept = conn.exec_driver_sql(
                f"SELECT workflow_uuid, schedule_name FROM {prefix}workflow_status"
            ).all()
            assert sorted(tuple(r) for r in kept) == [
                ("old-wf", None),  # staged with every old schema
                ("sched-nightly-2026-01-01T02:00:00+00:00", None),
            ]
            executors = conn.exec_driver_sql(f"SELECT instance_id FROM {prefix}executors").all()
            assert [r[0] for r in executors] == ["i1"]
            versions = [
                r[0] for r in conn.exec_driver_sql(f"SELECT version FROM {prefix}dbos_migrations")
            ]
            assert max(versions) == SCHEMA_VERSION
    finally:
        engine.dispose()


def test_version_8_database_gains_the_batch_enqueue_notify_and_keeps_its_rows(
    system_database_url: str, backend: str
) -> None:
    """Version 9 (PostgreSQL): the row trigger that wakes dispatchers on an enqueue stands
    aside in a batch enqueue's transaction, which notifies once itself. A version-8 database
    (today's schema with version 8's trigger) is brought up to it and keeps its rows."""
    sysdb = SystemDatabase(normalize_url(system_database_url))
    sysdb.setup.initialize()
    sysdb.dispose()
    engine = sa.create_engine(normalize_url(system_database_url))
    prefix = "dbos." if backend == "postgres" else ""

    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DELETE FROM {prefix}dbos_migrations WHERE version >= 9")
            # What version 10 adds, which a version-8 database lacks too.
            conn.exec_driver_sql(f"DROP TABLE {prefix}application_versions")
            conn.exec_driver_sql(f"DROP INDEX {prefix}workflow_status_forked_from_index")
            if not conn.exec_driver_sql(f"SELECT 1 FROM {prefix}dbos_migrations").first():
                conn.exec_driver_sql(f"INSERT INTO {prefix}dbos_migrations (version) VALUES (8)")
            conn.exec_driver_sql(
                f"INSERT INTO {prefix}workflow_status (workflow_uuid, status, name, queue_name, "
                "created_at, updated_at) VALUES ('queued-v8', 'ENQUEUED', 'old', 'q8', 1, 1)"
            )
            if backend == "postgres":  # version 8's trigger, as that version created it
                conn.exec_driver_sql(
                    "DROP TRIGGER dbos_wake_enqueued ON dbos.workflow_status; "
                    "CREATE TRIGGER dbos_wake_enqueued AFTER INSERT ON dbos.workflow_status "
                    "FOR EACH ROW WHEN (NEW.status = 'ENQUEUED') "
                    "EXECUTE FUNCTION dbos.dbos_wake_enqueued()"
                )
                assert "batch_enqueue" not in _trigger_definition(conn, "dbos_wake_enqueued")
        sysdb = SystemDatabase(normalize_url(system_database_url))
        sysdb.setup.initialize()
        sysdb.dispose()
        with engine.connect() as conn:
            versions = [
                r[0] for r in conn.exec_driver_sql(f"SELECT version FROM {prefix}dbos_migrations")
            ]
            assert max(versions) == SCHEMA_VERSION >= 9
            kept = conn.exec_driver_sql(
                f"SELECT status, queue_name FROM {prefix}workflow_status "
                "WHERE workflow_uuid = 'queued-v8'"
            ).one()
            assert tuple(kept) == ("ENQUEUED", "q8")
            if backend == "postgres":
                assert "current_setting('dbos.batch_enqueue'" in _trigger_definition(
                    conn, "dbos_wake_enqueued"
                )
    finally:
        engine.dispose()


def test_version_9_database_gains_application_versions_and_keeps_its_rows(
    system_database_url: str, backend: str
) -> None:
    """Version 10 adds the application versions table and an index of forks: a database of the
    version before it (made here by the current code, less those, stamped 9) is migrated in
    place, its workflows kept and its launches registered from then on."""
    from dbos import DBOS

    sysdb = SystemDatabase(normalize_url(system_database_url))
    sysdb.setup.initialize()
    sysdb.dispose()
    schema = "dbos" if backend == "postgres" else None
    prefix = "dbos." if schema else ""
    engine = sa.create_engine(normalize_url(system_database_url))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE {prefix}application_versions")
            conn.exec_driver_sql(f"DROP INDEX {prefix}workflow_status_forked_from_index")
            conn.exec_driver_sql(f"DELETE FROM {prefix}dbos_migrations")
            conn.exec_driver_sql(f"INSERT INTO {prefix}dbos_migrations (version) VALUES (9)")
            conn.exec_driver_sql(
                f"INSERT INTO {prefix}workflow_status (workflow_uuid, status, name, created_at, "
                "updated_at, forked_from) VALUES ('old-fork', 'SUCCESS', 'old', 1, 1, 'old-wf')"
            )
        DBOS.destroy()
        DBOS(
            config={
                "name": "migrated-app",
                "system_database_url": system_database_url,
                "application_version": "v-after-migration",
            }
        )
        DBOS.launch()
        try:
            assert [v["version_name"] for v in DBOS.list_application_versions()] == [
                "v-after-migration"
            ]
            (kept,) = DBOS.list_workflows(workflow_ids=["old-fork"])
            assert kept.forked_from == "old-wf"
        finally:
            DBOS.destroy()
        inspector = sa.inspect(engine)
        assert "application_versions" in inspector.get_table_names(schema=schema)
        indexes = {i["name"] for i in inspector.get_indexes("workflow_status", schema=schema)}
        assert "workflow_status_forked_from_index" in indexes
        with engine.connect() as conn:
            stamps = conn.exec_driver_sql(f"SELECT version FROM {prefix}dbos_migrations").all()
        assert max(r[0] for r in stamps) == SCHEMA_VERSION
    finally:
        engine.dispose()


def test_version_10_database_gains_the_parked_columns_and_keeps_its_rows(
    system_database_url: str, backend: str
) -> None:
    """Version 11 records what a parked workflow waits for: a database of version 10 (made by
    the current code, less those columns, stamped 10) is migrated in place, its rows kept."""
    sysdb = SystemDatabase(normalize_url(system_database_url))
    sysdb.setup.initialize()
    sysdb.dispose()
    schema = "dbos" if backend == "postgres" else None
    prefix = "dbos." if schema else ""
    engine = sa.create_engine(normalize_url(system_database_url))
    try:
        with engine.begin() as conn:
            for column in ("waiting_for", "waiting_until_epoch_ms"):
                conn.exec_driver_sql(f"ALTER TABLE {prefix}workflow_status DROP COLUMN {column}")
            conn.exec_driver_sql(f"DELETE FROM {prefix}dbos_migrations")
            conn.exec_driver_sql(f"INSERT INTO {prefix}dbos_migrations (version) VALUES (10)")
            conn.exec_driver_sql(
                f"INSERT INTO {prefix}workflow_status (workflow_uuid, status, name, created_at, "
                "updated_at) VALUES ('pending-v10', 'PENDING', 'old', 1, 1)"
            )
        sysdb = SystemDatabase(normalize_url(system_database_url))
        sysdb.setup.initialize()
        sysdb.dispose()
        columns = {c["name"] for c in sa.inspect(engine).get_columns("workflow_status", schema)}
        assert {"waiting_for", "waiting_until_epoch_ms"} <= columns
        with engine.connect() as conn:
            kept = conn.exec_driver_sql(
                f"SELECT status, waiting_for FROM {prefix}workflow_status "
                "WHERE workflow_uuid = 'pending-v10'"
            ).one()
            stamps = conn.exec_driver_sql(f"SELECT version FROM {prefix}dbos_migrations").all()
        assert tuple(kept) == ("PENDING", None)
        assert max(r[0] for r in stamps) == SCHEMA_VERSION >= 11
    finally:
        engine.dispose()


@pytest.mark.postgres_only
def test_version_11_database_stops_notifying_for_handed_off_messages(
    system_database_url: str,
) -> None:
    """Version 12: a message stored consumed (handed to a receive waiting in the sending
    process) sends no NOTIFY, and queued rows are indexed only in claim order. A version-11
    database, its message trigger and indexes as that version made them, is changed in place."""
    sysdb = SystemDatabase(normalize_url(system_database_url))
    sysdb.setup.initialize()
    sysdb.dispose()
    engine = sa.create_engine(normalize_url(system_database_url))

    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM dbos.dbos_migrations")
            conn.exec_driver_sql("INSERT INTO dbos.dbos_migrations (version) VALUES (11)")
            conn.exec_driver_sql(
                "DROP TRIGGER dbos_wake_message ON dbos.notifications; "
                "CREATE TRIGGER dbos_wake_message AFTER INSERT ON dbos.notifications "
                "FOR EACH ROW EXECUTE FUNCTION dbos.dbos_wake_message()"
            )
            assert "consumed" not in _trigger_definition(conn, "dbos_wake_message")
            for statement in _VERSION_11_STATUS_INDEXES:
                conn.exec_driver_sql(statement)
        sysdb = SystemDatabase(normalize_url(system_database_url))
        sysdb.setup.initialize()
        sysdb.dispose()
        with engine.connect() as conn:
            assert "WHEN ((NOT new.consumed))" in _trigger_definition(conn, "dbos_wake_message")
            for index in ("workflow_status_queue_status_index", "workflow_status_partition_index"):
                assert "status <> 'ENQUEUED'" in _index_definition(conn, index)
            stamps = conn.exec_driver_sql("SELECT version FROM dbos.dbos_migrations").all()
        assert max(r[0] for r in stamps) == SCHEMA_VERSION >= 12
    finally:
        engine.dispose()

"""`DBOS.reset_system_database()`, the reset applications' test fixtures call between tests:
dropping the database, or with `truncate=True` emptying its tables (the schema, its version
and the application's own tables stay)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from conftest import query_system_sql, run_system_sql

from dbos import DBOS, SetWorkflowID
from dbos.error import DBOSException

runs: list[str] = []


@DBOS.transaction()
def counts_a_run(label: str) -> str:
    DBOS.sql_session.execute(sa.text("SELECT 1"))
    runs.append(label)
    return label


@DBOS.workflow()
def talks(label: str) -> str:
    DBOS.set_event("said", label)
    DBOS.write_stream("words", label)
    return counts_a_run(label)


def _configure(url: str) -> None:
    DBOS.destroy()
    DBOS(config={"name": "reset-app", "system_database_url": url, "log_level": "WARNING"})


def _count(url: str, table: str) -> int:
    return int(query_system_sql(url, f"SELECT count(*) FROM {{prefix}}{table}")[0][0])


@pytest.fixture
def url(system_database_url: str) -> Iterator[str]:
    runs.clear()
    yield system_database_url
    DBOS.destroy()


def test_truncate_empties_every_table_and_keeps_the_schema(url: str) -> None:
    _configure(url)
    DBOS.launch()
    with SetWorkflowID("before-reset"):
        assert talks("first") == "first"
    run_system_sql(url, "CREATE TABLE {prefix}app_rows (label TEXT)")
    run_system_sql(url, "INSERT INTO {prefix}app_rows VALUES ('kept')")
    stamp = query_system_sql(url, "SELECT max(version) FROM {prefix}dbos_migrations")
    DBOS.destroy()

    _configure(url)
    DBOS.reset_system_database(truncate=True)
    for table in (
        "workflow_status",
        "operation_outputs",
        "workflow_events",
        "workflow_events_history",
        "streams",
        "application_versions",
        "transaction_outputs",
    ):
        assert _count(url, table) == 0, table
    assert query_system_sql(url, "SELECT max(version) FROM {prefix}dbos_migrations") == stamp
    assert query_system_sql(url, "SELECT label FROM {prefix}app_rows") == [("kept",)]

    # A workflow ID used before the reset starts afresh: its transaction runs again.
    DBOS.launch()
    with SetWorkflowID("before-reset"):
        assert talks("second") == "second"
    assert runs == ["first", "second"]


def test_reset_by_url_without_a_dbos_instance(url: str) -> None:
    _configure(url)
    DBOS.launch()
    talks("x")
    DBOS.destroy()
    DBOS.reset_system_database(system_database_url=url, truncate=True)
    assert _count(url, "workflow_status") == 0
    DBOS.reset_system_database(system_database_url=url)  # dropped
    DBOS.reset_system_database(system_database_url=url, truncate=True)  # nothing left: no-op
    _configure(url)
    DBOS.launch()  # created afresh
    assert DBOS.list_workflows() == []


def test_reset_is_refused_once_launched(url: str) -> None:
    _configure(url)
    DBOS.launch()
    with pytest.raises(DBOSException, match="before launch"):
        DBOS.reset_system_database(truncate=True)
    assert _count(url, "application_versions") == 1


def test_reset_without_dbos_or_url_says_it_did_nothing(
    url: str, dbos_log: pytest.LogCaptureFixture
) -> None:
    _configure(url)
    DBOS.launch()
    talks("kept")
    DBOS.destroy()
    DBOS.reset_system_database(truncate=True)  # no instance, no URL: a warning, not an error
    assert "reset_system_database() did nothing" in dbos_log.text
    assert _count(url, "workflow_status") == 1

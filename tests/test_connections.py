"""The system database's connections: dropped connections are replaced, waiters keep waiting."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from dbos import DBOS, DBOSConfig, SetWorkflowID
from dbos._core import runtime as _runtime


@DBOS.step()
def plus_one(x: int) -> int:
    return x + 1


@DBOS.workflow()
def adds(x: int) -> int:
    return plus_one(plus_one(x))


@pytest.fixture
def pg_dbos(postgres_database_url: str) -> Iterator[str]:
    DBOS.destroy()
    config: DBOSConfig = {"name": "conn-app", "system_database_url": postgres_database_url}
    DBOS(config=config)
    DBOS.launch()
    yield postgres_database_url
    DBOS.destroy()


def test_connections_dropped_by_the_server_while_idle_are_replaced(pg_dbos: str) -> None:
    assert adds(1) == 3  # leaves idle connections in the free list
    url = make_url(pg_dbos)
    conninfo = f"host={url.host} port={url.port} user={url.username} dbname=postgres"
    with psycopg.connect(conninfo, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
            (url.database,),
        ).fetchone()
    assert killed is not None and killed[0] >= 1
    _runtime.get_runtime().sysdb.idle_check_after_sec = 0.0
    with SetWorkflowID("after-restart"):
        assert adds(10) == 12
    assert [s["output"] for s in DBOS.list_workflow_steps("after-restart")] == [11, 12]


def test_a_waiter_keeps_polling_through_connection_errors(
    dbos: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SetWorkflowID("waited-on"):
        adds(1)
    sysdb = _runtime.get_runtime().sysdb
    real = sysdb.workflows.get_workflow
    failures = iter([sqlite3.OperationalError("unable to open database file")] * 2)

    def flaky(workflow_id: str) -> object:
        for exc in failures:
            raise exc
        return real(workflow_id)

    monkeypatch.setattr(sysdb.workflows, "get_workflow", flaky)
    assert DBOS.retrieve_workflow("waited-on", existing_workflow=False).get_result() == 3


def test_other_errors_while_waiting_are_not_swallowed(
    dbos: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    sysdb = _runtime.get_runtime().sysdb

    def broken(workflow_id: str) -> object:
        raise ValueError("not a connection problem")

    monkeypatch.setattr(sysdb.workflows, "get_workflow", broken)
    with pytest.raises(ValueError, match="not a connection problem"):
        DBOS.retrieve_workflow("anything", existing_workflow=False).get_result()

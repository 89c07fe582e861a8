"""`@DBOS.transaction()`: the seed's example, exactly-once across a crash, isolation, misuse."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Column, MetaData, String, Table

from dbos import DBOS, DBOSConfig, SetWorkflowID
from dbos.error import DBOSException

metadata = MetaData()
users = Table(
    "users",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String),
)


@DBOS.transaction()
def create_user(user_id: str, name: str) -> None:
    DBOS.sql_session.execute(users.insert().values(id=user_id, name=name))


@DBOS.transaction()
def get_user(user_id: str) -> dict:
    result = DBOS.sql_session.execute(users.select().where(users.c.id == user_id)).fetchone()
    return dict(result) if result else None  # type: ignore[return-value]


@DBOS.workflow()
def user_workflow(user_id: str, name: str) -> dict:
    create_user(user_id, name)
    return get_user(user_id)


def _config(url: str, app_url: str | None) -> DBOSConfig:
    config: DBOSConfig = {"name": "tx-app", "system_database_url": url, "log_level": "WARNING"}
    if app_url:
        config["application_database_url"] = app_url
    return config


@pytest.fixture(params=["app-db-is-system-db", "separate-app-db"])
def config(request: pytest.FixtureRequest, system_database_url: str) -> DBOSConfig:
    app_url = None
    if request.param == "separate-app-db":
        if system_database_url.startswith("sqlite"):
            app_url = system_database_url.replace("dbos_sys.sqlite", "app.sqlite")
        else:
            app_url = system_database_url  # one PostgreSQL database for both
    return _config(system_database_url, app_url)


@pytest.fixture
def dbos(config: DBOSConfig) -> Iterator[DBOSConfig]:
    DBOS.destroy()
    DBOS(config=config)
    DBOS.reset_system_database()
    DBOS.launch()
    app_url = config.get("application_database_url") or config["system_database_url"]
    engine = sa.create_engine(str(app_url))
    metadata.drop_all(engine)
    metadata.create_all(engine)
    engine.dispose()
    yield config
    DBOS.destroy()


def test_seed_database_transactions_example(dbos: DBOSConfig) -> None:
    with SetWorkflowID("tx-1"):
        assert user_workflow("u-1001", "Alice Liddell") == {
            "id": "u-1001",
            "name": "Alice Liddell",
        }
    steps = DBOS.list_workflow_steps("tx-1")
    assert [s["function_name"] for s in steps] == ["create_user", "get_user"]
    # Replaying the workflow ID runs nothing: inserting the same user again would fail.
    with SetWorkflowID("tx-1"):
        assert user_workflow("u-1001", "Alice Liddell")["name"] == "Alice Liddell"


def test_rows_keep_tuple_and_attribute_access(dbos: DBOSConfig) -> None:
    create_user("u-7", "Bo")

    @DBOS.transaction(name="test_rows.read_all")
    def read_all() -> list[list[str]]:
        rows = DBOS.sql_session.execute(users.select()).fetchall()
        return [[r[0], r.name, r["id"]] + list(r) for r in rows]

    assert read_all() == [["u-7", "Bo", "u-7", "u-7", "Bo"]]


def test_transaction_error_rolls_back_and_is_recorded(dbos: DBOSConfig) -> None:
    @DBOS.transaction(name="test_tx_error.insert_then_fail")
    def insert_then_fail(user_id: str) -> None:
        DBOS.sql_session.execute(users.insert().values(id=user_id, name="x"))
        raise RuntimeError("changed my mind")

    @DBOS.workflow(name="test_tx_error.wf")
    def wf() -> None:
        insert_then_fail("u-rolled-back")

    with SetWorkflowID("tx-err"), pytest.raises(RuntimeError, match="changed my mind"):
        wf()
    assert get_user("u-rolled-back") is None
    steps = DBOS.list_workflow_steps("tx-err")
    assert isinstance(steps[0]["error"], RuntimeError)


class SimulatedCrash(BaseException):
    """Stands for the process dying: nothing after it runs, nothing catches it."""


def test_transaction_committed_before_a_crash_is_not_run_again(
    dbos: DBOSConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dbos._core import runtime as _runtime

    runtime = _runtime.get_runtime()
    real_record = runtime.sysdb.record_step

    def crash_after_app_commit(*args: object, **kwargs: object) -> bool:
        raise SimulatedCrash()

    monkeypatch.setattr(runtime.sysdb, "record_step", crash_after_app_commit)
    with SetWorkflowID("tx-crash"), pytest.raises(SimulatedCrash):
        user_workflow("u-crash", "Carol")
    monkeypatch.setattr(runtime.sysdb, "record_step", real_record)
    assert DBOS.get_workflow_status("tx-crash").status == "PENDING"  # type: ignore[union-attr]
    assert DBOS.list_workflow_steps("tx-crash") == []  # the app commit has no step record

    # A new process: recovery finds create_user's output in the application database.
    DBOS.destroy()
    DBOS(config=dbos)
    DBOS.launch()
    result = DBOS.retrieve_workflow("tx-crash").get_result()
    assert result == {"id": "u-crash", "name": "Carol"}
    names = [s["function_name"] for s in DBOS.list_workflow_steps("tx-crash")]
    assert names == ["create_user", "get_user"]


def test_sql_session_outside_a_transaction_is_a_clear_error(dbos: DBOSConfig) -> None:
    with pytest.raises(DBOSException, match="only available inside"):
        DBOS.sql_session  # noqa: B018


def test_bad_isolation_level_is_refused() -> None:
    with pytest.raises(ValueError, match="isolation_level"):
        DBOS.transaction(isolation_level="CHAOS")

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
    real_record = runtime.sysdb.workflows.record_step

    def crash_after_app_commit(*args: object, **kwargs: object) -> bool:
        raise SimulatedCrash()

    monkeypatch.setattr(runtime.sysdb.workflows, "record_step", crash_after_app_commit)
    with SetWorkflowID("tx-crash"), pytest.raises(SimulatedCrash):
        user_workflow("u-crash", "Carol")
    monkeypatch.setattr(runtime.sysdb.workflows, "record_step", real_record)
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


# ------------------------------------------------------------------ rows as results


@DBOS.transaction()
def all_users() -> list[object]:
    return DBOS.sql_session.execute(users.select().order_by(users.c.id)).fetchall()


@DBOS.transaction()
def user_mappings() -> list[object]:
    return list(DBOS.sql_session.execute(users.select().order_by(users.c.id)).mappings().all())


@DBOS.transaction()
def raw_rows() -> list[object]:
    # Through the session's connection: SQLAlchemy's own Row, keys of dict(row._mapping) are
    # quoted_name (a str subclass).
    conn = DBOS.sql_session.connection()
    return list(conn.execute(users.select().order_by(users.c.id)).all())


@DBOS.workflow()
def reads_rows() -> dict[str, object]:
    rows = all_users()
    mappings = user_mappings()
    raw = raw_rows()
    return {
        "names": [r.name for r in rows] + [r[1] for r in raw],  # type: ignore[attr-defined,index]
        "dicts": [dict(r) for r in rows] + [dict(r._mapping) for r in raw],  # type: ignore[attr-defined,call-overload]
        "mapped": [m["name"] for m in mappings],  # type: ignore[index]
        "unpacked": [list(r) for r in raw],  # type: ignore[call-overload]
    }


def test_transactions_may_return_rows_and_replays_get_them_back(dbos: DBOSConfig) -> None:
    """Rows, row mappings and dicts keyed by quoted_name are what transactions return: stored
    as rows and plain dicts, a replay gets values that behave the same (the body computes the
    same result from them)."""
    create_user("u1", "Ada")
    create_user("u2", "Bob")
    with SetWorkflowID("rows"):
        first = reads_rows()
    assert first == {
        "names": ["Ada", "Bob", "Ada", "Bob"],
        "dicts": [{"id": "u1", "name": "Ada"}, {"id": "u2", "name": "Bob"}] * 2,
        "mapped": ["Ada", "Bob"],
        "unpacked": [["u1", "Ada"], ["u2", "Bob"]],
    }
    assert DBOS.retrieve_workflow("rows").get_result() == first
    # A fork after the three transactions replays their recorded outputs into the body.
    replayed = DBOS.fork_workflow("rows", 4).get_result()
    assert replayed == first
    outputs = [s["output"] for s in DBOS.list_workflow_steps("rows")]
    assert [type(r).__name__ for r in outputs[0]] == ["CompatRow", "CompatRow"]
    assert outputs[0][0].name == "Ada" and outputs[2][1]._mapping == {"id": "u2", "name": "Bob"}
    assert outputs[1] == [{"id": "u1", "name": "Ada"}, {"id": "u2", "name": "Bob"}]


def test_a_fastapi_route_over_a_transaction_returning_rows(dbos: DBOSConfig) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    create_user("u1", "Ada")
    app = FastAPI()

    @app.get("/users")
    def list_users() -> object:
        return all_users()  # outside a workflow: recorded as a workflow of its own

    with TestClient(app) as client:
        response = client.get("/users")
        assert response.status_code == 200, response.text
        assert response.json() == [["u1", "Ada"]]


@DBOS.transaction()
def asks_for_a_status() -> None:
    workflow_id = DBOS.workflow_id
    assert workflow_id is not None
    DBOS.get_workflow_status(workflow_id)


@DBOS.step()
def step_asks_for_a_status(workflow_id: str) -> str:
    status = DBOS.get_workflow_status(workflow_id)
    assert status is not None
    return status.status


@DBOS.workflow()
def asks_from_a_step() -> str:
    workflow_id = DBOS.workflow_id
    assert workflow_id is not None
    return step_asks_for_a_status(workflow_id)


def test_dbos_calls_recorded_as_steps_are_refused_inside_a_transaction(
    dbos: DBOSConfig,
) -> None:
    """A transaction's only durable effect is its commit (as upstream); inside a step such a
    call is a plain call, not a step of its own."""
    with pytest.raises(
        DBOSException, match="Invalid call to `DBOS.getStatus` inside a transaction"
    ):
        asks_for_a_status()
    with SetWorkflowID("asks-from-a-step"):
        assert asks_from_a_step() == "PENDING"
    steps = DBOS.list_workflow_steps("asks-from-a-step")
    assert [s["function_name"] for s in steps] == ["step_asks_for_a_status"]

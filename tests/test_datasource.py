"""`SQLAlchemyDatasource` (upstream 2.31): exactly-once transactions against a database of the
application's choosing, their outputs in its `datasource_outputs` table, committed with the
function's SQL; a crash between that commit and the step record does not run the SQL again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dbos import DBOS, SetWorkflowID, SQLAlchemyDatasource
from dbos.error import DBOSException


class SimulatedCrash(BaseException):
    """Stands for the process dying after the datasource committed."""


@pytest.fixture
def datasource_url(system_database_url: str, tmp_path: Path) -> str:
    if system_database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'datasource.sqlite'}"
    return system_database_url  # PostgreSQL: the same database, its own outputs table


@pytest.fixture
def ds(datasource_url: str) -> Iterator[SQLAlchemyDatasource]:
    datasource = SQLAlchemyDatasource.create(datasource_url)
    yield datasource
    datasource.dispose()


def _launch(system_database_url: str) -> None:
    DBOS.destroy()
    DBOS(config={"name": "datasource-test", "system_database_url": system_database_url})
    DBOS.launch()


def test_transactions_run_once_with_their_outputs_committed_alongside(
    system_database_url: str, ds: SQLAlchemyDatasource
) -> None:
    @ds.transaction
    def add_item(label: str) -> int:
        session = ds.sql_session()
        session.execute(sa.text("CREATE TABLE IF NOT EXISTS ds_items (label TEXT)"))
        session.execute(sa.text("INSERT INTO ds_items VALUES (:l)"), {"l": label})
        return int(session.execute(sa.text("SELECT count(*) FROM ds_items")).scalar_one())

    @ds.transaction(name="ds.count_items", isolation_level="READ COMMITTED")
    def count_items() -> int:
        return int(ds.sql_session().execute(sa.text("SELECT count(*) FROM ds_items")).scalar_one())

    @DBOS.workflow(name="ds.adds_two")
    def adds_two() -> list[int]:
        return [add_item("a"), add_item("b"), count_items()]

    _launch(system_database_url)
    try:
        with SetWorkflowID("ds-adds"):
            assert adds_two() == [1, 2, 2]
        with SetWorkflowID("ds-adds"):
            assert adds_two() == [1, 2, 2]  # recorded: nothing inserted again
        steps = DBOS.list_workflow_steps("ds-adds")
        assert [s["function_name"] for s in steps] == [
            add_item.__qualname__,
            add_item.__qualname__,
            "ds.count_items",
        ]
        with ds.engine.connect() as conn:
            prefix = "" if ds.engine.dialect.name == "sqlite" else "dbos."
            outputs = conn.execute(
                sa.text(
                    f"SELECT step_id, output FROM {prefix}datasource_outputs "
                    "WHERE workflow_id = 'ds-adds' ORDER BY step_id"
                )
            ).all()
        assert [row[0] for row in outputs] == [1, 2, 3]
        # Outside a workflow a datasource transaction is a plain transaction (upstream's rule);
        # started as a workflow, it is a workflow of its own.
        with SetWorkflowID("ds-alone"):
            assert count_items() == 2
        assert DBOS.get_workflow_status("ds-alone") is None
        with SetWorkflowID("ds-started"):
            assert DBOS.start_workflow(count_items).get_result() == 2
        assert DBOS.get_workflow_status("ds-started").name == "<temp>.ds.count_items"  # type: ignore[union-attr]
        assert ds.run_tx_step({"name": "ds.plain"}, lambda: 7) == 7
    finally:
        DBOS.destroy()


def test_a_commit_before_a_crash_is_not_run_again(
    system_database_url: str, ds: SQLAlchemyDatasource, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[str] = []

    @ds.transaction(name="ds.charge")
    def charge(order: str) -> str:
        runs.append(order)
        session = ds.sql_session()
        session.execute(sa.text("CREATE TABLE IF NOT EXISTS ds_charges (orderid TEXT)"))
        session.execute(sa.text("INSERT INTO ds_charges VALUES (:o)"), {"o": order})
        return f"charged {order}"

    @DBOS.workflow(name="ds.checkout")
    def checkout(order: str) -> str:
        return charge(order)

    _launch(system_database_url)
    from dbos._core.runtime import get_runtime

    sysdb = get_runtime().sysdb
    real_record = sysdb.workflows.record_step

    def crash(*_args: Any, **_kwargs: Any) -> bool:
        raise SimulatedCrash()

    monkeypatch.setattr(sysdb.workflows, "record_step", crash)
    with SetWorkflowID("ds-crash"), pytest.raises(SimulatedCrash):
        checkout("o-1")
    monkeypatch.setattr(sysdb.workflows, "record_step", real_record)
    assert DBOS.list_workflow_steps("ds-crash") == []  # committed in the datasource only
    _launch(system_database_url)  # a new process: recovery finds the datasource's output
    try:
        assert DBOS.retrieve_workflow("ds-crash").get_result() == "charged o-1"
        assert runs == ["o-1"]
        with ds.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM ds_charges")).scalar_one() == 1
    finally:
        DBOS.destroy()


def test_bad_arguments_are_refused(ds: SQLAlchemyDatasource) -> None:
    with pytest.raises(DBOSException, match="database_url= or engine="):
        SQLAlchemyDatasource.create()
    with pytest.raises(DBOSException, match="serializer"):
        SQLAlchemyDatasource.create("sqlite://", serializer=object())

    async def coroutine() -> int:
        return 1

    with pytest.raises(DBOSException, match="coroutine function"):
        ds.run_tx_step(None, coroutine)
    with pytest.raises(DBOSException, match="coroutine function"):

        @ds.transaction
        async def decorated() -> int:
            return 1


def test_before_launch_and_outside_workflows_a_plain_transaction(
    datasource_url: str, ds: SQLAlchemyDatasource
) -> None:
    """Upstream 2.31's datasources run outside any workflow, DBOS launched or not: the
    function's SQL in one transaction (rolled back when it raises), nothing recorded."""
    DBOS.destroy()  # not launched

    @ds.transaction(name="ds.bare_insert", isolation_level="READ COMMITTED")
    def insert(label: str) -> int:
        session = ds.sql_session()
        session.execute(sa.text("CREATE TABLE IF NOT EXISTS ds_bare (label TEXT)"))
        session.execute(sa.text("INSERT INTO ds_bare VALUES (:l)"), {"l": label})
        return int(session.execute(sa.text("SELECT count(*) FROM ds_bare")).scalar_one())

    def insert_then_fail() -> None:
        ds.sql_session().execute(sa.text("INSERT INTO ds_bare VALUES ('lost')"))
        raise ValueError("rolled back")

    assert insert("a") == 1
    assert ds.run_tx_step(None, insert, "b") == 2  # a decorated one passed on works too
    with pytest.raises(ValueError, match="rolled back"):
        ds.run_tx_step({"name": "ds.fails"}, insert_then_fail)
    assert (
        ds.run_tx_step(
            None,
            lambda: ds.sql_session().execute(sa.text("SELECT count(*) FROM ds_bare")).scalar_one(),
        )
        == 2
    )
    with pytest.raises(AssertionError, match="only available inside"):
        ds.sql_session()  # outside any transaction
    with ds.engine.connect() as conn:
        prefix = "" if ds.engine.dialect.name == "sqlite" else "dbos."
        assert (
            conn.execute(sa.text(f"SELECT count(*) FROM {prefix}datasource_outputs")).scalar_one()
            == 0
        )


def test_an_engine_of_the_application_stays_the_applications(datasource_url: str) -> None:
    engine = sa.create_engine(datasource_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        ds = SQLAlchemyDatasource.create(engine=engine)
        assert ds.created_engine is False and ds.engine is engine
        assert ds.run_tx_step(None, lambda: 5) == 5
        with engine.connect() as conn:  # create() made the outputs table at once
            assert sa.inspect(conn).has_table(
                "datasource_outputs", schema=None if engine.dialect.name == "sqlite" else "dbos"
            )
    finally:
        engine.dispose()
    owned = SQLAlchemyDatasource.create(datasource_url)
    assert owned.created_engine is True
    owned.dispose()

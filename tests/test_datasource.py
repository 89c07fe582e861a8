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
        # Outside a workflow a datasource transaction runs as a workflow of its own.
        with SetWorkflowID("ds-alone"):
            assert count_items() == 2
        assert DBOS.get_workflow_status("ds-alone").name == "<temp>.ds.count_items"  # type: ignore[union-attr]
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
    real_record = sysdb.record_step

    def crash(*_args: Any, **_kwargs: Any) -> bool:
        raise SimulatedCrash()

    monkeypatch.setattr(sysdb, "record_step", crash)
    with SetWorkflowID("ds-crash"), pytest.raises(SimulatedCrash):
        checkout("o-1")
    monkeypatch.setattr(sysdb, "record_step", real_record)
    assert DBOS.list_workflow_steps("ds-crash") == []  # committed in the datasource only
    _launch(system_database_url)  # a new process: recovery finds the datasource's output
    try:
        assert DBOS.retrieve_workflow("ds-crash").get_result() == "charged o-1"
        assert runs == ["o-1"]
        with ds.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM ds_charges")).scalar_one() == 1
    finally:
        DBOS.destroy()


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(DBOSException, match="database_url= or engine="):
        SQLAlchemyDatasource.create()
    with pytest.raises(DBOSException, match="serializer"):
        SQLAlchemyDatasource.create("sqlite://", serializer=object())

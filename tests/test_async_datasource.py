"""`AsyncSQLAlchemyDatasource`: `async def` transactions on an async engine (aiosqlite, psycopg's
async mode), exactly once like the sync datasource's, their system-database writes off the
event loop; recovery (on a loop of the runtime's own) finds a commit made before a crash."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from dbos import DBOS, AsyncSQLAlchemyDatasource, SetWorkflowID
from dbos.error import DBOSException


class SimulatedCrash(BaseException):
    """Stands for the process dying after the datasource committed."""


@pytest.fixture
def ads(system_database_url: str, tmp_path: Path) -> Iterator[AsyncSQLAlchemyDatasource]:
    url = (
        f"sqlite:///{tmp_path / 'async_datasource.sqlite'}"
        if system_database_url.startswith("sqlite")
        else system_database_url
    )
    yield asyncio.run(AsyncSQLAlchemyDatasource.create(url))


def test_before_launch_a_plain_transaction_on_any_loop(
    ads: AsyncSQLAlchemyDatasource,
) -> None:
    """Made under one `asyncio.run`, used under others, DBOS not launched: each call is a
    plain transaction, nothing recorded."""
    DBOS.destroy()

    @ads.transaction(name="ads.bare")
    async def insert(label: str) -> int:
        session = ads.sql_session()
        await session.execute(sa.text("CREATE TABLE IF NOT EXISTS ads_bare (label TEXT)"))
        await session.execute(sa.text("INSERT INTO ads_bare VALUES (:l)"), {"l": label})
        return int((await session.execute(sa.text("SELECT count(*) FROM ads_bare"))).scalar_one())

    async def twice() -> list[int]:
        return [await insert("a"), await ads.run_tx_step_async(None, insert, "b")]

    assert asyncio.run(twice()) == [1, 2]
    assert asyncio.run(insert("c")) == 3
    assert ads.created_engine is True


def _launch(system_database_url: str) -> None:
    DBOS.destroy()
    DBOS(config={"name": "async-datasource", "system_database_url": system_database_url})
    DBOS.launch()


def test_async_transactions_run_once(
    system_database_url: str, ads: AsyncSQLAlchemyDatasource
) -> None:
    @ads.transaction(name="ads.add")
    async def add(label: str) -> int:
        session = ads.sql_session()
        await session.execute(sa.text("CREATE TABLE IF NOT EXISTS ads_items (label TEXT)"))
        await session.execute(sa.text("INSERT INTO ads_items VALUES (:l)"), {"l": label})
        result = await session.execute(sa.text("SELECT count(*) FROM ads_items"))
        return int(result.scalar_one())

    @DBOS.workflow(name="ads.adds_two")
    async def adds_two() -> list[int]:
        return [await add("a"), await add("b")]

    _launch(system_database_url)
    try:
        with SetWorkflowID("ads-adds"):
            assert asyncio.run(adds_two()) == [1, 2]
        with SetWorkflowID("ads-adds"):
            assert asyncio.run(adds_two()) == [1, 2]  # recorded: nothing inserted again
        names = [s["function_name"] for s in DBOS.list_workflow_steps("ads-adds")]
        assert names == ["ads.add", "ads.add"]
        with SetWorkflowID("ads-alone"):
            assert asyncio.run(add("c")) == 3  # outside a workflow: a plain transaction
        assert DBOS.get_workflow_status("ads-alone") is None
        assert asyncio.run(ads.run_tx_step_async({"name": "ads.plain"}, _seven)) == 7
    finally:
        DBOS.destroy()


async def _seven() -> int:
    return 7


def test_a_commit_before_a_crash_is_not_run_again(
    system_database_url: str, ads: AsyncSQLAlchemyDatasource, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[str] = []

    @ads.transaction(name="ads.charge")
    async def charge(order: str) -> str:
        runs.append(order)
        session = ads.sql_session()
        await session.execute(sa.text("CREATE TABLE IF NOT EXISTS ads_charges (orderid TEXT)"))
        await session.execute(sa.text("INSERT INTO ads_charges VALUES (:o)"), {"o": order})
        return f"charged {order}"

    @DBOS.workflow(name="ads.checkout")
    async def checkout(order: str) -> str:
        return await charge(order)

    _launch(system_database_url)
    from dbos._core.runtime import get_runtime

    sysdb = get_runtime().sysdb
    real_record = sysdb.workflows.record_step

    def crash(*_args: Any, **_kwargs: Any) -> bool:
        raise SimulatedCrash()

    monkeypatch.setattr(sysdb.workflows, "record_step", crash)
    with SetWorkflowID("ads-crash"), pytest.raises(SimulatedCrash):
        asyncio.run(checkout("o-1"))
    monkeypatch.setattr(sysdb.workflows, "record_step", real_record)
    assert DBOS.list_workflow_steps("ads-crash") == []
    _launch(system_database_url)  # recovery runs the workflow on a loop of the runtime's own
    try:
        assert DBOS.retrieve_workflow("ads-crash").get_result() == "charged o-1"
        assert runs == ["o-1"]
    finally:
        DBOS.destroy()


def test_misuse_is_refused(system_database_url: str, ads: AsyncSQLAlchemyDatasource) -> None:
    with pytest.raises(DBOSException, match="not a coroutine function"):

        @ads.transaction
        def not_async() -> None:
            pass

    with pytest.raises(DBOSException, match="not a coroutine function"):
        asyncio.run(ads.run_tx_step_async(None, lambda: 1))
    with pytest.raises(DBOSException, match="database_url= or engine="):
        asyncio.run(AsyncSQLAlchemyDatasource.create())
    with pytest.raises(AssertionError, match="only available inside"):
        ads.sql_session()

    @ads.transaction(name="ads.commits_itself")
    async def commits_itself() -> None:
        await ads.sql_session().commit()

    _launch(system_database_url)
    try:
        with pytest.raises(DBOSException, match=r"commit\(\).*runtime's"):
            asyncio.run(commits_itself())
    finally:
        DBOS.destroy()

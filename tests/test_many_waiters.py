"""A thousand waiters cost the same queries as ten, and no thread each.

Statements are counted at the database driver, below the runtime: every DBAPI connection the
process opens is instrumented (sqlite3's trace callback; a counting psycopg cursor), so nothing
the runtime does is missed or self-reported.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from conftest import query_system_sql

from dbos import DBOS, SetWorkflowID
from dbos._core.runtime import ASYNC_IO_THREADS


class StatementCounter:
    """Counts the statements run on every connection opened from now on; with `naming`, only
    those whose text holds it (say a table: the background services' polls then do not count,
    however many a loaded machine lets them run)."""

    def __init__(self, naming: str | None = None) -> None:
        self.count = 0
        self._naming = naming
        self._lock = threading.Lock()

    def add(self, statement: object = None) -> None:
        if self._naming is not None and self._naming not in str(statement):
            return
        with self._lock:
            self.count += 1

    def on_connect(self, dbapi_conn: Any, _record: Any) -> None:
        counter = self
        if isinstance(dbapi_conn, psycopg.Connection):

            class CountingCursor(psycopg.Cursor):  # type: ignore[type-arg]
                def execute(self, *args: Any, **kwargs: Any) -> Any:
                    counter.add(args[0] if args else None)
                    return super().execute(*args, **kwargs)

            dbapi_conn.cursor_factory = CountingCursor
        else:
            dbapi_conn.set_trace_callback(self.add)


@pytest.fixture
def counted(system_database_url: str) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    sa.event.listen(sa.pool.Pool, "connect", counter.on_connect)
    DBOS.destroy()
    DBOS(
        config={
            "name": "waiters",
            "system_database_url": system_database_url,
            "log_level": "WARNING",
        }
    )
    DBOS.launch()
    try:
        yield counter
    finally:
        DBOS.destroy()
        sa.event.remove(sa.pool.Pool, "connect", counter.on_connect)


@DBOS.workflow()
def waits_for_go(n: int) -> object:
    return DBOS.recv("go", timeout_seconds=300)


def _wait_until_all_wait(url: str, prefix: str, n: int) -> None:
    """Each recv records its deadline (a DBOS.sleep step) just before it begins to wait."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        [(waiting,)] = query_system_sql(
            url,
            "SELECT count(*) FROM {prefix}operation_outputs "
            f"WHERE function_name = 'DBOS.sleep' AND workflow_uuid LIKE '{prefix}%%'",
        )
        if waiting == n:
            return
        time.sleep(0.05)
    pytest.fail(f"not all {n} workflows began to wait")


def _wait_until_parked(url: str, prefix: str, n: int) -> None:
    """A sync workflow waiting past the parking threshold gives its thread back and notes once
    in its row that it is parked (`waiting_for`): idle means after those writes."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        [(parked,)] = query_system_sql(
            url,
            "SELECT count(*) FROM {prefix}workflow_status "
            f"WHERE waiting_for IS NOT NULL AND workflow_uuid LIKE '{prefix}%%'",
        )
        if parked == n:
            return
        time.sleep(0.05)
    pytest.fail(f"not all {n} workflows parked")


def _statements_while_idle(counter: StatementCounter, seconds: float = 2.0) -> int:
    before = counter.count
    time.sleep(seconds)
    return counter.count - before


@pytest.mark.timeout(300)
def test_a_thousand_workflows_waiting_in_recv(
    counted: StatementCounter, system_database_url: str
) -> None:
    threads_before = threading.active_count()
    few = [DBOS.start_workflow(waits_for_go, i) for i in range(10)]
    _wait_until_all_wait(system_database_url, "", 10)
    _wait_until_parked(system_database_url, "", 10)
    idle_few = _statements_while_idle(counted)

    with_ids = []
    for i in range(1000):
        with SetWorkflowID(f"many-{i}"):
            with_ids.append(DBOS.start_workflow(waits_for_go, i))
    _wait_until_all_wait(system_database_url, "many-", 1000)
    _wait_until_parked(system_database_url, "many-", 1000)
    idle_many = _statements_while_idle(counted)
    # Waiting costs the notifier's own queries, whatever the number of waiters: a per-waiter
    # poll would cost at least one statement per waiter in the window (1,000+ here).
    assert idle_many <= idle_few + 50, (idle_few, idle_many)
    assert idle_many < 500, idle_many
    # At most one thread per (sync) workflow body (parked ones hold none), nothing per wait.
    assert threading.active_count() <= threads_before + 1010 + 20

    for i in range(1000):
        DBOS.send(f"many-{i}", i, topic="go")
    assert [h.get_result() for h in with_ids] == list(range(1000))
    for i, handle in enumerate(few):
        DBOS.send(handle.workflow_id, -i, topic="go")
        assert handle.get_result() == -i


@DBOS.workflow()
def announces(n: int) -> None:
    DBOS.recv("start", timeout_seconds=300)
    for i in range(n):
        DBOS.set_event(f"key-{i}", i)


@pytest.mark.timeout(300)
def test_a_thousand_async_get_event_waiters_cost_no_threads(
    counted: StatementCounter, system_database_url: str
) -> None:
    with SetWorkflowID("announcer"):
        handle = DBOS.start_workflow(announces, 1000)
    threads: list[int] = []

    async def main() -> list[object]:
        waits = [
            asyncio.ensure_future(DBOS.get_event_async("announcer", f"key-{i}", 300))
            for i in range(1000)
        ]
        await asyncio.sleep(2.0)  # all registered and waiting
        threads.append(threading.active_count())
        before = counted.count
        await asyncio.sleep(2.0)
        threads.append(counted.count - before)
        await DBOS.send_async("announcer", None, topic="start")
        return list(await asyncio.gather(*waits))

    threads_before = threading.active_count()
    results = asyncio.run(main())
    handle.get_result()
    assert results == list(range(1000))
    waiting_threads, idle_statements = threads
    # The runtime's bounded pool for async I/O at most, however many waiters.
    assert waiting_threads <= threads_before + ASYNC_IO_THREADS + 2
    assert idle_statements < 500

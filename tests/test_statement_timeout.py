"""PostgreSQL cancelling the runtime's statements (a role's or database's statement_timeout over
a table someone holds locked) is an infrastructure fault: the workflow keeps going once the
statements get through again, and the log says what happened and how long it will retry,
instead of calling a reachable database unreachable."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from dbos import DBOS, SetWorkflowID

gate = threading.Event()


@DBOS.step()
def timeout_first() -> str:
    return "first"


@DBOS.step()
def timeout_second() -> str:
    return "second"


@DBOS.workflow()
def timeout_workflow() -> str:
    first = timeout_first()
    gate.wait(60)
    return first + "+" + timeout_second()


@pytest.fixture
def launched(postgres_database_url: str) -> Iterator[str]:
    DBOS.destroy()
    DBOS(config={"name": "test-app", "system_database_url": postgres_database_url})
    DBOS.launch()
    yield postgres_database_url
    gate.set()
    DBOS.destroy()


def _wait_for(condition: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_cancelled_statements_are_retried_and_named(
    launched: str, dbos_log: pytest.LogCaptureFixture
) -> None:
    url = sa.engine.make_url(launched)
    database = url.database
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    locker_engine = sa.create_engine(url)
    locker = locker_engine.connect()
    gate.clear()
    try:
        with SetWorkflowID("timeout-wf"):
            handle = DBOS.start_workflow(timeout_workflow)
        _wait_for(lambda: len(DBOS.list_workflow_steps("timeout-wf")) >= 1, "the first step")
        with admin.connect() as conn:
            conn.execute(sa.text(f"ALTER DATABASE \"{database}\" SET statement_timeout = '300ms'"))
        # Every statement on the checkpoint table now waits for this lock, then is cancelled.
        locker.execute(sa.text("LOCK TABLE dbos.operation_outputs IN ACCESS EXCLUSIVE MODE"))
        locker_pid = locker.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        with admin.connect() as conn:
            # New connections (the runtime reconnects) carry the timeout.
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db "
                    "AND pid <> pg_backend_pid() AND pid <> :locker"
                ),
                {"db": database, "locker": locker_pid},
            )
        gate.set()
        _wait_for(lambda: "cancelled a statement" in dbos_log.text, "the retry's log line")
        line = next(
            r.getMessage() for r in dbos_log.records if "cancelled a statement" in r.getMessage()
        )
        assert "statement_timeout" in line and "retrying for up to" in line
        assert "unreachable" not in line
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{database}" RESET statement_timeout'))
        locker.rollback()  # the lock goes: the retried write gets through
        assert handle.get_result() == "first+second"
        status = DBOS.get_workflow_status("timeout-wf")
        assert status is not None and status.status == "SUCCESS"
    finally:
        locker.close()
        locker_engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{database}" RESET statement_timeout'))
        admin.dispose()

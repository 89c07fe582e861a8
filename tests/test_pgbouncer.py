"""Behind a transaction-pooling PgBouncer (the workflow, queue and message suites also run
through one: `pytest.mark.through_pgbouncer`). Prepared statements are turned off on pooled
connections and only there; the notification listener, which cannot LISTEN through the pooler,
polls instead and says so, or listens on a direct URL when given one; a missing application
database is created at launch, directly and through the pooler."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from dbos import DBOS, DBOSClient, DBOSConfig, SetWorkflowID
from dbos._core.runtime import get_runtime
from dbos._services.pg_listener import PostgresListener
from dbos.error import DBOSInitializationError


@pytest.fixture(autouse=True)
def _destroyed(postgres_database_url: str) -> Iterator[None]:
    """Depends on the database so that DBOS is destroyed before the database is dropped: a
    pooler whose database vanished under it backs off logins for a while."""
    DBOS.destroy()
    yield
    DBOS.destroy()


def _launch(config: DBOSConfig) -> None:
    DBOS(config=config)
    DBOS.launch()


@DBOS.step()
def doubled_behind_the_pooler(x: int) -> int:
    return 2 * x


@DBOS.workflow()
def many_steps(n: int) -> int:
    return sum(doubled_behind_the_pooler(i) for i in range(n))


@DBOS.workflow()
def waits_behind_the_pooler() -> object:
    return DBOS.recv("greeting", timeout_seconds=30)


@DBOS.transaction()
def insert_and_count(label: str) -> int:
    session = DBOS.sql_session
    session.execute(sa.text("CREATE TABLE IF NOT EXISTS labels (label TEXT)"))
    session.execute(sa.text("INSERT INTO labels VALUES (:label)"), {"label": label})
    return int(session.execute(sa.text("SELECT count(*) FROM labels")).scalar_one())


def test_prepared_statements_are_off_through_the_pooler_only(
    postgres_database_url: str,
    pgbouncer_url_for: Callable[[str], str],
    dbos_log: pytest.LogCaptureFixture,
) -> None:
    _launch({"name": "direct", "system_database_url": postgres_database_url})
    assert many_steps(30) == 870  # statements repeated well past psycopg's prepare threshold
    assert get_runtime().sysdb.pooler.pooled is False
    assert "connection pooler" not in dbos_log.text
    DBOS.destroy()

    _launch({"name": "pooled", "system_database_url": pgbouncer_url_for(postgres_database_url)})
    assert get_runtime().sysdb.pooler.pooled is True
    assert "prepared statements are off" in dbos_log.text
    assert [many_steps(30) for _ in range(3)] == [870] * 3
    steps = DBOS.list_workflow_steps(DBOS.list_workflows()[-1].workflow_id)
    assert len(steps) == 30


@pytest.mark.parametrize("direct_listener", [False, True], ids=["polling", "listen-url"])
def test_waiters_in_other_processes_wake_behind_the_pooler(
    direct_listener: bool,
    postgres_database_url: str,
    pgbouncer_url_for: Callable[[str], str],
    dbos_log: pytest.LogCaptureFixture,
) -> None:
    pooled = pgbouncer_url_for(postgres_database_url)
    config: DBOSConfig = {"name": "pooled-waiter", "system_database_url": pooled}
    if direct_listener:
        config["system_database_listen_url"] = postgres_database_url
    _launch(config)
    listener = next(s for s in get_runtime().services if isinstance(s, PostgresListener))
    assert listener.connected.wait(10)
    if direct_listener:
        assert listener.fallback is None  # LISTEN on the direct connection
        assert "LISTEN/NOTIFY cannot cross" not in dbos_log.text
    else:
        assert listener.fallback is not None  # the change poller took over
        assert "system_database_listen_url" in dbos_log.text
    with SetWorkflowID("pooled-receiver"):
        handle = DBOS.start_workflow(waits_behind_the_pooler)
    # Another process's write (a client with connections of its own, through the pooler).
    with DBOSClient(system_database_url=pooled) as client:
        client.send("pooled-receiver", "hello", "greeting")
    assert handle.get_result() == "hello"


def test_a_missing_application_database_is_created_at_launch(
    postgres_database_url: str,
    pgbouncer_url_for: Callable[[str], str],
    dbos_log: pytest.LogCaptureFixture,
) -> None:
    app_url = sa.make_url(postgres_database_url)
    for through_pooler in (False, True):
        name = f"{app_url.database}_app_{'pooled' if through_pooler else 'direct'}"
        url = app_url.set(database=name).render_as_string(hide_password=False)
        if through_pooler:
            url = pgbouncer_url_for(url)
        _launch(
            {
                "name": "app-db",
                "system_database_url": postgres_database_url,
                "application_database_url": url,
            }
        )
        try:
            assert insert_and_count("first") == 1
            assert insert_and_count("second") == 2
            assert "Created the application database" in dbos_log.text
            assert f"/{name}" in dbos_log.text
        finally:
            DBOS.destroy()
            engine = sa.create_engine(postgres_database_url, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            engine.dispose()


def test_a_listen_url_needs_postgresql() -> None:
    with pytest.raises(DBOSInitializationError, match="for a PostgreSQL system database"):
        DBOS(
            config={
                "name": "bad-listen",
                "system_database_url": "sqlite:///x.sqlite",
                "system_database_listen_url": "postgresql://u@h/db",
            }
        )
    with pytest.raises(DBOSInitializationError, match="must be a PostgreSQL URL"):
        DBOS(
            config={
                "name": "bad-listen",
                "system_database_url": "postgresql://u@h/db",
                "system_database_listen_url": "sqlite:///x.sqlite",
            }
        )

"""Shared test fixtures: run every runtime test on SQLite and on PostgreSQL.

Fixtures
--------
``postgres_server_url`` (session) -> ``str | None``
    SQLAlchemy URL of a PostgreSQL server whose user may create and drop databases:
    ``$DBOS_TEST_POSTGRES_URL`` if set, else a throwaway cluster started once per session from
    the local server binaries (``tests/servers/pg_cluster.py``), else ``None``. With ``CI=true`` a
    missing PostgreSQL is an error, never a skip. A session is one pytest process: each
    pytest-xdist worker starts its own cluster (``tests/support/parallel.py``).

``backend`` -> ``"sqlite" | "postgres"``
    Parametrized with ids ``sqlite`` and ``postgres``; this is where the parametrization lives.
    Any test or fixture that requests ``backend`` (directly or through ``system_database_url``)
    runs once per backend: ``test_x[sqlite]``, ``test_x[postgres]``. The ``postgres`` case is
    skipped when PostgreSQL is unavailable outside CI -- the only skip this suite allows.

``system_database_url`` -> ``str``
    A system database URL unique to the test, for the current ``backend``:

    * sqlite: ``sqlite:///{tmp_path}/dbos_sys.sqlite`` (the file is not created here);
    * postgres: the server URL with database ``dbos_test_<12 hex>``. The database is NOT
      created (the runtime creates a missing system database itself); it is dropped at teardown
      with ``DROP DATABASE IF EXISTS ... WITH (FORCE)``, which also ends any connection the
      test left open.

    * pgbouncer: a fresh database of that server, reached through a PgBouncer in transaction
      pooling mode (``tests/servers/pgbouncer.py``, started once per session), for modules marked
      ``pytest.mark.through_pgbouncer``: their tests run a third time, ``test_x[pgbouncer]``.
      With ``CI=true`` a missing ``pgbouncer`` binary is an error, never a skip.

``postgres_database_url`` -> ``str``
    Like ``system_database_url`` but PostgreSQL only and not parametrized, for tests of
    PostgreSQL-specific behaviour (skipped when PostgreSQL is unavailable outside CI).

``pgbouncer_url_for`` -> ``Callable[[str], str]``
    The session's PgBouncer: maps a database URL of the test server to the same database
    reached through the pooler.

Marker ``slow``: long tests; deselect with ``-m "not slow"``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from servers.pg_cluster import ThrowawayCluster, find_pg_bindir
from servers.pgbouncer import Bouncer, find_pgbouncer
from sqlalchemy.engine import make_url
from support.parallel import (  # noqa: F401 (hooks)
    pytest_collection_modifyitems,
    pytest_xdist_auto_num_workers,
)

BACKENDS = ("sqlite", "postgres")
TEST_DB_PREFIX = "dbos_test_"
POSTGRES_URL_ENV = "DBOS_TEST_POSTGRES_URL"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: long-running test (deselect with -m 'not slow')")
    config.addinivalue_line(
        "markers", "through_pgbouncer: also run on PostgreSQL through a transaction-mode PgBouncer"
    )
    config.addinivalue_line(
        "markers", "postgres_only: a PostgreSQL feature (NOTIFY ...): not run on SQLite at all"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Where the backend parametrization lives: every test that takes `backend` (directly or
    through a fixture) runs per backend, and a third time through PgBouncer if marked so."""
    if "backend" not in metafunc.fixturenames:
        return
    chosen = BACKENDS
    if metafunc.definition.get_closest_marker("postgres_only"):
        chosen = ("postgres",)
    elif metafunc.definition.get_closest_marker("through_pgbouncer"):
        chosen = (*BACKENDS, "pgbouncer")
    metafunc.parametrize("backend", chosen, ids=chosen, indirect=True)


def pytest_report_header(config: pytest.Config) -> str:
    if os.environ.get(POSTGRES_URL_ENV):
        where = f"${POSTGRES_URL_ENV}"
    elif (bindir := find_pg_bindir()) is not None:
        where = f"throwaway cluster from {bindir}"
    else:
        where = "UNAVAILABLE (postgres tests " + ("fail: CI=true)" if in_ci() else "skipped)")
    return f"dbos test backends: sqlite, postgres via {where}"


# --------------------------------------------------------------------------- helpers
def admin_conninfo(server_url: str) -> str:
    """libpq URI for the server's maintenance database (the URL's own, else ``postgres``)."""
    url = make_url(server_url)
    return url.set(drivername="postgresql", database=url.database or "postgres").render_as_string(
        hide_password=False
    )


def new_test_database_url(server_url: str) -> str:
    """The server URL pointed at a fresh, unique ``dbos_test_<hex>`` database name."""
    name = TEST_DB_PREFIX + uuid.uuid4().hex[:12]
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, database: str) -> None:
    """``DROP DATABASE IF EXISTS <database> WITH (FORCE)`` through ``server_url``'s server."""
    with psycopg.connect(admin_conninfo(server_url), autocommit=True, connect_timeout=30) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )


def database_exists(server_url: str, database: str) -> bool:
    with psycopg.connect(admin_conninfo(server_url), autocommit=True, connect_timeout=30) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        return row is not None


@contextmanager
def throwaway_database_url(server_url: str) -> Iterator[str]:
    """Yield a unique, not-yet-created database URL; drop that database on exit."""
    url = new_test_database_url(server_url)
    database = make_url(url).database
    assert database is not None
    try:
        yield url
    finally:
        drop_database(server_url, database)


def postgres_or_skip(server_url: str | None) -> str:
    """The PostgreSQL server's URL, or a skip that says how to get one (outside CI only: in
    CI the session fixture fails instead of answering None)."""
    if server_url is None:
        pytest.skip(
            "PostgreSQL unavailable: no server binaries in /usr/lib/postgresql/*/bin and "
            f"${POSTGRES_URL_ENV} not set (apt-get install postgresql to run these)"
        )
    return server_url


def _require_postgres(request: pytest.FixtureRequest) -> str:
    return postgres_or_skip(request.getfixturevalue("postgres_server_url"))


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str | None]:
    from_env = os.environ.get(POSTGRES_URL_ENV)
    if from_env:
        yield from_env
        return
    if find_pg_bindir() is None:
        if in_ci():
            pytest.fail(
                "CI=true but PostgreSQL is unavailable: no server binaries in "
                f"/usr/lib/postgresql/*/bin and ${POSTGRES_URL_ENV} not set. "
                "The postgres half of the suite must run in CI (.ci/run installs postgresql).",
                pytrace=False,
            )
        yield None
        return
    cluster = ThrowawayCluster()
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pgbouncer_server(postgres_server_url: str | None) -> Iterator[Bouncer | None]:
    if postgres_server_url is None or find_pgbouncer() is None:
        if in_ci() and postgres_server_url is not None:
            pytest.fail(
                "CI=true but pgbouncer is not installed (.ci/run installs Debian's pgbouncer)",
                pytrace=False,
            )
        yield None
        return
    bouncer = Bouncer(postgres_server_url)
    try:
        yield bouncer
    finally:
        bouncer.stop()


def _require_pgbouncer(request: pytest.FixtureRequest) -> Bouncer:
    _require_postgres(request)
    bouncer: Bouncer | None = request.getfixturevalue("pgbouncer_server")
    if bouncer is None:
        pytest.skip("pgbouncer unavailable (apt-get install pgbouncer to run these)")
    return bouncer


@pytest.fixture
def pgbouncer_url_for(request: pytest.FixtureRequest) -> Callable[[str], str]:
    bouncer = _require_pgbouncer(request)

    def through_the_pooler(url: str) -> str:
        database = make_url(url).database
        assert database is not None
        return bouncer.url_for(database)

    return through_the_pooler


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgres":
        _require_postgres(request)
    elif name == "pgbouncer":
        _require_pgbouncer(request)
    return name


@pytest.fixture
def system_database_url(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/dbos_sys.sqlite"
        return
    with throwaway_database_url(_require_postgres(request)) as url:
        if backend == "pgbouncer":
            database = make_url(url).database
            assert database is not None
            yield _require_pgbouncer(request).url_for(database)
        else:
            yield url


@pytest.fixture
def postgres_database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    with throwaway_database_url(_require_postgres(request)) as url:
        yield url


@pytest.fixture
def dbos_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """`caplog` for the "dbos" logger at INFO. Once launched, that logger has a handler of its
    own and stops propagating (as upstream's does), so caplog's root handler alone misses it."""
    import logging

    logger = logging.getLogger("dbos")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="dbos")
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)


@pytest.fixture(autouse=True)
def _forget_queues_declared_in_the_test() -> Iterator[None]:
    """A queue may be declared once per process (as upstream): one a test declares in its
    body is forgotten after it, so the test's other parametrizations can declare it again.
    Queues declared at module level stay."""
    from dbos._registry import queues

    before = {spec.name for spec in queues.all_queues()}
    yield
    for spec in queues.all_queues():
        if spec.name not in before:
            queues.forget_declared(spec.name)


@pytest.fixture
def dbos(system_database_url: str) -> Iterator[None]:
    """A launched DBOS on this test's system database, built the way the seed's test fixture
    builds it (destroy, configure, reset, launch), and destroyed afterwards."""
    from dbos import DBOS

    DBOS.destroy()
    DBOS(
        config={
            "name": "test-app",
            "system_database_url": system_database_url,
            "log_level": "WARNING",
        }
    )
    DBOS.reset_system_database()
    DBOS.launch()
    yield
    DBOS.destroy()


@pytest.fixture
def connections(system_database_url: str) -> Iterator[Any]:
    """The system database's connections alone, its schema set up: for testing a store or the
    write path without a runtime (`dbos._db.connections.Connections`)."""
    from dbos._config import normalize_url
    from dbos._db.connections import Connections
    from dbos._db.setup import SchemaSetup

    db = Connections(normalize_url(system_database_url))
    SchemaSetup(db).initialize()
    yield db
    db.dispose()


def run_system_sql(system_database_url: str, statement: str) -> None:
    """Run SQL against a system database behind the runtime's back (to stage corrupt rows,
    future schema stamps ...). `{prefix}` stands for the table prefix: `dbos.` on PostgreSQL."""
    import sqlalchemy as sa

    engine = sa.create_engine(system_database_url)
    prefix = "dbos." if engine.dialect.name == "postgresql" else ""
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(statement.replace("{prefix}", prefix)))
    finally:
        engine.dispose()


def query_system_sql(system_database_url: str, statement: str) -> list[tuple[object, ...]]:
    """Read a system database behind the runtime's back (`{prefix}` as in run_system_sql)."""
    import sqlalchemy as sa

    engine = sa.create_engine(system_database_url)
    prefix = "dbos." if engine.dialect.name == "postgresql" else ""
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(statement.replace("{prefix}", prefix)))]
    finally:
        engine.dispose()

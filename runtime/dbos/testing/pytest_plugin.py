"""The pytest plugin of dbos-durable, registered through the `pytest11` entry point `dbos`, so
installing the package is all it takes (`-p no:dbos` turns it off). It adds fixtures only:
no hooks, no options, nothing autouse, so a suite that does not ask for them is unchanged.

Fixtures
--------
``dbos_sqlite`` -> ``DBOS``
    A launched DBOS on a fresh SQLite file in the test's ``tmp_path``, destroyed after the
    test (the seed's testing fixture without the boilerplate: destroy, configure, launch).
    Workflows, steps and queues decorated at import time are registered already.

``dbos_postgres`` -> ``DBOS``
    The same on PostgreSQL: a fresh database ``dbos_test_<hex>`` on the server of
    ``$DBOS_TEST_POSTGRES_URL`` (a URL whose user may create and drop databases; the database
    it names is not used), dropped after the test. Skipped, saying so, when the variable is
    not set.

``dbos_test_config`` -> ``dict``
    Configuration keys added to the two fixtures' (``name`` is ``dbos-test``, the system
    database URL is the fixture's, ``log_level`` is ``WARNING``). Empty; override it in a
    ``conftest.py`` to give every test a serializer, ``enable_patching``, an
    ``application_database_url``...::

        @pytest.fixture
        def dbos_test_config():
            return {"enable_patching": True}
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

POSTGRES_URL_ENV = "DBOS_TEST_POSTGRES_URL"


@contextmanager
def launched(system_database_url: str, extra: dict[str, Any]) -> Iterator[Any]:
    """A DBOS launched on `system_database_url` for the block, destroyed after it (and any
    DBOS a previous test left behind destroyed before it)."""
    from dbos import DBOS

    DBOS.destroy()
    config: Any = {
        "name": "dbos-test",
        "log_level": "WARNING",
        **extra,
        "system_database_url": system_database_url,
    }
    instance = DBOS(config=config)
    try:
        DBOS.launch()
        yield instance
    finally:
        DBOS.destroy()


@pytest.fixture
def dbos_test_config() -> dict[str, Any]:
    """Extra configuration for `dbos_sqlite` and `dbos_postgres` (override it)."""
    return {}


@pytest.fixture
def dbos_sqlite(tmp_path: Path, dbos_test_config: dict[str, Any]) -> Iterator[Any]:
    """A launched DBOS on a fresh SQLite file in `tmp_path`."""
    with launched(f"sqlite:///{tmp_path / 'dbos_test.sqlite'}", dbos_test_config) as dbos:
        yield dbos


def fresh_postgres_url(server_url: str) -> str:
    """The server's URL naming a new, unique database (created by the launch)."""
    from dbos._config import normalize_url

    name = f"dbos_test_{uuid.uuid4().hex[:12]}"
    url = normalize_url(server_url).set(database=name)
    return url.render_as_string(hide_password=False)


@pytest.fixture
def dbos_postgres(dbos_test_config: dict[str, Any]) -> Iterator[Any]:
    """A launched DBOS on a fresh PostgreSQL database of `$DBOS_TEST_POSTGRES_URL`'s server."""
    server_url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not server_url:
        pytest.skip(
            f"${POSTGRES_URL_ENV} is not set: set it to a PostgreSQL URL whose user may create "
            "databases to run the dbos_postgres tests"
        )
    from dbos._config import normalize_url
    from dbos._db.databases import drop_database

    url = fresh_postgres_url(server_url)
    try:
        with launched(url, dbos_test_config) as dbos:
            yield dbos
    finally:
        drop_database(normalize_url(url), "test database")

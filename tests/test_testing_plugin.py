"""The pytest plugin that ships with the package (entry point `dbos`): a test suite of a user's
project, run by pytest in a subprocess with nothing but the installed package, gets launched
DBOS fixtures on SQLite and PostgreSQL, configurable through `dbos_test_config`; the plugin adds
no hook and no fixture a project (this one included) already names."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

from conftest import database_exists, postgres_or_skip

import dbos.testing.pytest_plugin as plugin

USER_TESTS = """
import os
from pathlib import Path

from dbos import DBOS


@DBOS.step()
def double(n: int) -> int:
    return 2 * n


@DBOS.workflow()
def doubled_twice(n: int) -> int:
    return double(double(n))


@DBOS.workflow()
def patched() -> bool:
    return DBOS.patch("patching-is-on")


def test_on_sqlite(dbos_sqlite, tmp_path):
    assert doubled_twice(3) == 12
    assert (tmp_path / "dbos_test.sqlite").exists()
    assert len(DBOS.list_workflows()) == 1  # a fresh database for this test


def test_on_sqlite_again(dbos_sqlite):
    assert DBOS.list_workflows() == []


def test_on_postgres(dbos_postgres):
    assert doubled_twice(5) == 20
    url = dbos_postgres._config["system_database_url"]
    Path(os.environ["DATABASE_NAME_FILE"]).write_text(url.rsplit("/", 1)[1])
    assert patched() is True  # enable_patching, from the project's dbos_test_config
    assert dbos_postgres._config["name"] == "users-app"
"""

USER_CONFTEST = """
import pytest


@pytest.fixture
def dbos_test_config():
    return {"enable_patching": True, "name": "users-app"}
"""


def run_user_suite(
    folder: Path, *args: str, env: dict[str, str | None]
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ}
    for key, value in env.items():
        if value is None:
            full.pop(key, None)
        else:
            full[key] = value
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args],
        cwd=folder,
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
    )


def user_project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "test_app.py").write_text(USER_TESTS)
    (folder / "conftest.py").write_text(USER_CONFTEST)
    return folder


def test_fixtures_need_only_the_installed_package(tmp_path: Path) -> None:
    folder = user_project(tmp_path)
    done = run_user_suite(folder, env={"DBOS_TEST_POSTGRES_URL": None})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed, 1 skipped" in done.stdout
    assert "DBOS_TEST_POSTGRES_URL is not set" in done.stdout  # the skip says why

    off = run_user_suite(folder, "-p", "no:dbos", env={"DBOS_TEST_POSTGRES_URL": None})
    assert off.returncode != 0 and "fixture 'dbos_sqlite' not found" in off.stdout


def test_the_postgres_fixture_uses_a_fresh_database_and_drops_it(
    tmp_path: Path, postgres_server_url: str | None
) -> None:
    postgres_or_skip(postgres_server_url)
    folder = user_project(tmp_path)
    name_file = tmp_path / "database-name"
    done = run_user_suite(
        folder,
        "-k",
        "postgres",
        env={"DBOS_TEST_POSTGRES_URL": postgres_server_url, "DATABASE_NAME_FILE": str(name_file)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    database = name_file.read_text()
    assert database.startswith("dbos_test_")
    assert not database_exists(postgres_server_url, database)


def test_the_plugin_adds_three_fixtures_and_nothing_else() -> None:
    members = {name for name, _ in inspect.getmembers(plugin) if name.startswith("pytest_")}
    assert members == set()  # no hooks: a suite that asks for no fixture is unchanged
    fixtures = {
        name
        for name, value in vars(plugin).items()
        if hasattr(value, "_fixture_function_marker")
        or type(value).__name__ == "FixtureFunctionDefinition"
    }
    assert fixtures == {"dbos_sqlite", "dbos_postgres", "dbos_test_config"}
    project_fixtures = set(vars(__import__("conftest")))
    assert not fixtures & project_fixtures

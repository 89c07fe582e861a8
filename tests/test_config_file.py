"""`dbos-config.yaml` in the `dbos` command: its databases for every verb, `dbos migrate`
creating them and running its migration commands in order, `dbos start` running its start
commands; `${VAR}` and Docker-secret substitution, and clear one-line errors for bad files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import database_exists, drop_database, query_system_sql
from sqlalchemy.engine import make_url
from test_admin_cli import dbos_command, one_line_error, run_dbos

from dbos._admin import config_file
from dbos._admin.config_file import ConfigFileError, parse, substitute

PY = sys.executable


def write_config(where: Path, text: str) -> Path:
    path = where / "dbos-config.yaml"
    path.write_text(textwrap.dedent(text))
    return path


# ------------------------------------------------------------------ the file itself


def test_variables_and_docker_secrets_are_substituted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DS_URL", "postgresql://u:p@db:5432/shop")
    monkeypatch.delenv("DS_UNSET", raising=False)
    (tmp_path / "pgpass").write_text("s3cret\n")
    monkeypatch.setattr(config_file, "SECRETS_DIR", tmp_path)
    text = "a: ${DS_URL}\nb: '${DS_UNSET}'\nc: ${DOCKER_SECRET:pgpass}\nd: ${DOCKER_SECRET:none}\n"
    assert substitute(text) == "a: postgresql://u:p@db:5432/shop\nb: ''\nc: s3cret\nd: \n"
    err = capsys.readouterr().err
    assert "${DS_UNSET}" in err and "Docker secret none" in err
    substitute(text, warn=False)
    assert capsys.readouterr().err == ""


def test_upstreams_template_with_its_variable_unset_falls_back_to_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBOS_DATABASE_URL", raising=False)
    text = textwrap.dedent(
        """\
        # yaml-language-server: $schema=https://example/dbos-config.schema.json
        name: greeting-app
        language: python
        runtimeConfig:
          start:
            - "python3 -m greeting_app.main"
        database_url: ${DBOS_DATABASE_URL}
        database:
          migrate:
            - python3 migrations/create_table.py
        telemetry:
          logs:
            logLevel: INFO
        """
    )
    project = parse(tmp_path / "dbos-config.yaml", text, warn=False)
    assert project.database_url is None
    assert project.system_url() == "sqlite:///greeting_app.sqlite"
    assert project.start == ["python3 -m greeting_app.main"]
    assert project.migrate == ["python3 migrations/create_table.py"]


def test_the_system_database_is_derived_as_the_runtime_derives_it(tmp_path: Path) -> None:
    where = tmp_path / "dbos-config.yaml"
    pg = parse(where, "name: shop\ndatabase_url: postgresql://u@h/shop\n")
    assert make_url(pg.system_url() or "").database == "shop_dbos_sys"
    lite = parse(where, "name: shop\ndatabase_url: sqlite:///shop_app.sqlite\n")
    assert lite.system_url() == "sqlite:///shop_app.sqlite"
    explicit = parse(where, "database_url: postgresql://u@h/a\nsystem_database_url: sqlite:///s\n")
    assert explicit.system_url() == "sqlite:///s"
    assert parse(where, "language: python\n").system_url() is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: [unclosed\n", "not valid YAML"),
        ("- a list\n", "must be a mapping"),
        ("name: x\nruntime_config: {}\n", "unknown key(s) runtime_config"),
        ("database:\n  migrate: python3 m.py\n", "database.migrate must be a list"),
        ("runtimeConfig:\n  start: [1, 2]\n", "runtimeConfig.start must be a list"),
        ("runtimeConfig:\n  stop: [x]\n", "unknown key(s) stop"),
        ("language: node\n", "language must be python"),
        ("database_url: 5\n", "database_url must be a string"),
        ("env: [A]\n", "env must be a mapping"),
    ],
)
def test_bad_files_name_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(tmp_path / "dbos-config.yaml", text, warn=False)


# ------------------------------------------------------------------ through the command


@pytest.fixture
def app_and_system_urls(system_database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """An application database URL (not yet created) and the system database the runtime
    derives from it; on PostgreSQL the derived `<db>_dbos_sys` is dropped afterwards."""
    if system_database_url.startswith("sqlite"):
        app_url = f"sqlite:///{tmp_path}/app.sqlite"
        yield app_url, app_url
        return
    url = make_url(system_database_url)
    derived = url.set(database=f"{url.database}_dbos_sys").render_as_string(False)
    server = url.set(database="postgres").render_as_string(False)
    try:
        yield system_database_url, derived
    finally:
        drop_database(server, f"{url.database}_dbos_sys")


def test_migrate_creates_both_databases_then_runs_the_migration_commands_in_order(
    app_and_system_urls: tuple[str, str], tmp_path: Path
) -> None:
    app_url, system_url = app_and_system_urls
    write_config(
        tmp_path,
        f"""\
        name: shop-app
        database_url: ${{SHOP_DATABASE_URL}}
        env:
          SHOP_STAGE: migrating
        database:
          migrate:
            - echo first >> order.txt
            - {PY} -c "import os; open('order.txt', 'a').write(os.environ['SHOP_STAGE'] + '\\n')"
        """,
    )
    env = {"SHOP_DATABASE_URL": app_url}
    done = run_in(tmp_path, "migrate", env=env)
    assert (tmp_path / "order.txt").read_text().split() == ["first", "migrating"]
    assert "ran 2 migration command(s)" in done.stdout
    # The system database the runtime would use, created and migrated ...
    assert query_system_sql(system_url, "SELECT count(*) FROM {prefix}workflow_status") == [(0,)]
    # ... and the application database with its transaction outputs table.
    outputs = query_system_sql(app_url, "SELECT count(*) FROM {prefix}transaction_outputs")
    assert outputs == [(0,)]
    # Every verb finds the database through the file.
    listed = run_in(tmp_path, "workflow", "list", "--json", env=env)
    assert json.loads(listed.stdout) == []


def test_a_failing_migration_command_stops_the_rest_with_its_exit_code(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        f"""\
        name: failing-app
        database:
          migrate:
            - echo ran >> ran.txt
            - {PY} -c "import sys; sys.exit(3)"
            - echo never >> ran.txt
        """,
    )
    done = run_in(tmp_path, "migrate", check=False)
    assert done.returncode == 3
    assert "exited with code 3" in done.stderr
    assert (tmp_path / "ran.txt").read_text().split() == ["ran"]
    assert (tmp_path / "failing_app.sqlite").is_file()  # DBOS's own migration came first


def test_start_runs_the_start_commands_in_order(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        """\
        name: started-app
        env:
          GREETING: hello
        runtimeConfig:
          start:
            - echo "$GREETING" > out.txt
            - echo world >> out.txt
        """,
    )
    run_in(tmp_path, "start")
    assert (tmp_path / "out.txt").read_text().split() == ["hello", "world"]
    write_config(tmp_path, "name: started-app\nruntimeConfig:\n  start: ['exit 7', 'echo no']\n")
    failed = run_in(tmp_path, "start", check=False)
    assert failed.returncode == 7
    write_config(tmp_path, "name: started-app\n")
    assert "lists no runtimeConfig.start" in one_line_error(run_in(tmp_path, "start", check=False))


def test_start_without_a_file_and_a_bad_file_are_one_line_errors(tmp_path: Path) -> None:
    assert "no dbos-config.yaml" in one_line_error(run_in(tmp_path, "start", check=False))
    write_config(tmp_path, "name: x\nruntimeConfig: 3\n")
    for verb in (["start"], ["migrate"], ["workflow", "list"]):
        assert "runtimeConfig must be a mapping" in one_line_error(
            run_in(tmp_path, *verb, check=False)
        )


def test_a_signal_to_dbos_start_reaches_the_running_command(tmp_path: Path) -> None:
    server = tmp_path / "server.py"
    server.write_text(
        textwrap.dedent(
            """\
            import pathlib, signal, sys, time
            here = pathlib.Path(__file__).parent
            def stop(signum, frame):
                (here / "stopped").write_text(str(signum))
                sys.exit(0)
            signal.signal(signal.SIGTERM, stop)
            (here / "ready").write_text("")
            time.sleep(60)
            """
        )
    )
    write_config(tmp_path, f"name: served-app\nruntimeConfig:\n  start:\n    - {PY} server.py\n")
    proc = subprocess.Popen(
        [*dbos_command(), "start"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "ready").exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert (tmp_path / "stopped").read_text() == str(int(signal.SIGTERM))


def test_the_command_line_and_the_environment_win_over_the_file(tmp_path: Path) -> None:
    write_config(tmp_path, "name: file-app\nsystem_database_url: sqlite:///from_file.sqlite\n")
    run_in(tmp_path, "migrate", "--db-url", f"sqlite:///{tmp_path}/flag.sqlite")
    assert (tmp_path / "flag.sqlite").is_file() and not (tmp_path / "from_file.sqlite").exists()
    run_in(
        tmp_path, "migrate", env={"DBOS_SYSTEM_DATABASE_URL": f"sqlite:///{tmp_path}/env.sqlite"}
    )
    assert (tmp_path / "env.sqlite").is_file() and not (tmp_path / "from_file.sqlite").exists()
    run_in(tmp_path, "migrate")
    assert (tmp_path / "from_file.sqlite").is_file()


def test_postgres_database_named_by_the_file_is_created(
    postgres_database_url: str, tmp_path: Path
) -> None:
    url = make_url(postgres_database_url)
    server = url.set(database="postgres").render_as_string(False)
    write_config(tmp_path, "name: pg-app\nsystem_database_url: ${SYS_URL}\n")
    run_in(tmp_path, "migrate", env={"SYS_URL": postgres_database_url})
    assert database_exists(server, str(url.database))


def run_in(
    cwd: Path, *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`dbos ARGS` in `cwd` with extra environment variables."""
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        url = (env or {}).get("DBOS_SYSTEM_DATABASE_URL")
        return run_dbos(*args, url=url, cwd=cwd, check=check)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

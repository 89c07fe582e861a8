"""The `dbos` admin command through its real entry point, in a subprocess, against a system
database a running application has seeded (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import in_ci, query_system_sql, run_system_sql
from support.admin_seed import Seeded, launch, seed

from dbos import DBOS


def dbos_command() -> list[str]:
    """The installed console script; `python -m dbos` where the venv was installed before the
    script existed (never in CI, which installs the package afresh)."""
    script = Path(sys.executable).with_name("dbos")
    if script.exists() and not os.environ.get("PYTHONPATH"):
        return [str(script)]
    assert not (in_ci() and not script.exists()), "the dbos console script is not installed"
    return [sys.executable, "-m", "dbos"]


def run_dbos(
    *args: str, url: str | None = None, cwd: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DBOS_SYSTEM_DATABASE_URL"}
    if url is not None:
        env["DBOS_SYSTEM_DATABASE_URL"] = url
    done = subprocess.run(
        [*dbos_command(), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )
    if check:
        assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dbos: "), done.stderr
    return lines[0]


def status_of(url: str, workflow_id: str) -> str:
    rows = query_system_sql(
        url, f"SELECT status FROM {{prefix}}workflow_status WHERE workflow_uuid = '{workflow_id}'"
    )
    return str(rows[0][0])


@pytest.fixture
def seeded(system_database_url: str) -> Iterator[tuple[str, Seeded]]:
    launch(system_database_url)
    try:
        yield system_database_url, seed("cli")
    finally:
        DBOS.destroy()


def test_read_verbs(seeded: tuple[str, Seeded]) -> None:
    url, ids = seeded
    table = run_dbos("workflow", "list", "--db-url", url).stdout
    header, *rows = table.splitlines()
    assert header.split()[:3] == ["WORKFLOW", "ID", "STATUS"]
    by_id = {row.split()[0]: row.split()[1] for row in rows}
    assert by_id[ids.good] == "SUCCESS" and by_id[ids.bad] == "ERROR"
    assert by_id[ids.waiting] == "PENDING" and by_id[ids.parked] == "ENQUEUED"

    listed = json.loads(run_dbos("workflow", "list", "--json", "-S", "error", url=url).stdout)
    assert [w["workflow_id"] for w in listed] == [ids.bad]
    assert listed[0]["error"] == {"type": "ValueError", "message": "boom: seeded"}
    by_queue = json.loads(
        run_dbos("workflow", "list", "--json", "--queue", "admin-parked", url=url).stdout
    )
    assert [w["workflow_id"] for w in by_queue] == [ids.parked]
    by_name = run_dbos(
        "workflow", "list", "--json", "--name", "good_wf", "--name", "bad_wf", url=url
    )
    assert {w["workflow_id"] for w in json.loads(by_name.stdout)} == {ids.good, ids.bad}
    none_yet = run_dbos("workflow", "list", "--json", "--start-time", "2999-01-01", url=url)
    assert json.loads(none_yet.stdout) == []
    recent = run_dbos("workflow", "list", "--json", "-s", "1h", "--limit", "2", url=url)
    assert len(json.loads(recent.stdout)) == 2
    mine = run_dbos("workflow", "list", "--json", "--executor", "nobody", url=url)
    assert json.loads(mine.stdout) == []

    got = json.loads(run_dbos("workflow", "get", ids.good, "--json", url=url).stdout)
    assert got["status"] == "SUCCESS" and got["output"] == 21 and got["input"] is not None
    text = run_dbos("workflow", "get", ids.bad, url=url).stdout
    assert "ValueError: boom: seeded" in text

    steps = json.loads(run_dbos("workflow", "steps", ids.good, "--json", url=url).stdout)
    assert steps[0]["name"].endswith("double") and steps[0]["output"] == 10
    assert any(s["child_workflow_id"] == ids.child for s in steps)
    bad_steps = run_dbos("workflow", "steps", ids.bad, url=url).stdout
    assert "ValueError: boom: seeded" in bad_steps

    queues = json.loads(run_dbos("queue", "list", "--json", url=url).stdout)
    parked = next(q for q in queues if q["name"] == "admin-parked")
    assert parked["enqueued"] == 1 and parked["concurrency"] == 3
    assert "admin-parked" in run_dbos("queue", "list", url=url).stdout


def test_control_verbs(seeded: tuple[str, Seeded]) -> None:
    url, ids = seeded
    done = run_dbos("workflow", "cancel", ids.waiting, url=url)
    assert done.stdout.split() == [ids.waiting, "CANCELLED"]
    assert status_of(url, ids.waiting) == "CANCELLED"
    run_dbos("workflow", "resume", ids.waiting, url=url)
    assert status_of(url, ids.waiting) in ("ENQUEUED", "PENDING")  # the app takes it back

    forked = run_dbos("workflow", "fork", ids.good, "--step", "2", "-f", "cli-fork", url=url)
    assert forked.stdout.strip() == "cli-fork"
    deadline = time.monotonic() + 30
    while status_of(url, "cli-fork") != "SUCCESS":  # run by the application's worker
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert DBOS.retrieve_workflow("cli-fork").get_result() == 21

    # The input is a dataclass this process has no class for: it goes to the worker as stored.
    run_dbos("workflow", "fork", ids.order, "-f", "cli-fork-order", url=url)
    assert DBOS.retrieve_workflow("cli-fork-order").get_result() == "4 x pen"

    bulk = run_dbos("workflow", "cancel", "--queue", "admin-parked", url=url)
    assert "cancelled 1 of 1" in bulk.stdout
    assert status_of(url, ids.parked) == "CANCELLED"

    old_finished = run_dbos("gc", "--older-than", "1h", url=url)
    assert old_finished.stdout.startswith("deleted 0 workflows")
    time.sleep(0.05)
    run_system_sql(
        url,
        "UPDATE {prefix}workflow_status SET updated_at = 0, created_at = 0, "
        "completed_at = 0 "
        f"WHERE workflow_uuid IN ('{ids.bad}', '{ids.waiting}')",
    )
    gone = run_dbos("gc", "--older-than", "1d", url=url)
    assert gone.stdout.startswith("deleted 1 workflows")  # the bad one; waiting is live
    left = {
        r[0] for r in query_system_sql(url, "SELECT workflow_uuid FROM {prefix}workflow_status")
    }
    assert ids.bad not in left and ids.waiting in left
    steps_left = query_system_sql(
        url, f"SELECT count(*) FROM {{prefix}}operation_outputs WHERE workflow_uuid = '{ids.bad}'"
    )
    assert steps_left[0][0] == 0


def test_failures_are_one_line(seeded: tuple[str, Seeded]) -> None:
    url, _ids = seeded
    assert "no workflow with ID 'nope'" in one_line_error(
        run_dbos("workflow", "get", "nope", url=url, check=False)
    )
    one_line_error(run_dbos("workflow", "cancel", "nope", url=url, check=False))
    DBOS.destroy()
    run_system_sql(url, "INSERT INTO {prefix}dbos_migrations (version) VALUES (99)")
    newer = one_line_error(run_dbos("workflow", "list", url=url, check=False))
    assert "schema version 99, newer" in newer
    assert "newer" in one_line_error(run_dbos("migrate", url=url, check=False))


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/dbos_sys.sqlite"
    run_dbos("migrate", url=url)
    for verb in ("steps", "resume", "fork"):
        assert "no workflow" in one_line_error(
            run_dbos("workflow", verb, "nope", url=url, check=False)
        )
    one_line_error(run_dbos("workflow", "list", "-S", "DONE", url=url, check=False))
    one_line_error(run_dbos("workflow", "list", "-s", "yesterday", url=url, check=False))
    one_line_error(run_dbos("gc", url=url, check=False))
    one_line_error(run_dbos("gc", "--older-than", "soon", url=url, check=False))
    one_line_error(run_dbos("reset", url=url, check=False))  # without --yes
    refused = run_dbos("workflow", "list", "--db-url", "postgresql://u@127.0.0.1:9/x", check=False)
    assert "cannot open system database" in one_line_error(refused)
    missing = run_dbos(
        "workflow", "list", "--db-url", f"sqlite:///{tmp_path}/no.sqlite", check=False
    )
    assert "no such SQLite system database" in one_line_error(missing)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no system database found" in one_line_error(
        run_dbos("workflow", "list", cwd=empty, check=False)
    )


def test_migrate_reset_and_default_file(tmp_path: Path) -> None:
    """On SQLite: `dbos migrate` creates the app's default file in the working directory,
    which later commands find there with no URL at all; `dbos reset --yes` drops it."""
    migrated = run_dbos("migrate", "--app-name", "my-app", cwd=tmp_path)
    assert "version" in migrated.stdout
    assert (tmp_path / "my_app.sqlite").is_file()
    listed = run_dbos("workflow", "list", "--json", cwd=tmp_path)
    assert json.loads(listed.stdout) == []
    shutil.copy(tmp_path / "my_app.sqlite", tmp_path / "other.sqlite")
    assert "several system databases" in one_line_error(
        run_dbos("workflow", "list", cwd=tmp_path, check=False)
    )
    run_dbos("reset", "--yes", "--app-name", "my-app", cwd=tmp_path)
    assert not (tmp_path / "my_app.sqlite").exists()


def test_migrate_and_reset_postgres(postgres_database_url: str) -> None:
    from conftest import database_exists
    from sqlalchemy.engine import make_url

    name = make_url(postgres_database_url).database
    server = make_url(postgres_database_url).set(database="postgres").render_as_string(False)
    run_dbos("migrate", url=postgres_database_url)
    assert database_exists(server, str(name))
    assert (
        json.loads(run_dbos("workflow", "list", "--json", url=postgres_database_url).stdout) == []
    )
    run_dbos("reset", "--yes", url=postgres_database_url)
    assert not database_exists(server, str(name))


def test_progress_only_on_a_terminal() -> None:
    import io

    from dbos._cli.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    shown, piped = Terminal(), io.StringIO()
    for stream in (shown, piped):
        progress = Progress("deleted", total=4, stream=stream)
        for done in range(1, 5):
            progress.update(done)
        progress.finish()
    assert shown.getvalue().startswith("\rdeleted: 1/4 (25%)")
    assert shown.getvalue().endswith("\rdeleted: 4/4 (100%)\n")
    assert piped.getvalue() == ""

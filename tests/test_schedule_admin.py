"""Schedules in the admin tools, on both backends: `dbos schedule list|get|pause|resume|trigger|
backfill|delete` and the dashboard's schedules page and API. Every schedule is listed (run-time
and `@DBOS.scheduled` ones) with its next and last tick; one whose workflow no running process
registered, or while no process runs, says why it does not fire."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from starlette.testclient import TestClient
from test_admin_cli import one_line_error, run_dbos

from dbos import DBOS, DBOSClient
from dbos._admin.connect import session
from dbos._core.runtime import get_runtime
from dbos._dashboard.app import ACTION_HEADER, build_app
from dbos._registry.schedules import unregister_schedule

ACT = {ACTION_HEADER: "1"}


@DBOS.workflow()
def nightly_report(scheduled_at: datetime, ctx: Any) -> str:
    return f"report for {ctx}"


@DBOS.workflow()
def declared_in_code(scheduled_time: datetime, actual_time: datetime) -> None:
    pass


def _far_daily() -> str:
    t = datetime.now(timezone.utc) + timedelta(hours=12)
    return f"{t.minute} {t.hour} * * *"


@pytest.fixture
def app(system_database_url: str) -> Iterator[str]:
    """A running application with three schedules: `nightly` (run time), `declared_in_code`
    (@DBOS.scheduled) and `orphan` (a workflow nobody registered, made by a client)."""
    DBOS.scheduled(_far_daily())(declared_in_code)
    DBOS.destroy()
    DBOS(config={"name": "schedule-admin", "system_database_url": system_database_url})
    DBOS.reset_system_database()
    DBOS.launch()
    try:
        DBOS.create_schedule(
            schedule_name="nightly",
            workflow_fn=nightly_report,
            schedule=_far_daily(),
            context="acme",
            cron_timezone="Europe/Paris",
        )
        with DBOSClient(system_database_url=system_database_url) as client:
            client.create_schedule(
                schedule_name="orphan", workflow_name="no.such.workflow", schedule="0 * * * *"
            )
        deadline = time.monotonic() + 10  # the scheduler records what this process registered
        while not any(
            names for _, _, names in get_runtime().sysdb.schedules.executor_workflow_names()
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        yield system_database_url
    finally:
        DBOS.destroy()
        unregister_schedule("declared_in_code")


def _wait_for_status(workflow_id: str, status: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        found = DBOS.get_workflow_status(workflow_id)
        if found is not None and found.status == status:
            return
        assert time.monotonic() < deadline, f"{workflow_id} not {status}"
        time.sleep(0.05)


def test_the_command_lists_and_controls_schedules(app: str) -> None:
    listed = {
        s["schedule_name"]: s
        for s in json.loads(run_dbos("schedule", "list", "--json", url=app).stdout)
    }
    assert sorted(listed) == ["declared_in_code", "nightly", "orphan"]
    nightly = listed["nightly"]
    assert nightly["source"] == "run time" and nightly["cron_timezone"] == "Europe/Paris"
    assert nightly["context"] == "acme" and nightly["fires"] is True and nightly["problem"] is None
    assert nightly["next_tick_at"] > int(time.time() * 1000)
    assert listed["declared_in_code"]["source"] == "code" and listed["declared_in_code"]["fires"]
    orphan = listed["orphan"]
    assert orphan["fires"] is False
    assert orphan["problem"] == (
        "no running process registers workflow 'no.such.workflow': it does not fire"
    )
    table = run_dbos("schedule", "list", url=app).stdout
    assert "no running process registers workflow 'no.such.workflow'" in table
    assert "Europe/Paris" in table and "code" in table
    only = json.loads(run_dbos("schedule", "list", "--prefix", "nigh", "--json", url=app).stdout)
    assert [s["schedule_name"] for s in only] == ["nightly"]

    paused = run_dbos("schedule", "pause", "nightly", url=app).stdout
    assert paused.strip() == "nightly  PAUSED"
    got = json.loads(run_dbos("schedule", "get", "nightly", "--json", url=app).stdout)
    assert got["status"] == "PAUSED" and got["next_tick_at"] is None and got["fires"] is False
    assert "ACTIVE" in run_dbos("schedule", "resume", "nightly", url=app).stdout
    assert DBOS.get_schedule("nightly")["status"] == "ACTIVE"  # type: ignore[index]
    assert "Fires        yes" in run_dbos("schedule", "get", "nightly", url=app).stdout

    # Trigger and backfill enqueue for the application's workers (this process).
    triggered = run_dbos("schedule", "trigger", "nightly", url=app).stdout.strip()
    assert triggered.startswith("sched-nightly-trigger-")
    _wait_for_status(triggered, "SUCCESS")
    done = run_dbos("schedule", "backfill", "nightly", "--start", "3d", "--end", "1m", url=app)
    assert ": 3 enqueued, 0 had run" in done.stdout
    again = run_dbos("schedule", "backfill", "nightly", "--start", "3d", "--end", "1m", url=app)
    assert ": 0 enqueued, 3 had run" in again.stdout
    ticks = [
        w for w in DBOS.list_workflows(schedule_name="nightly") if "trigger" not in w.workflow_id
    ]
    assert len(ticks) == 3
    for tick in ticks:
        _wait_for_status(tick.workflow_id, "SUCCESS")
    assert DBOS.get_result(ticks[0].workflow_id) == "report for acme"

    future = run_dbos(
        "schedule",
        "backfill",
        "nightly",
        "--start",
        "1h",
        "--end",
        "2099-01-01",
        url=app,
        check=False,
    )
    assert "in the future" in one_line_error(future)
    many = run_dbos(
        "schedule",
        "backfill",
        "nightly",
        "--start",
        "3d",
        "--end",
        "1m",
        "--max-ticks",
        "2",
        url=app,
        check=False,
    )
    assert "more than 2 ticks" in one_line_error(many)
    declared = run_dbos("schedule", "delete", "declared_in_code", url=app, check=False)
    assert "@DBOS.scheduled" in one_line_error(declared)
    assert run_dbos("schedule", "delete", "nightly", url=app).stdout.strip() == "nightly  deleted"
    missing = run_dbos("schedule", "get", "nightly", url=app, check=False)
    assert one_line_error(missing) == "dbos: no schedule named 'nightly'"


def test_a_schedule_says_when_no_process_runs(app: str) -> None:
    DBOS.destroy()  # the only process stops: its heartbeat is aged at once
    listed = json.loads(run_dbos("schedule", "list", "--json", url=app).stdout)
    for schedule in listed:
        assert schedule["fires"] is False
        assert schedule["problem"] == "no process is running: nothing fires until one starts"


def test_the_dashboard_lists_pauses_and_resumes_schedules(app: str) -> None:
    with session(app) as s, TestClient(build_app(s), raise_server_exceptions=False) as client:
        listed = {x["schedule_name"]: x for x in client.get("/api/schedules").json()["schedules"]}
        assert sorted(listed) == ["declared_in_code", "nightly", "orphan"]
        assert listed["orphan"]["fires"] is False
        page = client.get("/schedules")
        assert page.status_code == 200
        assert "no running process registers workflow" in page.text and "nightly" in page.text
        assert 'data-schedule-action="pause"' in page.text

        paused = client.post("/api/schedules/nightly/pause", headers=ACT)
        assert paused.status_code == 200 and paused.json()["status"] == "PAUSED"
        assert DBOS.get_schedule("nightly")["status"] == "PAUSED"  # type: ignore[index]
        assert 'data-schedule-action="resume"' in client.get("/schedules").text
        resumed = client.post("/api/schedules/nightly/resume", headers=ACT).json()
        assert resumed["status"] == "ACTIVE" and resumed["next_tick_at"] is not None

        assert client.post("/api/schedules/nightly/pause").status_code == 403  # no header
        assert client.get("/api/schedules/nope").status_code == 404
        assert client.post("/api/schedules/nope/pause", headers=ACT).status_code == 404
        runs = client.get("/api/workflows", params={"schedule": "nightly"}).json()["workflows"]
        assert runs == []
        DBOS.trigger_schedule("nightly").get_result()
        runs = client.get("/api/workflows", params={"schedule": "nightly"}).json()["workflows"]
        assert len(runs) == 1 and runs[0]["name"] == "nightly_report"
    with (
        session(app) as s,
        TestClient(build_app(s, read_only=True), raise_server_exceptions=False) as client,
    ):
        assert "data-schedule-action" not in client.get("/schedules").text
        assert client.post("/api/schedules/nightly/pause", headers=ACT).status_code == 403

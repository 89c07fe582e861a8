"""Who a workflow runs for: `DBOSContextSetAuth`, `DBOS.required_roles`,
`DBOS.default_required_roles`, and the user and roles kept on the workflow's row, so that a
workflow runs for the same user on a thread, off a queue, in a child, or recovered after its
process was killed (`tests/auth_app.py`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import query_system_sql
from programs import program
from test_crash_recovery import Launcher

from dbos import (
    DBOS,
    DBOSClient,
    DBOSConfiguredInstance,
    DBOSContextSetAuth,
    Queue,
    SetWorkflowID,
)
from dbos.error import DBOSNotAuthorizedError

queue = Queue("auth-queue")
seen: list[Any] = []


def _who() -> list[Any]:
    return [DBOS.authenticated_user, DBOS.authenticated_roles, DBOS.assumed_role]


@DBOS.step()
def record_who() -> list[Any]:
    seen.append(_who())
    return _who()


@DBOS.workflow()
def open_workflow() -> list[Any]:
    return record_who()


@DBOS.required_roles(["admin", "user"])
@DBOS.workflow()
def admin_or_user() -> dict[str, Any]:
    return {"body": _who(), "step": record_who(), "child": open_workflow()}


@DBOS.workflow()
@DBOS.required_roles(["admin"])
def admin_below() -> list[Any]:
    return _who()


@DBOS.required_roles(["admin"])
@DBOS.workflow()
async def admin_async() -> list[Any]:
    await asyncio.sleep(0)
    return _who()


@DBOS.required_roles(["auditor"])
@DBOS.step()
def auditor_step() -> list[Any]:
    return _who()


@DBOS.workflow()
def calls_auditor_step() -> list[Any]:
    return auditor_step()


@DBOS.required_roles(["writer"])
@DBOS.transaction()
def writer_transaction() -> list[Any]:
    DBOS.sql_session.execute(sa.text("SELECT 1"))
    return _who()


@DBOS.default_required_roles(["staff"])
class StaffOnly(DBOSConfiguredInstance):
    def __init__(self) -> None:
        super().__init__("staff-only")

    @DBOS.workflow()
    def staff_workflow(self) -> list[Any]:
        return _who()

    @DBOS.required_roles([])
    @DBOS.workflow()
    def anyone_workflow(self) -> list[Any]:
        return _who()

    @DBOS.required_roles(["boss"])
    @DBOS.workflow()
    def boss_workflow(self) -> list[Any]:
        return _who()


STAFF = StaffOnly()


@pytest.fixture
def launched(system_database_url: str, tmp_path: Path) -> Iterator[str]:
    seen.clear()
    DBOS.destroy()
    app_url = (
        f"sqlite:///{tmp_path / 'app.sqlite'}"
        if system_database_url.startswith("sqlite")
        else system_database_url
    )
    DBOS(
        config={
            "name": "auth-tests",
            "system_database_url": system_database_url,
            "application_database_url": app_url,
            "log_level": "WARNING",
        }
    )
    DBOS.launch()
    yield system_database_url
    DBOS.destroy()


def test_the_context_sets_user_and_roles_for_a_block() -> None:
    assert _who() == [None, None, None]
    with DBOSContextSetAuth("alice", ["reader"]):
        assert _who() == ["alice", ["reader"], None]
        with DBOSContextSetAuth("bob", None):
            assert _who() == ["bob", None, None]
        assert _who() == ["alice", ["reader"], None]
    assert _who() == [None, None, None]

    async def in_a_task() -> list[Any]:
        DBOS.set_authentication("carol", ["ops"])  # a middleware's call: the rest of the task
        return _who()

    assert asyncio.run(in_a_task()) == ["carol", ["ops"], None]
    assert _who() == [None, None, None]  # the task's context, not ours


def test_bad_roles_are_refused_where_written() -> None:
    with pytest.raises(TypeError, match="list of role names"):
        DBOS.required_roles("admin")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="list of role names"):
        DBOSContextSetAuth("alice", [1])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="applies to classes"):
        DBOS.default_required_roles(["x"])(open_workflow)  # type: ignore[type-var]


def test_a_permitted_workflow_runs_under_the_first_role_held_and_records_it(
    launched: str,
) -> None:
    with DBOSContextSetAuth("alice", ["user", "admin"]), SetWorkflowID("permitted"):
        out = admin_or_user()
    # The first required role the user holds is assumed, in the body and its step; a child
    # without required roles inherits the user and the role its caller runs under.
    assert out["body"] == ["alice", ["user", "admin"], "admin"]
    assert out["step"] == ["alice", ["user", "admin"], "admin"]
    assert out["child"] == ["alice", ["user", "admin"], "admin"]
    status = DBOS.get_workflow_status("permitted")
    assert status is not None
    assert (status.authenticated_user, status.authenticated_roles, status.assumed_role) == (
        "alice",
        ["user", "admin"],
        "admin",
    )
    (child,) = DBOS.list_workflows(user="alice", name="open_workflow")
    assert child.parent_workflow_id == "permitted"
    assert child.authenticated_roles == ["user", "admin"]
    assert DBOS.list_workflows(user="bob") == []
    rows = query_system_sql(
        launched,
        "SELECT authenticated_roles FROM {prefix}workflow_status WHERE workflow_uuid = 'permitted'",
    )
    assert rows == [('["user", "admin"]',)]  # a JSON list, as upstream stores it


def test_a_direct_call_without_the_role_is_refused_before_anything_is_recorded(
    launched: str,
) -> None:
    with (
        DBOSContextSetAuth("bob", ["reader"]),
        pytest.raises(
            DBOSNotAuthorizedError, match="has required roles, but user is not authenticated"
        ),
    ):
        admin_or_user()
    with pytest.raises(DBOSNotAuthorizedError, match="without authentication information"):
        admin_below()  # `required_roles` below the workflow decorator counts the same
    with DBOSContextSetAuth("bob", []), pytest.raises(DBOSNotAuthorizedError):
        admin_below()
    assert DBOS.list_workflows() == []
    with DBOSContextSetAuth("root", ["admin"]):
        assert admin_below() == ["root", ["admin"], "admin"]


def test_a_started_or_queued_workflow_without_the_role_ends_in_error(launched: str) -> None:
    """Its row is written with the caller's user; when it runs, the check fails it for good
    (ERROR, never PENDING again), on every path that runs a workflow."""
    with DBOSContextSetAuth("bob", ["reader"]):
        started = DBOS.start_workflow(admin_or_user)
        queued = queue.enqueue(admin_or_user)
    anonymous = queue.enqueue(admin_below)
    for handle in (started, queued, anonymous):
        with pytest.raises(DBOSNotAuthorizedError):
            handle.get_result()
        status = handle.get_status()
        assert status.status == "ERROR"
        assert isinstance(status.error, DBOSNotAuthorizedError)
    assert started.get_status().authenticated_user == "bob"
    assert seen == []  # no body ran


def test_a_queued_workflow_runs_for_the_user_who_enqueued_it(launched: str) -> None:
    with DBOSContextSetAuth("alice", ["admin"]):
        handle = queue.enqueue(admin_or_user)
        started = DBOS.start_workflow(admin_below)
    assert handle.get_result()["body"] == ["alice", ["admin"], "admin"]
    assert started.get_result() == ["alice", ["admin"], "admin"]
    # By options: the caller's user and roles unless the options name others.
    with DBOSContextSetAuth("carol", ["admin"]):
        by_options = DBOS.enqueue_workflow_with_options(
            {"queue_name": "auth-queue", "workflow_name": "admin_below"}
        )
        for_dan = DBOS.enqueue_workflow_with_options(
            {
                "queue_name": "auth-queue",
                "workflow_name": "admin_below",
                "authenticated_user": "dan",
                "authenticated_roles": ["admin", "user"],
            }
        )
    assert by_options.get_result() == ["carol", ["admin"], "admin"]
    assert for_dan.get_result() == ["dan", ["admin", "user"], "admin"]


def test_async_workflows_check_and_assume_roles_too(launched: str) -> None:
    async def run() -> list[Any]:
        with DBOSContextSetAuth("dana", ["admin"]):
            direct = await admin_async()
        with pytest.raises(DBOSNotAuthorizedError):
            await admin_async()
        with DBOSContextSetAuth("eve", ["guest"]):
            handle = await DBOS.start_workflow_async(admin_async)
        with pytest.raises(DBOSNotAuthorizedError):
            await handle.get_result()
        status = await DBOS.get_workflow_status_async(handle.workflow_id)
        assert status is not None and status.status == "ERROR"
        return direct

    assert asyncio.run(run()) == ["dana", ["admin"], "admin"]


def test_steps_are_checked_in_workflows_and_transactions_everywhere(launched: str) -> None:
    with DBOSContextSetAuth("frank", ["reader"]), pytest.raises(DBOSNotAuthorizedError):
        calls_auditor_step()
    with DBOSContextSetAuth("frank", ["auditor"]):
        assert calls_auditor_step() == ["frank", ["auditor"], "auditor"]
    assert auditor_step() == [None, None, None]  # outside a workflow: a plain call, unchecked

    with pytest.raises(DBOSNotAuthorizedError):
        writer_transaction()  # outside a workflow too: it runs as a workflow of its own
    with DBOSContextSetAuth("gina", ["writer"]):
        assert writer_transaction() == ["gina", ["writer"], "writer"]


def test_class_default_roles_and_per_method_overrides(launched: str) -> None:
    with pytest.raises(DBOSNotAuthorizedError):
        STAFF.staff_workflow()
    assert STAFF.anyone_workflow() == [None, None, None]  # an empty list lifts the default
    with DBOSContextSetAuth("hal", ["staff"]):
        assert STAFF.staff_workflow() == ["hal", ["staff"], "staff"]
        with pytest.raises(DBOSNotAuthorizedError):
            STAFF.boss_workflow()  # its own roles replace the class's


def test_a_client_enqueues_for_a_user(launched: str) -> None:
    client = DBOSClient(system_database_url=launched)
    try:
        handle = client.enqueue(
            {
                "queue_name": "auth-queue",
                "workflow_name": "admin_below",
                "authenticated_user": "ivy",
                "authenticated_roles": ["admin"],
            }
        )
        assert handle.get_result() == ["ivy", ["admin"], "admin"]
        (status,) = client.list_workflows(user="ivy")
        assert (status.authenticated_user, status.authenticated_roles) == ("ivy", ["admin"])
        with pytest.raises(TypeError, match="list of role names"):
            client.enqueue(
                {
                    "queue_name": "auth-queue",
                    "workflow_name": "admin_below",
                    "authenticated_roles": "admin",  # type: ignore[typeddict-item]
                }
            )
    finally:
        client.destroy()


def test_fastapi_answers_403_for_a_missing_role(launched: str) -> None:
    from fastapi import FastAPI, Request
    from fastapi.testclient import TestClient

    app = FastAPI()
    DBOS.destroy()
    DBOS(config={"name": "auth-fastapi", "system_database_url": launched}, fastapi=app)

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Any) -> Any:
        with DBOSContextSetAuth(request.headers.get("x-user"), ["user"]):
            return await call_next(request)

    @app.get("/admin")
    def admin_route() -> list[Any]:
        return admin_below()

    with TestClient(app) as http:
        response = http.get("/admin", headers={"x-user": "jay"})
    assert response.status_code == 403
    assert response.json() == {
        "message": f"Function {admin_below.__qualname__} has required roles, but user is "
        "not authenticated for any of them",
        "dbos_error_code": "8",
        "dbos_error": "DBOSNotAuthorizedError",
    }


@pytest.fixture
def auth_launcher(system_database_url: str, tmp_path: Path) -> Iterator[Launcher]:
    markers = tmp_path / "markers"
    markers.mkdir()
    launcher = Launcher(system_database_url, markers, app=program("auth_app"))
    try:
        yield launcher
    finally:
        launcher.kill_all()


@pytest.mark.parametrize("scenario", ["direct", "queued"])
def test_a_recovered_workflow_runs_for_its_user(auth_launcher: Launcher, scenario: str) -> None:
    """SIGKILL mid-step; the recovering process has no user of its own, yet the workflow
    resumes for the one it was started for, under the same role, its children too."""
    first = auth_launcher.spawn("start", scenario)
    auth_launcher.wait_for_marker("who_am_i", [first], count=2)
    auth_launcher.sigkill(first)
    report = auth_launcher.recover(scenario)
    expected = ["alice", ["reader", "admin"], "admin"]
    assert report["recorded"] == expected
    result = report["result"]
    assert result["before"] == {"value": expected, "pid": first.pid}  # recorded, not re-run
    assert result["during"] == {"value": expected, "pid": report["pid"]}  # ran again here
    assert result["child"]["value"] == expected
    assert auth_launcher.pids("who_am_i") == [first.pid, first.pid, report["pid"], report["pid"]]

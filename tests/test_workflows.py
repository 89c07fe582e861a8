"""Workflows, steps, child workflows, handles and idempotency, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from dbos import DBOS, SetWorkflowID, WorkflowHandle
from dbos.error import (
    DBOSConflictingRegistrationError,
    DBOSConflictingWorkflowError,
    DBOSMaxStepRetriesExceeded,
    DBOSNonExistentWorkflowError,
)

pytestmark = pytest.mark.through_pgbouncer  # also through a transaction-mode PgBouncer

calls: dict[str, int] = {}


def _count(name: str) -> None:
    calls[name] = calls.get(name, 0) + 1


@DBOS.step()
def add_one(x: int) -> int:
    _count("add_one")
    return x + 1


@DBOS.step()
def explode(message: str) -> None:
    _count("explode")
    raise ValueError(message)


@DBOS.workflow()
def two_steps(x: int) -> int:
    return add_one(add_one(x))


@DBOS.workflow()
def parent_of_two_steps(x: int) -> dict[str, int]:
    first = add_one(x)
    child = two_steps(first)
    return {"first": first, "child": child, "step_id_seen": DBOS.step_id or 0}


@DBOS.workflow()
def failing_workflow(message: str) -> None:
    explode(message)


@DBOS.workflow()
def report_ids() -> dict[str, object]:
    return {"workflow_id": DBOS.workflow_id, "in_step": step_ids()}


@DBOS.step()
def step_ids() -> list[object]:
    return [DBOS.workflow_id, DBOS.step_id]


def test_workflow_runs_steps_and_records_them(dbos: None) -> None:
    with SetWorkflowID("wf-basic"):
        assert two_steps(1) == 3
    steps = DBOS.list_workflow_steps("wf-basic")
    assert [(s["function_id"], s["function_name"], s["output"]) for s in steps] == [
        (1, "add_one", 2),
        (2, "add_one", 3),
    ]
    status = DBOS.get_workflow_status("wf-basic")
    assert status is not None
    assert status.status == "SUCCESS"
    assert status.output == 3
    assert status.name == "two_steps"
    assert status.input == {"args": [1], "kwargs": {}}
    assert status.executor_id == "local"


def test_child_workflow_records_start_and_result(dbos: None) -> None:
    with SetWorkflowID("parent-1"):
        result = parent_of_two_steps(10)
    assert result == {"first": 11, "child": 13, "step_id_seen": 0}
    steps = DBOS.list_workflow_steps("parent-1")
    assert [(s["function_name"], s["child_workflow_id"]) for s in steps] == [
        ("add_one", None),
        ("two_steps", "parent-1-2"),
        ("DBOS.getResult", "parent-1-2"),
    ]
    child = DBOS.get_workflow_status("parent-1-2")
    assert child is not None
    assert (child.status, child.output, child.parent_workflow_id) == ("SUCCESS", 13, "parent-1")


def test_workflow_and_step_ids_visible(dbos: None) -> None:
    with SetWorkflowID("ids-1"):
        out = report_ids()
    assert out == {"workflow_id": "ids-1", "in_step": ["ids-1", 1]}
    assert DBOS.workflow_id is None
    assert DBOS.step_id is None


def test_same_workflow_id_runs_body_once(dbos: None) -> None:
    before = calls.get("add_one", 0)
    with SetWorkflowID("payment-42"):
        assert two_steps(5) == 7
    with SetWorkflowID("payment-42"):
        assert two_steps(5) == 7
    handle = DBOS.start_workflow(two_steps, 5)
    assert handle.get_result() == 7
    assert calls["add_one"] - before == 4  # two runs of two steps: the repeat ran nothing


def test_same_workflow_id_reraises_recorded_error(dbos: None) -> None:
    before = calls.get("explode", 0)
    for _ in range(2):
        with SetWorkflowID("fails-once"), pytest.raises(ValueError, match="boom"):
            failing_workflow("boom")
    assert calls["explode"] - before == 1
    status = DBOS.get_workflow_status("fails-once")
    assert status is not None and status.status == "ERROR"
    assert isinstance(status.error, ValueError)


def test_workflow_id_reused_for_another_function_is_refused(dbos: None) -> None:
    with SetWorkflowID("taken"):
        two_steps(1)
    with SetWorkflowID("taken"), pytest.raises(DBOSConflictingWorkflowError):
        failing_workflow("x")


def test_concurrent_callers_with_one_id_run_once(dbos: None) -> None:
    gate = threading.Event()
    runs: list[int] = []

    @DBOS.workflow(name="test_concurrent_callers.slow")
    def slow(x: int) -> int:
        runs.append(x)
        gate.wait(5)
        return x * 2

    results: list[int] = []

    def caller() -> None:
        with SetWorkflowID("race-in-process"):
            results.append(slow(21))

    threads = [threading.Thread(target=caller) for _ in range(4)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    assert results == [42, 42, 42, 42]
    assert runs == [21]


def test_start_workflow_returns_handle(dbos: None) -> None:
    handle: WorkflowHandle[int] = DBOS.start_workflow(two_steps, 40)
    assert handle.get_result() == 42
    assert handle.get_workflow_id() == handle.workflow_id
    assert handle.get_status().status == "SUCCESS"
    again = DBOS.retrieve_workflow(handle.workflow_id)
    assert again.get_result() == 42


def test_unknown_workflow_id_is_a_clear_error(dbos: None) -> None:
    with pytest.raises(DBOSNonExistentWorkflowError, match="no-such-id"):
        DBOS.retrieve_workflow("no-such-id")
    assert DBOS.get_workflow_status("no-such-id") is None
    with pytest.raises(DBOSNonExistentWorkflowError):
        DBOS.cancel_workflow("no-such-id")
    with pytest.raises(DBOSNonExistentWorkflowError):
        DBOS.resume_workflow("no-such-id")
    with pytest.raises(DBOSNonExistentWorkflowError):
        DBOS.fork_workflow("no-such-id", 1)


def test_step_retries_then_succeeds(dbos: None) -> None:
    attempts: list[int] = []

    @DBOS.step(
        name="test_step_retries.flaky",
        retries_allowed=True,
        max_attempts=4,
        interval_seconds=0.01,
    )
    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("transient")
        return "ok"

    @DBOS.workflow(name="test_step_retries.wf")
    def wf() -> str:
        return flaky()

    assert wf() == "ok"
    assert len(attempts) == 3


def test_step_retries_exhausted_raise_clear_error(dbos: None) -> None:
    attempts: list[int] = []

    @DBOS.step(
        name="test_retries_exhausted.always",
        retries_allowed=True,
        max_attempts=3,
        interval_seconds=0.01,
        backoff_rate=1.5,
    )
    def always_fails() -> None:
        attempts.append(1)
        raise ConnectionError(f"attempt {len(attempts)}")

    @DBOS.workflow(name="test_retries_exhausted.wf")
    def wf() -> None:
        always_fails()

    with SetWorkflowID("exhausted"), pytest.raises(DBOSMaxStepRetriesExceeded) as info:
        wf()
    assert len(attempts) == 3
    assert "test_retries_exhausted.always" in str(info.value)
    assert [str(e) for e in info.value.errors] == ["attempt 1", "attempt 2", "attempt 3"]
    # The recorded error is the same on a replay, without running the step again.
    with SetWorkflowID("exhausted"), pytest.raises(DBOSMaxStepRetriesExceeded):
        wf()
    assert len(attempts) == 3


def test_steps_outside_workflows_are_plain_calls(dbos: None) -> None:
    assert add_one(1) == 2
    assert DBOS.list_workflows() == []


def test_a_second_function_under_one_name_wins_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from dbos._registry import registry

    @DBOS.workflow(name="test_registration.same_name")
    def first() -> None:
        pass

    @DBOS.workflow(name="test_registration.same_name")
    def second() -> None:
        pass

    info = registry.get_function("test_registration.same_name")
    assert info is not None and info.func.__code__ is second.__wrapped__.__code__  # type: ignore[attr-defined]
    assert any("the later one wins" in r.getMessage() for r in caplog.records)
    # A name cannot change kind.
    with pytest.raises(DBOSConflictingRegistrationError):

        @DBOS.step(name="test_registration.same_name")
        def as_step() -> None:
            pass


def test_list_workflows_filters(dbos: None) -> None:
    for i in range(3):
        with SetWorkflowID(f"list-{i}"):
            two_steps(i)
    with SetWorkflowID("list-fail"), pytest.raises(ValueError):
        failing_workflow("x")
    all_ids = [w.workflow_id for w in DBOS.list_workflows()]
    assert all_ids == ["list-0", "list-1", "list-2", "list-fail"]
    assert [w.workflow_id for w in DBOS.list_workflows(sort_desc=True, limit=2)] == [
        "list-fail",
        "list-2",
    ]
    assert [w.workflow_id for w in DBOS.list_workflows(status="ERROR")] == ["list-fail"]
    assert [w.workflow_id for w in DBOS.list_workflows(limit=2, offset=1)] == [
        "list-1",
        "list-2",
    ]
    assert len(DBOS.list_workflows(name="two_steps")) == 3
    assert [w.workflow_id for w in DBOS.list_workflows(workflow_ids=["list-1"])] == ["list-1"]
    assert [w.workflow_id for w in DBOS.list_workflows(workflow_id="list-2")] == ["list-2"]
    assert DBOS.list_workflows(status="PENDING", limit=10) == []
    first = DBOS.list_workflows()[0]
    assert (
        DBOS.list_workflows(start_time="2000-01-01T00:00:00", end_time="2000-01-02T00:00:00") == []
    )
    assert first.created_at is not None and first.updated_at is not None


def test_async_step_retries_and_exhaustion(dbos: None) -> None:
    import asyncio

    attempts: list[int] = []

    @DBOS.step(
        name="test_async_retries.flaky",
        retries_allowed=True,
        max_attempts=3,
        interval_seconds=0.01,
    )
    async def flaky(succeed_on: int) -> int:
        attempts.append(1)
        if len(attempts) < succeed_on:
            raise ConnectionError(f"attempt {len(attempts)}")
        return len(attempts)

    @DBOS.workflow(name="test_async_retries.wf")
    async def wf(succeed_on: int) -> int:
        return await flaky(succeed_on)

    assert asyncio.run(wf(2)) == 2
    attempts.clear()
    with pytest.raises(DBOSMaxStepRetriesExceeded) as info:
        asyncio.run(wf(10))
    assert len(attempts) == 3
    assert [str(e) for e in info.value.errors] == ["attempt 1", "attempt 2", "attempt 3"]


def test_step_status_reports_the_attempt(dbos: None) -> None:
    seen: list[object] = []

    @DBOS.step(
        name="test_step_status.counting",
        retries_allowed=True,
        max_attempts=3,
        interval_seconds=0.01,
    )
    def counting() -> int:
        status = DBOS.step_status
        assert status is not None
        seen.append((status.step_id, status.current_attempt, status.max_attempts))
        if status.current_attempt < 2:
            raise ConnectionError("again")
        return status.current_attempt

    @DBOS.step(name="test_step_status.plain")
    def plain() -> object:
        status = DBOS.step_status
        assert status is not None
        return [status.step_id, status.current_attempt, status.max_attempts]

    @DBOS.workflow(name="test_step_status.wf")
    def wf() -> list[object]:
        return [counting(), plain(), DBOS.step_status]

    assert wf() == [2, [2, None, None], None]
    assert seen == [(1, 0, 3), (1, 1, 3), (1, 2, 3)]
    assert DBOS.step_status is None


def test_a_failing_background_workflow_is_logged(
    dbos: None, caplog: pytest.LogCaptureFixture
) -> None:
    with SetWorkflowID("bg-fails"):
        handle = DBOS.start_workflow(failing_workflow, "nobody is waiting")
    with pytest.raises(ValueError):
        handle.get_result()
    failures = [r for r in caplog.records if r.name == "dbos" and "bg-fails" in r.getMessage()]
    assert failures and failures[0].exc_info is not None
    assert "nobody is waiting" in str(failures[0].exc_info[1])

"""Step options of upstream 2.x beyond the retry schedule: `should_retry` (a failure not worth
retrying stops at once, with its own error: py#444, py#643) and `timeout_seconds` (an attempt of
an async step that hangs is cancelled and fails with DBOSStepTimeoutError, then is retried or
ends the step: ts#1273)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from dbos import DBOS, SetWorkflowID
from dbos.error import DBOSMaxStepRetriesExceeded, DBOSStepTimeoutError

attempts: list[str] = []
cancelled: list[str] = []


def _transient(exc: Exception) -> bool:
    return isinstance(exc, ConnectionError)


@DBOS.step(retries_allowed=True, max_attempts=5, interval_seconds=0, should_retry=_transient)
def flaky(failures: list[str]) -> str:
    attempts.append("flaky")
    if len(attempts) <= len(failures):
        kind = failures[len(attempts) - 1]
        raise ConnectionError("network") if kind == "transient" else ValueError("bad input")
    return "done"


@DBOS.workflow()
def runs_flaky(failures: list[str]) -> str:
    return flaky(failures)


async def _async_transient(exc: Exception) -> bool:
    await asyncio.sleep(0)
    return isinstance(exc, ConnectionError)


@DBOS.step(retries_allowed=True, max_attempts=5, interval_seconds=0, should_retry=_async_transient)
async def async_flaky(fail_with: str) -> str:
    attempts.append("async_flaky")
    if len(attempts) == 1:
        raise ConnectionError("network") if fail_with == "transient" else ValueError("bad input")
    return "done"


@DBOS.workflow()
async def runs_async_flaky(fail_with: str) -> str:
    return await async_flaky(fail_with)


async def _hang_or_not(label: str, hang_for: float) -> str:
    attempts.append(label)
    try:
        await asyncio.sleep(hang_for if len(attempts) == 1 else 0)
    except asyncio.CancelledError:
        cancelled.append(label)
        raise
    return "finished"


@DBOS.step(timeout_seconds=0.2)
async def hangs(hang_for: float) -> str:
    return await _hang_or_not("hangs", hang_for)


@DBOS.step(timeout_seconds=0.2, retries_allowed=True, max_attempts=3, interval_seconds=0)
async def hangs_once(hang_for: float) -> str:
    return await _hang_or_not("hangs_once", hang_for)


@DBOS.workflow()
async def runs_hangs(hang_for: float) -> str:
    return await hangs(hang_for)


@DBOS.workflow()
async def runs_hangs_once(hang_for: float) -> str:
    return await hangs_once(hang_for)


@pytest.fixture
def launched(dbos: None) -> Iterator[None]:
    attempts.clear()
    cancelled.clear()
    yield


def _recorded_error(workflow_id: str) -> object:
    (step,) = DBOS.list_workflow_steps(workflow_id)
    return step["error"]


def test_should_retry_retries_what_it_accepts(launched: None) -> None:
    assert runs_flaky(["transient", "transient"]) == "done"
    assert attempts == ["flaky"] * 3


def test_should_retry_stops_at_once_with_the_error_itself(launched: None) -> None:
    with SetWorkflowID("not-retried"), pytest.raises(ValueError, match="bad input"):
        runs_flaky(["transient", "permanent", "transient"])
    assert attempts == ["flaky"] * 2  # one retry of the transient failure, none after
    assert isinstance(_recorded_error("not-retried"), ValueError)
    with SetWorkflowID("not-retried"), pytest.raises(ValueError, match="bad input"):
        runs_flaky([])  # the recorded outcome, not a new run
    assert attempts == ["flaky"] * 2


def test_an_async_step_may_have_an_async_should_retry(launched: None) -> None:
    assert asyncio.run(runs_async_flaky("transient")) == "done"
    assert attempts == ["async_flaky"] * 2
    attempts.clear()
    with pytest.raises(ValueError):
        asyncio.run(runs_async_flaky("permanent"))
    assert attempts == ["async_flaky"]


def test_a_hanging_attempt_is_cancelled_and_fails_the_step(launched: None) -> None:
    with SetWorkflowID("hangs"), pytest.raises(DBOSStepTimeoutError, match="0.2"):
        asyncio.run(runs_hangs(30))
    assert cancelled == ["hangs"]  # the attempt's task was cancelled, not left running
    assert isinstance(_recorded_error("hangs"), DBOSStepTimeoutError)


def test_a_hanging_attempt_is_retried_when_retries_are_allowed(launched: None) -> None:
    assert asyncio.run(runs_hangs_once(30)) == "finished"
    assert attempts == ["hangs_once", "hangs_once"]
    assert cancelled == ["hangs_once"]


def test_exhausted_timeouts_are_listed_in_the_retries_error(launched: None) -> None:
    @DBOS.step(
        name="always_hangs",
        timeout_seconds=0.05,
        retries_allowed=True,
        max_attempts=2,
        interval_seconds=0,
    )
    async def always_hangs() -> None:
        await asyncio.sleep(30)

    with pytest.raises(DBOSMaxStepRetriesExceeded) as caught:
        asyncio.run(always_hangs())  # outside a workflow: the options hold as well
    assert [type(e) for e in caught.value.errors] == [DBOSStepTimeoutError] * 2


def test_options_a_sync_step_cannot_honour_are_refused_where_written() -> None:
    with pytest.raises(TypeError, match="async steps only"):

        @DBOS.step(timeout_seconds=1.0)
        def sync_step() -> None:
            pass

    with pytest.raises(TypeError, match="cannot be async"):

        @DBOS.step(retries_allowed=True, should_retry=_async_transient)
        def sync_step_async_predicate() -> None:
            pass

    with pytest.raises(ValueError, match="positive and finite"):
        DBOS.step(timeout_seconds=0)


preempt_runs: list[str] = []


@DBOS.step(preemptible=True)
async def long_preemptible(hang_for: float) -> str:
    preempt_runs.append("started")
    try:
        await asyncio.sleep(hang_for if len(preempt_runs) == 1 else 0)
    except asyncio.CancelledError:
        preempt_runs.append("cancelled")
        raise
    return "finished"


@DBOS.workflow()
async def runs_preemptible(hang_for: float) -> str:
    return await long_preemptible(hang_for)


def test_a_preemptible_step_stops_with_its_workflow(launched: None) -> None:
    import threading
    import time

    preempt_runs.clear()
    with SetWorkflowID("preempted"):
        handle = DBOS.start_workflow(runs_preemptible, 30)
    deadline = time.monotonic() + 10
    while not preempt_runs and time.monotonic() < deadline:
        time.sleep(0.02)
    threading.Timer(0.1, DBOS.cancel_workflow, ("preempted",)).start()
    started = time.monotonic()
    status = None
    while time.monotonic() - started < 10:
        status = handle.get_status().status
        if status == "CANCELLED" and "cancelled" in preempt_runs:
            break
        time.sleep(0.02)
    assert status == "CANCELLED" and preempt_runs == ["started", "cancelled"]
    assert time.monotonic() - started < 5  # not the step's 30 s
    assert DBOS.list_workflow_steps("preempted") == []  # the cut-off attempt is not recorded
    assert DBOS.resume_workflow("preempted").get_result() == "finished"
    assert preempt_runs == ["started", "cancelled", "started"]


def test_a_cancel_made_here_preempts_before_the_caller_hears_of_it(launched: None) -> None:
    from dbos.error import DBOSAwaitedWorkflowCancelledError

    async def main() -> None:
        preempt_runs.clear()
        with SetWorkflowID("preempted-at-once"):
            handle = await DBOS.start_workflow_async(runs_preemptible, 30)
        while not preempt_runs:
            await asyncio.sleep(0.01)
        await DBOS.cancel_workflow_async("preempted-at-once")
        with pytest.raises(DBOSAwaitedWorkflowCancelledError):
            await handle.get_result()
        # Woken by the cancel itself, not by a later look at a flag.
        assert preempt_runs == ["started", "cancelled"]

    asyncio.run(main())


def test_preemptible_is_for_async_steps() -> None:
    with pytest.raises(TypeError, match="preemptible applies to async steps only"):

        @DBOS.step(preemptible=True)
        def sync_preemptible() -> None:
            pass

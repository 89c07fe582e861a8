"""Step options of upstream 2.x beyond the retry schedule: `should_retry` (a failure not worth
retrying stops at once, with its own error: py#444, py#643) and `timeout_seconds` (an attempt of
an async step that hangs is cancelled and fails with DBOSStepTimeoutError, then is retried or
ends the step: ts#1273)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from dbos import DBOS, SetWorkflowID
from dbos.error import (
    DBOSException,
    DBOSInvalidStepOptionError,
    DBOSMaxStepRetriesExceeded,
    DBOSStepTimeoutError,
)

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

    @DBOS.workflow(name="runs_always_hangs")
    async def runs_always_hangs() -> None:
        await always_hangs()

    with pytest.raises(DBOSMaxStepRetriesExceeded) as caught:
        asyncio.run(runs_always_hangs())
    assert [type(e) for e in caught.value.errors] == [DBOSStepTimeoutError] * 2


def test_outside_a_workflow_a_step_is_a_plain_call(launched: None) -> None:
    """No checkpoint, so no retries and no timeout either (upstream's rule): the function runs
    once and its own error comes out; a slow async one is not cut short."""

    @DBOS.step(name="plain_flaky", retries_allowed=True, max_attempts=3, interval_seconds=0)
    def plain_flaky() -> None:
        attempts.append("plain_flaky")
        raise ValueError("once")

    @DBOS.step(name="plain_slow", timeout_seconds=0.05)
    async def plain_slow() -> str:
        await asyncio.sleep(0.2)
        return "finished"

    with pytest.raises(ValueError, match="once"):
        plain_flaky()
    assert attempts == ["plain_flaky"]
    assert asyncio.run(plain_slow()) == "finished"
    assert DBOS.list_workflows() == []  # nothing was recorded


def test_options_a_sync_step_cannot_honour_are_refused_where_written() -> None:
    with pytest.raises(DBOSInvalidStepOptionError, match="only supported for async steps"):

        @DBOS.step(timeout_seconds=1.0)
        def sync_step() -> None:
            pass

    with pytest.raises(DBOSInvalidStepOptionError, match="only supported for async steps"):

        @DBOS.step(preemptible=True)
        def sync_preemptible() -> None:
            pass

    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(DBOSInvalidStepOptionError, match="positive and finite"):
            DBOS.step(timeout_seconds=bad)
    assert issubclass(DBOSInvalidStepOptionError, DBOSException)
    assert issubclass(DBOSInvalidStepOptionError, ValueError)


def test_an_async_should_retry_on_a_sync_step_is_refused_when_it_runs(launched: None) -> None:
    """Declaring it is allowed (as upstream); running the step in a workflow is refused before
    the function runs: its retries could not await the predicate."""

    @DBOS.step(
        name="sync_async_predicate",
        retries_allowed=True,
        interval_seconds=0,
        should_retry=_async_transient,
    )
    def sync_async_predicate() -> None:
        attempts.append("sync_async_predicate")

    @DBOS.workflow(name="runs_sync_async_predicate")
    def runs_sync_async_predicate() -> None:
        sync_async_predicate()

    with pytest.raises(DBOSInvalidStepOptionError, match="sync but should_retry is async"):
        runs_sync_async_predicate()
    assert attempts == []
    sync_async_predicate()  # outside a workflow: a plain call, which never retries
    assert attempts == ["sync_async_predicate"]


def test_run_step_checks_its_options_like_the_decorator(launched: None) -> None:
    def sync_function() -> str:
        return "ran"

    async def async_function() -> str:
        await asyncio.sleep(0)
        return "ran"

    with pytest.raises(DBOSInvalidStepOptionError, match="only supported for async steps"):
        DBOS.run_step({"timeout_seconds": 1}, sync_function)
    with pytest.raises(DBOSInvalidStepOptionError, match="positive and finite"):
        DBOS.run_step({"timeout_seconds": -1}, async_function)
    assert DBOS.run_step({"timeout_seconds": 1}, async_function) == "ran"


slow_cancelled: list[str] = []


async def _slow_async_step() -> str:
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        slow_cancelled.append("cancelled")
        raise
    return "finished"


@DBOS.workflow()
def sync_workflow_with_a_slow_async_step() -> str:
    return DBOS.run_step({"name": "slow", "timeout_seconds": 0.2}, _slow_async_step)


def test_run_step_of_an_async_function_from_sync_code_times_out(launched: None) -> None:
    slow_cancelled.clear()
    with SetWorkflowID("run-step-timeout"), pytest.raises(DBOSStepTimeoutError):
        sync_workflow_with_a_slow_async_step()
    assert slow_cancelled == ["cancelled"]
    assert isinstance(_recorded_error("run-step-timeout"), DBOSStepTimeoutError)


def test_sync_calls_are_refused_on_a_running_event_loop(launched: None) -> None:
    """They would block the loop: refused, naming the `_async` variant (as upstream)."""

    async def on_the_loop() -> None:
        with pytest.raises(RuntimeError, match="run_step_async"):
            DBOS.run_step(None, lambda: "x")
        with pytest.raises(RuntimeError, match="list_workflows_async"):
            DBOS.list_workflows()
        with pytest.raises(RuntimeError, match="send_async"):
            DBOS.send("nobody", "hi")
        with pytest.raises(RuntimeError, match="get_event_async"):
            DBOS.get_event("nobody", "key", 0)
        assert await DBOS.run_step_async(None, lambda: "x") == "x"

    asyncio.run(on_the_loop())


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


@DBOS.step(timeout_seconds=0.1)
async def swallows_its_cancellation() -> str:
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        pass  # refuses to stop: the attempt has still timed out
    return "should not count"


@DBOS.workflow()
async def runs_a_stubborn_step() -> str:
    return await swallows_its_cancellation()


def test_an_attempt_that_swallows_its_cancellation_still_times_out(launched: None) -> None:
    with SetWorkflowID("stubborn"), pytest.raises(DBOSStepTimeoutError):
        asyncio.run(runs_a_stubborn_step())
    assert isinstance(_recorded_error("stubborn"), DBOSStepTimeoutError)

"""`dbos.testing.time_skipping()` on both backends: durable timers (sleep, recv and get_event
timeouts, workflow timeouts, delayed enqueues, debouncer periods, cron ticks) come due in
virtual time as soon as every workflow waits on one, the times recorded are the virtual ones,
a running step holds the jump back, and leaving the block brings real time back."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from dbos import DBOS, Debouncer, Queue, SetEnqueueOptions, SetWorkflowTimeout, _clock
from dbos.error import DBOSAwaitedWorkflowCancelledError
from dbos.testing import TimeSkippingError, time_skipping

DAY = 86_400.0
HOUR = 3_600.0

skip_queue = Queue("test_time_skipping.queue")


@DBOS.workflow()
def sleep_then_wait_for_a_message() -> Any:
    DBOS.sleep(7 * DAY)
    return DBOS.recv("never-sent", timeout_seconds=2 * DAY)


def _steps(workflow_id: str) -> list[dict[str, Any]]:
    return list(DBOS.list_workflow_steps(workflow_id))


def _sec(epoch_ms: int | None) -> float:
    assert epoch_ms is not None
    return epoch_ms / 1000


def test_a_week_of_sleep_and_two_days_of_waiting_pass_in_virtual_time(dbos: None) -> None:
    real_start = time.time()
    with time_skipping() as clock:
        began = clock.time()
        handle = DBOS.start_workflow(sleep_then_wait_for_a_message)
        assert handle.get_result() is None  # the recv timed out: no message came
        assert clock.jumps == 2  # to the end of the sleep, then to the end of the recv
        ended = clock.time()
    assert time.time() - real_start < 7 * DAY / 1000  # the days were not waited out
    assert 9 * DAY <= ended - began < 9 * DAY + 60

    status = handle.get_status()
    assert status.status == "SUCCESS"
    created, updated = _sec(status.created_at), _sec(status.updated_at)
    assert began - 1 <= created < began + 60
    assert created + 9 * DAY <= updated < created + 9 * DAY + 60  # finished 9 virtual days on

    sleep, recv, recv_sleep = _steps(handle.workflow_id)[:3]
    assert sleep["function_name"] == "DBOS.sleep"
    # The sleep's recorded wake-up time and its completion are a week after the start.
    assert abs(_sec(sleep["completed_at_epoch_ms"]) - (created + 7 * DAY)) < 60
    assert abs(sleep["output"] - (created + 7 * DAY)) < 60
    # The recv's deadline is two days after it began, a week in; it completed then.
    assert recv["function_name"] == "DBOS.recv"
    assert recv_sleep["function_name"] == "DBOS.sleep"
    assert abs(recv_sleep["output"] - (created + 9 * DAY)) < 60
    assert abs(_sec(recv["completed_at_epoch_ms"]) - (created + 9 * DAY)) < 60


@DBOS.workflow()
def wait_an_hour_for_a_message() -> Any:
    return DBOS.recv("greeting", timeout_seconds=HOUR)


def test_time_stands_still_until_the_caller_waits_on_dbos(dbos: None) -> None:
    """The test's own pauses are real time: the recv's hour does not pass while the test
    sleeps before sending, only once it waits for the result (and then nothing is due)."""
    with time_skipping() as clock:
        began = clock.time()
        handle = DBOS.start_workflow(wait_an_hour_for_a_message)
        time.sleep(0.3)  # the workflow waits in recv meanwhile: no jump
        assert clock.jumps == 0
        DBOS.send(handle.workflow_id, "hello", topic="greeting")
        assert handle.get_result() == "hello"
        assert clock.time() - began < 60
        assert clock.jumps == 0


@DBOS.workflow()
def wait_for_an_event_of(other_id: str) -> Any:
    return DBOS.get_event(other_id, "never-set", timeout_seconds=2 * DAY)


def test_get_event_timeouts_in_and_outside_workflows(dbos: None) -> None:
    with time_skipping() as clock:
        began = clock.time()
        silent = DBOS.start_workflow(wait_for_a_message_forever)
        # From the test's thread: the wait's own timeout is the timer.
        assert DBOS.get_event(silent.workflow_id, "never-set", timeout_seconds=DAY) is None
        assert began + DAY <= clock.time() < began + DAY + 60
        # From a workflow: recorded as a step, with its deadline two virtual days on.
        waiter = DBOS.start_workflow(wait_for_an_event_of, silent.workflow_id)
        assert waiter.get_result() is None
        assert began + 3 * DAY <= clock.time() < began + 3 * DAY + 60
        DBOS.cancel_workflow(silent.workflow_id)
    get_event, deadline = _steps(waiter.workflow_id)[:2]
    assert get_event["function_name"] == "DBOS.getEvent"
    assert began + 3 * DAY - 60 <= deadline["output"] <= began + 3 * DAY + 60


@DBOS.workflow()
def wait_for_a_message_forever() -> Any:
    return DBOS.recv("never-sent", timeout_seconds=30 * DAY)


def test_a_workflow_timeout_of_a_day_fires(dbos: None) -> None:
    with time_skipping() as clock:
        began = clock.time()
        with SetWorkflowTimeout(DAY):
            handle = DBOS.start_workflow(wait_for_a_message_forever)
        with pytest.raises(DBOSAwaitedWorkflowCancelledError):
            handle.get_result()
    status = handle.get_status()
    assert status.status == "CANCELLED"
    deadline = _sec(status.workflow_deadline_epoch_ms)
    assert began + DAY - 1 <= deadline < began + DAY + 60
    assert deadline <= _sec(status.updated_at) < deadline + 60  # cancelled at the deadline


@DBOS.workflow()
def report_the_time() -> float:
    return _clock.now()


def test_a_delayed_enqueue_of_an_hour_runs_an_hour_later(dbos: None) -> None:
    with time_skipping() as clock:
        began = clock.time()
        with SetEnqueueOptions(delay_seconds=HOUR):
            handle = skip_queue.enqueue(report_the_time)
        ran_at = handle.get_result()
    assert began + HOUR <= ran_at < began + HOUR + 60
    status = handle.get_status()
    assert began + HOUR <= _sec(status.dequeued_at) < began + HOUR + 60


debounced_runs: list[tuple[str, float]] = []


@DBOS.workflow()
def note_debounced(text: str) -> str:
    debounced_runs.append((text, _clock.now()))
    return text


hourly = Debouncer.create(note_debounced)


def test_a_debouncer_period_passes(dbos: None) -> None:
    debounced_runs.clear()
    with time_skipping() as clock:
        began = clock.time()
        first = hourly.debounce("k", HOUR, "first")
        last = hourly.debounce("k", HOUR, "last")
        assert first.workflow_id == last.workflow_id
        assert last.get_result() == "last"
    assert [text for text, _ in debounced_runs] == ["last"]
    assert began + HOUR <= debounced_runs[0][1] < began + HOUR + 60


ticks: list[tuple[datetime, float]] = []


@DBOS.workflow()
def on_tick(scheduled_time: datetime, context: Any) -> None:
    ticks.append((scheduled_time, _clock.now()))


def test_a_cron_schedule_ticks_three_times_in_three_virtual_minutes(dbos: None) -> None:
    ticks.clear()
    with time_skipping() as clock:
        began = clock.now()
        DBOS.create_schedule(
            schedule_name="every-minute", workflow_fn=on_tick, schedule="* * * * *"
        )
        clock.sleep(180)
        ended = clock.now()
        DBOS.delete_schedule("every-minute")
    assert ended - began >= timedelta(seconds=180)
    assert clock.jumps >= 3  # to each tick (and to the end of the sleep): none waited out
    within = sorted(t for t in ticks if t[0] <= began + timedelta(seconds=180))
    first = (began + timedelta(minutes=1)).replace(second=0, microsecond=0)
    assert [t[0] for t in within] == [first + timedelta(minutes=i) for i in range(3)]
    for scheduled, ran_at in within:  # each ran at its tick, in virtual time
        assert scheduled.timestamp() <= ran_at < scheduled.timestamp() + 30


step_times: list[tuple[float, float]] = []


@DBOS.step()
def slow_real_step() -> None:
    started = _clock.now()
    time.sleep(0.2)
    step_times.append((started, _clock.now()))


@DBOS.workflow()
def run_a_slow_step() -> None:
    slow_real_step()


@DBOS.workflow()
def sleep_a_day() -> float:
    DBOS.sleep(DAY)
    return _clock.now()


def test_no_jump_while_a_workflow_runs_a_step(dbos: None) -> None:
    step_times.clear()
    with time_skipping() as clock:
        began = clock.time()
        sleeper = DBOS.start_workflow(sleep_a_day)
        stepper = DBOS.start_workflow(run_a_slow_step)
        stepper.get_result()
        woke_at = sleeper.get_result()
    (started, ended) = step_times[0]
    assert 0.15 <= ended - started < 30  # the step's 0.2 s was not skipped over
    assert ended < began + DAY  # ... nor did the day pass during it
    assert began + DAY <= woke_at < began + DAY + 60


@DBOS.workflow()
async def sleep_a_day_async() -> float:
    await DBOS.sleep_async(DAY)
    return _clock.now()


def test_async_block_and_async_workflow(dbos: None) -> None:
    async def main() -> tuple[float, float]:
        async with time_skipping() as clock:
            began = clock.time()
            handle = await DBOS.start_workflow_async(sleep_a_day_async)
            return began, await handle.get_result()

    began, woke_at = asyncio.run(main())
    assert began + DAY <= woke_at < began + DAY + 60


def test_nested_or_concurrent_blocks_are_refused(dbos: None) -> None:
    with time_skipping():
        with pytest.raises(TimeSkippingError, match=r"already active \(entered at .*test_time_"):
            with time_skipping():
                pass
        refused: list[BaseException] = []

        def other_thread() -> None:
            try:
                with time_skipping():
                    pass
            except TimeSkippingError as exc:
                refused.append(exc)

        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert len(refused) == 1
    with time_skipping():  # once the block has ended, a new one may begin
        pass


release_blocker = threading.Event()


@DBOS.step()
def skipping_waits_for_release() -> None:
    release_blocker.wait(30)


@DBOS.workflow()
def hold_a_step() -> None:
    skipping_waits_for_release()


@DBOS.workflow()
def sleep_an_hour() -> None:
    DBOS.sleep(HOUR)


def test_leaving_the_block_restores_real_time(dbos: None, caplog: pytest.LogCaptureFixture) -> None:
    release_blocker.clear()
    with time_skipping() as clock:
        assert DBOS.start_workflow(sleep_a_day).get_result() >= time.time() + DAY - 60
        blocker = DBOS.start_workflow(hold_a_step)  # busy: no jump from now on
        sleeper = DBOS.start_workflow(sleep_an_hour)
        while not _steps(sleeper.workflow_id):  # its wake-up time is recorded
            time.sleep(0.01)
        while not clock._skipper.waits_on_timer(sleeper.workflow_id):  # ... and it waits
            time.sleep(0.01)
        virtual_at_exit = clock.time()
    assert abs(_clock.now() - time.time()) < 1  # real time again
    assert virtual_at_exit - time.time() > DAY - 60
    assert any("1 workflow(s) waiting on timers" in r.getMessage() for r in caplog.records)
    # The sleeper keeps its recorded wake-up time: an hour after the virtual time it began,
    # so a day and an hour of real time from now.
    wake_at = _steps(sleeper.workflow_id)[0]["output"]
    assert wake_at - time.time() > DAY + HOUR - 120
    time.sleep(0.3)
    assert sleeper.get_status().status == "PENDING"
    release_blocker.set()
    blocker.get_result()
    DBOS.cancel_workflow(sleeper.workflow_id)
    assert sleeper.get_status().status == "CANCELLED"


def test_outside_a_block_durable_time_is_real(dbos: None) -> None:
    assert abs(_clock.now() - time.time()) < 1
    assert abs(_clock.utcnow() - datetime.now(timezone.utc)) < timedelta(seconds=1)


def test_a_parked_workflow_wakes_at_its_virtual_deadline(dbos: None) -> None:
    """A workflow that parked (gave its thread back) while its recv waits two days is woken by
    the parked workflows' timer, which the virtual clock jumps like any durable timer; the
    recv's recorded times span the whole wait, from before the park."""
    with time_skipping() as clock:
        handle = DBOS.start_workflow(wait_an_hour_for_a_message)
        deadline = time.monotonic() + 10
        while _parked_in(handle.workflow_id) is None and time.monotonic() < deadline:
            time.sleep(0.02)  # real time: the block jumps only while the caller waits on DBOS
        assert _parked_in(handle.workflow_id) is not None, "the workflow never parked"
        began = clock.time()
        assert handle.get_result() is None  # timed out, an hour on
        assert clock.jumps == 1
        assert clock.time() - began >= HOUR - 60
    recv = _steps(handle.workflow_id)[0]
    assert recv["function_name"] == "DBOS.recv"
    assert recv["completed_at_epoch_ms"] - recv["started_at_epoch_ms"] >= (HOUR - 60) * 1000


def _parked_in(workflow_id: str) -> object:
    from dbos._core.runtime import get_runtime

    return get_runtime().parked.get(workflow_id)

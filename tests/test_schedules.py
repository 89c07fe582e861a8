"""`@DBOS.scheduled` on both backends: ticks run once each, with their scheduled times; the seed's
test fixture (destroy, configure, reset, launch) in a loop keeps them firing; downtime is not
replayed unless a schedule opts in; bad expressions are refused at decoration time; a schedule
declared after launch fires; a step or a transaction may be scheduled; the schedules are rows
of the system database, which an operator may pause."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from croniter import croniter

from dbos import DBOS, DBOSConfig, Queue
from dbos._core.runtime import get_runtime
from dbos._registry.schedules import unregister_schedule
from dbos._services.scheduler import LATE_GRACE_MS
from dbos.error import DBOSException, DBOSWorkflowFunctionNotFoundError

seen: list[tuple[str, datetime, datetime]] = []
lock = threading.Lock()
one_at_a_time = Queue("test_schedules.single", concurrency=1)


@DBOS.workflow()
def every_second(scheduled_time: datetime, actual_time: datetime) -> None:
    with lock:
        seen.append(("every_second", scheduled_time, actual_time))


@DBOS.workflow()
def catches_up(scheduled_time: datetime, actual_time: datetime) -> None:
    with lock:
        seen.append(("catches_up", scheduled_time, actual_time))


@DBOS.workflow()
async def every_second_async(scheduled_time: datetime, actual_time: datetime) -> None:
    with lock:
        seen.append(("every_second_async", scheduled_time, actual_time))


@DBOS.workflow()
def late_declared(scheduled_time: datetime, actual_time: datetime) -> None:
    with lock:
        seen.append(("late_declared", scheduled_time, actual_time))


@DBOS.workflow()
def health_check(scheduled_time, actual_time):  # type: ignore[no-untyped-def]
    return "healthy"


@DBOS.workflow()
def daily_backup(scheduled_time, actual_time):  # type: ignore[no-untyped-def]
    return "backup_completed"


@pytest.fixture(autouse=True)
def schedules() -> Iterator[None]:
    """Declare this module's schedules for its tests only: declared at import, they would
    fire in every launch of the whole suite."""
    DBOS.scheduled("* * * * * *")(every_second)  # every second
    DBOS.scheduled("* * * * * *", catch_up=2)(catches_up)
    DBOS.scheduled("*/15 * * * *")(health_check)  # Every 15 minutes (the seed's)
    DBOS.scheduled("0 2 * * *")(daily_backup)  # Daily at 2:00 AM (the seed's)
    yield
    DBOS.destroy()
    for name in ("every_second", "catches_up", "health_check", "daily_backup"):
        unregister_schedule(name)
    for name in (
        "slow_every_second",
        "every_second_async",
        "late_declared",
        "scheduled_step",
        "scheduled_transaction",
    ):
        unregister_schedule(name)


@pytest.fixture
def dbos_test(system_database_url: str) -> Iterator[str]:
    """The seed's test fixture."""
    DBOS.destroy()
    config: DBOSConfig = {"name": "test-app", "system_database_url": system_database_url}
    DBOS(config=config)
    DBOS.reset_system_database()
    DBOS.launch()
    yield system_database_url
    DBOS.destroy()


def _forget(*names: str) -> None:
    """Drop the ticks an earlier test (on the other backend) recorded under these names."""
    with lock:
        seen[:] = [entry for entry in seen if entry[0] not in names]


def _ticks(name: str) -> list[datetime]:
    with lock:
        return sorted(s for n, s, _ in seen if n == name)


def _wait_for_ticks(name: str, count: int, timeout: float = 15.0) -> list[datetime]:
    deadline = time.monotonic() + timeout
    while len(_ticks(name)) < count:
        assert time.monotonic() < deadline, f"{name}: fewer than {count} ticks"
        time.sleep(0.05)
    return _ticks(name)


def test_each_tick_runs_once_with_its_scheduled_time(dbos_test: str) -> None:
    seen.clear()
    ticks = _wait_for_ticks("every_second", 3)
    assert len(ticks) == len(set(ticks))  # no tick twice
    for tick in ticks:
        assert tick.tzinfo is not None and tick.microsecond == 0
    for earlier, later in zip(ticks, ticks[1:], strict=False):
        assert later - earlier == timedelta(seconds=1)
    ids = {w.workflow_id for w in DBOS.list_workflows(name="every_second")}
    assert {f"sched-every_second-{t.isoformat()}" for t in ticks} <= ids
    with lock:
        for _name, scheduled, actual in seen:
            assert actual >= scheduled


def test_schedules_fire_again_after_destroy_and_a_new_launch(system_database_url: str) -> None:
    for _ in range(3):  # the seed's fixture, three times in one process
        DBOS.destroy()
        DBOS(config={"name": "test-app", "system_database_url": system_database_url})
        DBOS.reset_system_database()
        seen.clear()
        DBOS.launch()
        try:
            _wait_for_ticks("every_second", 1)
        finally:
            DBOS.destroy()


def test_downtime_is_not_replayed_unless_a_schedule_catches_up(system_database_url: str) -> None:
    config: DBOSConfig = {"name": "test-app", "system_database_url": system_database_url}
    DBOS.destroy()
    DBOS(config=config)
    DBOS.launch()
    seen.clear()
    try:
        _wait_for_ticks("every_second", 1)
        _wait_for_ticks("catches_up", 1)
    finally:
        DBOS.destroy()
    before = _ticks("every_second")[-1]
    time.sleep(LATE_GRACE_MS / 1000 + 4)  # down for several ticks beyond the grace
    DBOS(config=config)
    DBOS.launch()
    try:
        started = get_runtime().scheduler.started_ms
        _wait_for_ticks("every_second", len(_ticks("every_second")) + 2)
        # Missed while no scheduler ran: not replayed, except a tick late by less than the
        # grace (a restart that quick loses nothing).
        downtime_end = datetime.fromtimestamp((started - LATE_GRACE_MS) / 1000, timezone.utc)
        scheduler_start = datetime.fromtimestamp(started / 1000, timezone.utc)
        assert [t for t in _ticks("every_second") if before < t < downtime_end] == []
        late = [t for t in _ticks("every_second") if downtime_end <= t < scheduler_start]
        assert len(late) >= LATE_GRACE_MS // 1000 - 1
        caught = [t for t in _ticks("catches_up") if before < t < downtime_end]
        assert len(caught) == 2  # catch_up=2: the last two of the missed ticks
        assert max(caught) > downtime_end - timedelta(seconds=2)
    finally:
        DBOS.destroy()


def test_the_schedules_are_rows_with_their_next_and_last_tick(dbos_test: str) -> None:
    sysdb = get_runtime().sysdb
    now = datetime.now(timezone.utc)
    for name, cron in (("health_check", "*/15 * * * *"), ("daily_backup", "0 2 * * *")):
        record = sysdb.schedules.get_schedule(name)
        assert record is not None and record.source == "decorator"
        assert record.schedule == cron and record.workflow_name == name
        expected = croniter(cron, now).get_next(datetime)
        assert record.next_tick_at == int(expected.timestamp() * 1000)
        assert record.last_fired_at is None
    # Upstream's list_schedules shows the schedules created at run time only.
    assert DBOS.list_schedules() == []
    assert DBOS.get_schedule("health_check") is None
    _wait_for_ticks("every_second", len(_ticks("every_second")) + 1)
    record = sysdb.schedules.get_schedule("every_second")
    assert record is not None and record.last_fired_at is not None
    assert datetime.fromisoformat(record.last_fired_at) <= datetime.now(timezone.utc)


def test_an_operator_pauses_and_resumes_a_declared_schedule(dbos_test: str) -> None:
    _wait_for_ticks("every_second", len(_ticks("every_second")) + 1)
    DBOS.pause_schedule("every_second")
    time.sleep(0.5)  # a tick claimed just before the pause may still start
    paused_at = datetime.now(timezone.utc)
    time.sleep(2.5)
    assert [t for t in _ticks("every_second") if t > paused_at] == []
    DBOS.resume_schedule("every_second")
    resumed_at = datetime.now(timezone.utc)
    ticks = _wait_for_ticks("every_second", len(_ticks("every_second")) + 2)
    assert [t for t in ticks if paused_at < t < resumed_at - timedelta(seconds=1)] == []
    with pytest.raises(DBOSException, match="@DBOS.scheduled"):
        DBOS.delete_schedule("every_second")  # the code declares it again at the next launch


def test_a_schedule_declared_after_launch_fires(dbos_test: str) -> None:
    _forget("late_declared")
    DBOS.scheduled("* * * * * *")(late_declared)
    ticks = _wait_for_ticks("late_declared", 2)
    assert len(ticks) == len(set(ticks))


@DBOS.step()
def scheduled_step(scheduled_time: datetime, actual_time: datetime) -> None:
    with lock:
        seen.append(("scheduled_step", scheduled_time, actual_time))


@DBOS.transaction()
def scheduled_transaction(scheduled_time: datetime, actual_time: datetime) -> None:
    with lock:
        seen.append(("scheduled_transaction", scheduled_time, actual_time))


def test_a_step_or_a_transaction_runs_on_a_schedule_as_a_workflow_of_its_own(
    dbos_test: str,
) -> None:
    _forget("scheduled_step", "scheduled_transaction")
    DBOS.scheduled("* * * * * *")(scheduled_step)
    DBOS.scheduled("* * * * * *")(scheduled_transaction)
    for name in ("scheduled_step", "scheduled_transaction"):
        ticks = _wait_for_ticks(name, 2)
        assert len(ticks) == len(set(ticks))
        runs = DBOS.list_workflows(schedule_name=name)
        assert {w.workflow_id for w in runs} >= {f"sched-{name}-{t.isoformat()}" for t in ticks}
        assert all(w.name == f"<temp>.{name}" and w.schedule_name == name for w in runs)


def test_a_schedule_removed_from_the_code_is_removed_at_the_next_launch(
    system_database_url: str,
) -> None:
    config: DBOSConfig = {"name": "test-app", "system_database_url": system_database_url}
    DBOS.destroy()
    DBOS(config=config)
    DBOS.launch()
    assert get_runtime().sysdb.schedules.get_schedule("daily_backup") is not None
    DBOS.destroy()
    unregister_schedule("daily_backup")
    DBOS(config=config)
    DBOS.launch()
    try:
        assert get_runtime().sysdb.schedules.get_schedule("daily_backup") is None
        assert get_runtime().sysdb.schedules.get_schedule("health_check") is not None
    finally:
        DBOS.destroy()


def test_a_bad_cron_expression_is_refused_where_it_is_written() -> None:
    with pytest.raises(ValueError, match='Invalid crontab "61 \\* \\* \\* \\*"'):

        @DBOS.scheduled("61 * * * *")
        @DBOS.workflow(name="test_schedules.bad")
        def bad(scheduled_time: datetime, actual_time: datetime) -> None:
            pass

    with pytest.raises(ValueError, match="5 fields"):
        DBOS.scheduled("* * *")(every_second)
    # Upstream's error for a function that is not registered (bad expression or not).
    with pytest.raises(DBOSWorkflowFunctionNotFoundError, match="not a registered workflow"):

        @DBOS.scheduled("*/invalid * * * * *")
        def not_a_workflow(scheduled_time: datetime, actual_time: datetime) -> None:
            pass

    with pytest.raises(TypeError, match="scheduled_time, actual_time"):

        @DBOS.scheduled("* * * * *")
        @DBOS.workflow(name="test_schedules.no_args")
        def no_args() -> None:
            pass


# Ticks of earlier tests may still sleep on their (destroyed) instance's threads: each test
# counts only its own generation's.
overlaps = {"generation": 0, "now": 0, "peak": 0}


@DBOS.step()
def slow_tick() -> None:
    with lock:
        mine = overlaps["generation"]
        overlaps["now"] += 1
        overlaps["peak"] = max(overlaps["peak"], overlaps["now"])
    time.sleep(2.5)
    with lock:
        if overlaps["generation"] == mine:
            overlaps["now"] -= 1


@DBOS.workflow()
def slow_every_second(scheduled_time: datetime, actual_time: datetime) -> None:
    slow_tick()


def test_slow_ticks_wait_in_their_queue_instead_of_piling_up(system_database_url: str) -> None:
    with lock:
        overlaps.update(generation=overlaps["generation"] + 1, now=0, peak=0)
    DBOS.scheduled("* * * * * *", queue=one_at_a_time)(slow_every_second)
    DBOS.destroy()
    DBOS(config={"name": "test-app", "system_database_url": system_database_url})
    DBOS.launch()
    time.sleep(3.5)
    assert overlaps["peak"] == 1  # ticks went through a queue with concurrency=1
    waiting = DBOS.list_queued_workflows(queue_name="test_schedules.single", status="ENQUEUED")
    assert len(waiting) >= 1
    DBOS.destroy()


def test_an_async_workflow_runs_on_a_schedule(system_database_url: str) -> None:
    DBOS.scheduled("* * * * * *")(every_second_async)
    DBOS.destroy()
    DBOS(config={"name": "test-app", "system_database_url": system_database_url})
    DBOS.launch()
    try:
        ticks = _wait_for_ticks("every_second_async", 2)
        assert len(ticks) == len(set(ticks))
    finally:
        DBOS.destroy()

"""Cron schedules on both backends: ticks run once each, with their scheduled times; the seed's
test fixture (destroy, configure, reset, launch) in a loop keeps them firing; downtime is not
replayed unless a schedule opts in; bad expressions are refused at decoration time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from croniter import croniter

from dbos import DBOS, DBOSConfig, Queue
from dbos._registry.schedules import unregister_schedule

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
    unregister_schedule("slow_every_second")
    unregister_schedule("every_second_async")


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
    time.sleep(4)  # down for four ticks
    DBOS(config=config)
    DBOS.launch()
    try:
        after = [t for t in _wait_for_ticks("every_second", len(_ticks("every_second")) + 1)]
        first_after = min(t for t in after if t > before)
        assert first_after - before >= timedelta(seconds=4)  # the missed ticks did not run
        caught = [t for t in _ticks("catches_up") if before < t < first_after]
        assert 1 <= len(caught) <= 2  # at most catch_up=2 of the four missed
    finally:
        DBOS.destroy()


def test_list_schedules_gives_the_next_fire_times(dbos_test: str) -> None:
    now = datetime.now(timezone.utc)
    listed = {s["name"]: s for s in DBOS.list_schedules()}
    for name, cron in (("health_check", "*/15 * * * *"), ("daily_backup", "0 2 * * *")):
        expected = croniter(cron, now).get_next(datetime)
        assert listed[name]["cron"] == cron
        assert abs((listed[name]["next_fire_time"] - expected).total_seconds()) < 1
        assert listed[name]["next_fire_time"].tzinfo is not None
    assert listed["health_check"]["last_fired_time"] is None
    _wait_for_ticks("every_second", len(_ticks("every_second")) + 1)
    fired = {s["name"]: s for s in DBOS.list_schedules()}["every_second"]["last_fired_time"]
    assert fired is not None and fired <= datetime.now(timezone.utc)


def test_a_bad_cron_expression_is_refused_where_it_is_written() -> None:
    with pytest.raises(ValueError, match="'61 \\* \\* \\* \\*'"):

        @DBOS.scheduled("61 * * * *")
        @DBOS.workflow(name="test_schedules.bad")
        def bad(scheduled_time: datetime, actual_time: datetime) -> None:
            pass

    with pytest.raises(ValueError, match="5 fields"):
        DBOS.scheduled("* * *")
    with pytest.raises(TypeError, match="above @DBOS.workflow"):

        @DBOS.scheduled("* * * * *")
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

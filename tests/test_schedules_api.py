"""Schedules created at run time (upstream 2.31's API) on both backends: created, listed,
paused, resumed, replaced, deleted, triggered and backfilled, through `DBOS` and `DBOSClient`,
sync and async. Each tick runs once with its context; a paused schedule fires nothing; a bad
definition or a bad backfill is refused with nothing written; a backfill runs each missed tick
once, however often it is asked for; calls from a workflow are recorded as its steps."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import query_system_sql

from dbos import (
    DBOS,
    DBOSClient,
    DBOSConfig,
    DBOSConfiguredInstance,
    DBOSPortableJSONSerializer,
    Queue,
)
from dbos._core.runtime import get_runtime
from dbos._services.scheduler import CLAIM_BATCH
from dbos.error import DBOSException, DBOSInitializationError, DBOSSerializationError

runs: list[tuple[str, datetime, Any]] = []
lock = threading.Lock()
reports = Queue("test_schedules_api.reports")


@DBOS.workflow()
def record_tick(scheduled_at: datetime, ctx: Any) -> str:
    with lock:
        runs.append((str(DBOS.workflow_id), scheduled_at, ctx))
    return "ok"


@DBOS.workflow()
def other_workflow(scheduled_at: datetime, ctx: Any) -> None:
    pass


@DBOS.workflow()
async def record_tick_async(scheduled_at: datetime, ctx: Any) -> None:
    with lock:
        runs.append((str(DBOS.workflow_id), scheduled_at, ctx))


@DBOS.dbos_class()
class Reports:
    @classmethod
    @DBOS.workflow()
    def by_class(cls, scheduled_at: datetime, ctx: Any) -> str:
        with lock:
            runs.append((str(DBOS.workflow_id), scheduled_at, (cls.__name__, ctx)))
        return cls.__name__

    @staticmethod
    @DBOS.workflow()
    def static(scheduled_at: datetime, ctx: Any) -> None:
        with lock:
            runs.append((str(DBOS.workflow_id), scheduled_at, ctx))


@DBOS.dbos_class()
class Tenant(DBOSConfiguredInstance):
    @DBOS.workflow()
    def per_instance(self, scheduled_at: datetime, ctx: Any) -> None:
        pass


def _config(url: str, **extra: Any) -> DBOSConfig:
    config: DBOSConfig = {"name": "schedules-api", "system_database_url": url}
    config.update(extra)  # type: ignore[typeddict-item]
    return config


def _fresh(url: str, **config: Any) -> None:
    """Launch on a reset database, with no run of an earlier test (same names) remembered."""
    DBOS.destroy()
    DBOS(config=_config(url, **config))
    DBOS.reset_system_database()
    DBOS.launch()
    with lock:
        runs.clear()


@pytest.fixture
def dbos(system_database_url: str) -> Iterator[str]:
    _fresh(system_database_url)
    yield system_database_url
    DBOS.destroy()


def _runs(name: str) -> list[tuple[str, datetime, Any]]:
    with lock:
        return sorted((r for r in runs if r[0].startswith(f"sched-{name}-")), key=lambda r: r[1])


def _wait_for_runs(name: str, count: int, timeout: float = 20.0) -> list[tuple[str, datetime, Any]]:
    deadline = time.monotonic() + timeout
    while len(_runs(name)) < count:
        assert time.monotonic() < deadline, f"{name}: fewer than {count} runs"
        time.sleep(0.05)
    return _runs(name)


def _far_daily() -> str:
    """A daily cron twelve hours away: it cannot fire during a test."""
    t = datetime.now(timezone.utc) + timedelta(hours=12)
    return f"{t.minute} {t.hour} * * *"


def _names() -> list[str]:
    return [s["schedule_name"] for s in DBOS.list_schedules()]


# ------------------------------------------------------------------ definitions


def test_create_list_get_filter_and_delete(dbos: str) -> None:
    DBOS.create_schedule(
        schedule_name="tenant-a",
        workflow_fn=record_tick,
        schedule="0 9 * * *",
        context={"tenant": "a"},
        cron_timezone="America/New_York",
    )
    DBOS.create_schedule(
        schedule_name="other-b", workflow_fn=other_workflow, schedule="0 0 * * *", queue_name=None
    )
    DBOS.pause_schedule("other-b")
    listed = DBOS.list_schedules()
    assert [s["schedule_name"] for s in listed] == ["other-b", "tenant-a"]
    a = DBOS.get_schedule("tenant-a")
    assert a is not None
    assert a == {
        "schedule_id": a["schedule_id"],
        "schedule_name": "tenant-a",
        "workflow_name": "record_tick",
        "workflow_class_name": None,
        "schedule": "0 9 * * *",
        "status": "ACTIVE",
        "context": {"tenant": "a"},
        "last_fired_at": None,
        "automatic_backfill": False,
        "cron_timezone": "America/New_York",
        "queue_name": None,
        "application_name": "schedules-api",
    }
    assert listed[1] == a
    assert record_tick.dbos_function_name == "record_tick"  # type: ignore[attr-defined]
    assert Reports.by_class.dbos_function_name == "Reports.by_class"  # type: ignore[attr-defined]
    assert DBOS.get_schedule("nope") is None
    assert [s["schedule_name"] for s in DBOS.list_schedules(status="PAUSED")] == ["other-b"]
    assert len(DBOS.list_schedules(status=["ACTIVE", "PAUSED"])) == 2
    assert [s["schedule_name"] for s in DBOS.list_schedules(workflow_name="record_tick")] == [
        "tenant-a"
    ]
    assert len(DBOS.list_schedules(schedule_name_prefix=["tenant-", "other-"])) == 2
    assert DBOS.list_schedules(status="ACTIVE", schedule_name_prefix="other-") == []
    assert len(DBOS.list_schedules(application_name="schedules-api")) == 2
    assert DBOS.list_schedules(application_name="another-app") == []
    # The next tick is 09:00 in New York, whatever the server's zone.
    record = get_runtime().sysdb.schedules.get_schedule("tenant-a")
    assert record is not None and record.next_tick_at is not None
    nxt = datetime.fromtimestamp(record.next_tick_at / 1000, ZoneInfo("America/New_York"))
    assert (nxt.hour, nxt.minute) == (9, 0)
    DBOS.delete_schedule("other-b")
    DBOS.delete_schedule("other-b")  # none of that name: nothing to do
    DBOS.delete_schedule("tenant-a")
    assert DBOS.list_schedules() == []


def test_bad_definitions_are_refused_with_nothing_written(dbos: str) -> None:
    def not_registered(scheduled_at: datetime, ctx: Any) -> None:
        pass

    DBOS.create_schedule(schedule_name="taken", workflow_fn=record_tick, schedule="* * * * *")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"schedule": "not a cron"}, "Invalid cron schedule"),
        ({"schedule": "61 * * * *"}, "Invalid cron schedule"),
        ({"cron_timezone": "Fake/Zone"}, "Invalid timezone"),
        ({"workflow_fn": not_registered}, "is not registered"),
        # A name of its own per run: a second object under a taken (class, name) is refused.
        ({"workflow_fn": Tenant(f"t1-{dbos}").per_instance}, "Configured instance methods"),
        ({"queue_name": "no-such-queue"}, "is not declared"),
        ({"schedule_name": ""}, "schedule_name must be a non-empty string"),
        ({"schedule_name": "taken"}, "already exists"),
        ({"automatic_backfill": "yes"}, "automatic_backfill must be True or False"),
    ]
    for change, message in cases:
        args: dict[str, Any] = {
            "schedule_name": "new",
            "workflow_fn": record_tick,
            "schedule": "* * * * *",
        }
        args.update(change)
        with pytest.raises(DBOSException, match=message):
            DBOS.create_schedule(**args)
    with pytest.raises(DBOSSerializationError, match="context of schedule 'new'"):
        DBOS.create_schedule(
            schedule_name="new",
            workflow_fn=record_tick,
            schedule="* * * * *",
            context=threading.Lock(),
        )
    assert _names() == ["taken"]
    # A declared queue, here or recorded by another worker, is fine.
    DBOS.create_schedule(
        schedule_name="queued",
        workflow_fn=record_tick,
        schedule="* * * * *",
        queue_name=reports.name,
    )
    assert DBOS.get_schedule("queued")["queue_name"] == reports.name  # type: ignore[index]


# ------------------------------------------------------------------ firing


def test_each_tick_runs_once_with_its_context_on_its_queue(dbos: str) -> None:
    DBOS.create_schedule(
        schedule_name="every-second",
        workflow_fn=record_tick,
        schedule="* * * * * *",
        context={"plan": "gold"},
        queue_name=reports.name,
    )
    got = _wait_for_runs("every-second", 3)
    ticks = [t for _, t, _ in got]
    assert len(set(ticks)) == len(ticks)
    for workflow_id, tick, ctx in got:
        assert workflow_id == f"sched-every-second-{tick.isoformat()}"
        assert ctx == {"plan": "gold"} and tick.tzinfo is not None and tick.microsecond == 0
    for earlier, later in zip(ticks, ticks[1:], strict=False):
        assert later - earlier == timedelta(seconds=1)
    statuses = DBOS.list_workflows(schedule_name="every-second")
    assert {w.workflow_id for w in statuses} >= {r[0] for r in got}
    assert all(w.queue_name == reports.name and w.name == "record_tick" for w in statuses)
    fired = DBOS.get_schedule("every-second")["last_fired_at"]  # type: ignore[index]
    assert fired is not None and datetime.fromisoformat(fired) >= ticks[-1]


def test_ticks_fall_in_the_schedules_timezone(dbos: str) -> None:
    DBOS.create_schedule(
        schedule_name="new-york",
        workflow_fn=record_tick,
        schedule="* * * * * *",
        cron_timezone="America/New_York",
    )
    got = _wait_for_runs("new-york", 2)
    offset = datetime.now(ZoneInfo("America/New_York")).utcoffset()
    for workflow_id, tick, ctx in got:
        assert tick.utcoffset() == offset and ctx is None
        assert workflow_id == f"sched-new-york-{tick.isoformat()}"
    fired = DBOS.get_schedule("new-york")["last_fired_at"]  # type: ignore[index]
    assert fired is not None and datetime.fromisoformat(fired).utcoffset() == offset


def test_a_paused_schedule_fires_nothing_until_resumed(dbos: str) -> None:
    DBOS.create_schedule(schedule_name="pausable", workflow_fn=record_tick, schedule="* * * * * *")
    _wait_for_runs("pausable", 1)
    DBOS.pause_schedule("pausable")
    assert DBOS.get_schedule("pausable")["status"] == "PAUSED"  # type: ignore[index]
    time.sleep(0.5)  # a tick claimed just before the pause may still start
    paused_at = datetime.now(timezone.utc)
    time.sleep(2.5)
    assert [r for r in _runs("pausable") if r[1] > paused_at] == []
    DBOS.resume_schedule("pausable")
    resumed_at = datetime.now(timezone.utc)
    assert DBOS.get_schedule("pausable")["status"] == "ACTIVE"  # type: ignore[index]
    got = _wait_for_runs("pausable", len(_runs("pausable")) + 2)
    # The ticks of the pause never run, not even after it.
    assert [r for r in got if paused_at < r[1] < resumed_at - timedelta(seconds=1)] == []


def test_class_and_static_methods_run_on_a_schedule(dbos: str) -> None:
    DBOS.create_schedule(
        schedule_name="by-class", workflow_fn=Reports.by_class, schedule="* * * * * *", context=1
    )
    DBOS.create_schedule(
        schedule_name="static", workflow_fn=Reports.static, schedule="* * * * * *", context=2
    )
    by_class = DBOS.get_schedule("by-class")
    assert by_class is not None and by_class["workflow_class_name"] == "Reports"
    assert DBOS.get_schedule("static")["workflow_class_name"] is None  # type: ignore[index]
    assert all(r[2] == ("Reports", 1) for r in _wait_for_runs("by-class", 2))
    assert all(r[2] == 2 for r in _wait_for_runs("static", 2))


def test_a_schedule_of_a_workflow_no_process_registered_fires_nothing(dbos: str) -> None:
    with DBOSClient(system_database_url=dbos) as client:
        client.create_schedule(
            schedule_name="orphan", workflow_name="no.such.workflow", schedule="* * * * * *"
        )
    time.sleep(2.5)
    assert DBOS.list_workflows(schedule_name="orphan") == []
    assert DBOS.get_schedule("orphan")["last_fired_at"] is None  # type: ignore[index]


def test_a_schedule_created_by_another_process_fires_here(system_database_url: str) -> None:
    _fresh(system_database_url, scheduler_polling_interval_sec=0.2)
    try:
        with DBOSClient(system_database_url=system_database_url) as client:
            client.create_schedule(
                schedule_name="from-client",
                workflow_name="record_tick",
                schedule="* * * * * *",
                context="client",
            )
        assert all(r[2] == "client" for r in _wait_for_runs("from-client", 2))
    finally:
        DBOS.destroy()


# ------------------------------------------------------------------ apply


def test_apply_schedules_creates_replaces_and_keeps_the_rest(dbos: str) -> None:
    DBOS.apply_schedules(
        [
            {"schedule_name": "a", "workflow_fn": record_tick, "schedule": "0 * * * *"},
            {
                "schedule_name": "b",
                "workflow_fn": other_workflow,
                "schedule": "0 0 * * *",
                "context": [1],
                "automatic_backfill": True,
                "cron_timezone": "Europe/London",
            },
        ]
    )
    before = {s["schedule_name"]: s for s in DBOS.list_schedules()}
    assert before["a"]["context"] is None and before["b"]["automatic_backfill"] is True
    DBOS.pause_schedule("a")
    DBOS.apply_schedules(
        [
            {"schedule_name": "a", "workflow_fn": record_tick, "schedule": "*/5 * * * *"},
            {"schedule_name": "c", "workflow_fn": record_tick, "schedule": "0 0 * * *"},
        ]
    )
    after = {s["schedule_name"]: s for s in DBOS.list_schedules()}
    assert sorted(after) == ["a", "b", "c"]  # b, not listed, is left alone (as upstream)
    assert after["a"]["schedule"] == "*/5 * * * *"
    assert after["a"]["schedule_id"] == before["a"]["schedule_id"]
    assert after["a"]["status"] == "PAUSED"  # what running it produced is kept
    assert after["b"] == before["b"]
    # All or nothing: one bad entry, nothing written.
    bad: list[Any] = [
        {"schedule_name": "d", "workflow_fn": record_tick, "schedule": "0 0 * * *"},
        {"schedule_name": "e", "workflow_fn": record_tick, "schedule": "not a cron"},
    ]
    with pytest.raises(DBOSException, match="Invalid cron schedule"):
        DBOS.apply_schedules(bad)
    with pytest.raises(DBOSException, match="missing required field 'workflow_fn'"):
        DBOS.apply_schedules([{"schedule_name": "x", "schedule": "* * * * *"}])
    with pytest.raises(DBOSException, match="'d' is given twice"):
        DBOS.apply_schedules([bad[0], bad[0]])
    assert sorted(_names()) == ["a", "b", "c"]


def test_apply_schedules_takes_effect_at_once_and_only_outside_workflows(dbos: str) -> None:
    entry: Any = {
        "schedule_name": "live",
        "workflow_fn": record_tick,
        "schedule": "* * * * * *",
        "context": {"version": 1},
    }
    DBOS.apply_schedules([entry])
    _wait_for_runs("live", 1)
    DBOS.apply_schedules([{**entry, "context": {"version": 2}}])
    changed = datetime.now(timezone.utc) + timedelta(seconds=1)
    deadline = time.monotonic() + 20
    while not [r for r in _runs("live") if r[1] > changed and r[2] == {"version": 2}]:
        assert time.monotonic() < deadline
        time.sleep(0.05)

    @DBOS.workflow(name="test_schedules_api.applies")
    def applies() -> None:
        DBOS.apply_schedules([entry])

    with pytest.raises(DBOSException, match="cannot be called from within a workflow"):
        DBOS.start_workflow(applies).get_result()


def test_a_declared_schedules_name_cannot_be_taken(dbos: str) -> None:
    DBOS.scheduled(_far_daily())(other_workflow)
    try:
        DBOS.destroy()
        DBOS(config=_config(dbos))
        DBOS.launch()
        with pytest.raises(DBOSException, match="already exists"):
            DBOS.create_schedule(
                schedule_name="other_workflow", workflow_fn=record_tick, schedule="* * * * *"
            )
        with pytest.raises(DBOSException, match="declared with @DBOS.scheduled"):
            DBOS.apply_schedules(
                [
                    {
                        "schedule_name": "other_workflow",
                        "workflow_fn": record_tick,
                        "schedule": "* * * * *",
                    }
                ]
            )
    finally:
        from dbos._registry.schedules import unregister_schedule

        unregister_schedule("other_workflow")


# ------------------------------------------------------------------ trigger and backfill


def test_trigger_starts_one_run_now(dbos: str) -> None:
    DBOS.create_schedule(
        schedule_name="trigger-me", workflow_fn=record_tick, schedule=_far_daily(), context=[1]
    )
    before = datetime.now(timezone.utc)
    handle = DBOS.trigger_schedule("trigger-me")
    assert handle.workflow_id.startswith("sched-trigger-me-trigger-")
    assert handle.get_result() == "ok"
    (run,) = _runs("trigger-me")
    assert before <= run[1] <= datetime.now(timezone.utc) and run[2] == [1]
    assert DBOS.get_workflow_status(handle.workflow_id).schedule_name == "trigger-me"  # type: ignore[union-attr]
    with pytest.raises(DBOSException, match="does not exist"):
        DBOS.trigger_schedule("no-such-schedule")


def test_backfill_runs_each_missed_tick_once(dbos: str) -> None:
    DBOS.create_schedule(
        schedule_name="hourly", workflow_fn=record_tick, schedule="0 * * * *", context="bf"
    )
    start = datetime(2025, 1, 1, 0, 30, tzinfo=timezone.utc)
    end = start + timedelta(hours=3)
    handles = DBOS.backfill_schedule("hourly", start, end)
    assert [h.workflow_id for h in handles] == [
        f"sched-hourly-2025-01-01T0{h}:00:00+00:00" for h in (1, 2, 3)
    ]
    assert [h.get_result() for h in handles] == ["ok"] * 3
    expected = [datetime(2025, 1, 1, h, tzinfo=timezone.utc) for h in (1, 2, 3)]
    assert [r[1] for r in _runs("hourly") if r[1].year == 2025] == expected
    # Again, and a window overlapping it: nothing that ran runs again.
    assert len(DBOS.backfill_schedule("hourly", start, end)) == 3
    wider = DBOS.backfill_schedule("hourly", start, end + timedelta(hours=1))
    for h in wider:
        h.get_result()
    assert [r[1] for r in _runs("hourly") if r[1].year == 2025] == [
        *expected,
        expected[-1] + timedelta(hours=1),
    ]
    # Naive datetimes are UTC; the window is exclusive at both ends.
    naive = DBOS.backfill_schedule("hourly", datetime(2025, 1, 1, 1), datetime(2025, 1, 1, 3))
    assert [h.workflow_id for h in naive] == ["sched-hourly-2025-01-01T02:00:00+00:00"]


def test_ticks_in_the_portable_format_pass_a_datetime_and_the_context(
    system_database_url: str,
) -> None:
    """With upstream's portable JSON configured, a tick's arguments are stored in its
    envelope ({positionalArgs, namedArgs}), so the workflow gets them as a direct call would:
    the tick time back as a datetime (from the parameter's hint), the context as created."""
    _fresh(system_database_url, serializer=DBOSPortableJSONSerializer())
    try:
        DBOS.create_schedule(
            schedule_name="portable",
            workflow_fn=record_tick,
            schedule="0 * * * *",
            context={"env": "test"},
        )
        handle = DBOS.trigger_schedule("portable")
        assert handle.get_result() == "ok"
        start = datetime(2025, 1, 1, 0, 30, tzinfo=timezone.utc)
        (ticked,) = DBOS.backfill_schedule("portable", start, start + timedelta(hours=1))
        assert ticked.get_result() == "ok"
        for workflow_id, scheduled_at, ctx in _runs("portable"):
            assert isinstance(scheduled_at, datetime), workflow_id
            assert ctx == {"env": "test"}
        assert datetime(2025, 1, 1, 1, tzinfo=timezone.utc) in [r[1] for r in _runs("portable")]
        formats = query_system_sql(
            system_database_url,
            "SELECT DISTINCT serialization FROM {prefix}workflow_status "
            "WHERE workflow_uuid LIKE 'sched-portable-%'",
        )
        assert formats == [("portable_json",)]
    finally:
        DBOS.destroy()


def test_backfill_is_refused_with_nothing_written(system_database_url: str) -> None:
    _fresh(system_database_url, max_backfill_ticks=50)
    try:
        DBOS.create_schedule(schedule_name="s", workflow_fn=record_tick, schedule="* * * * *")
        now = datetime.now(timezone.utc)
        with pytest.raises(DBOSException, match="in the future"):
            DBOS.backfill_schedule("s", now - timedelta(hours=1), now + timedelta(minutes=5))
        with pytest.raises(DBOSException, match="more than 50 ticks"):  # the config's limit
            DBOS.backfill_schedule("s", now - timedelta(hours=2), now - timedelta(hours=1))
        with pytest.raises(DBOSException, match="more than 10 ticks"):
            DBOS.backfill_schedule(
                "s", now - timedelta(minutes=30), now - timedelta(minutes=10), max_ticks=10
            )
        with pytest.raises(DBOSException, match="is not before end"):
            DBOS.backfill_schedule("s", now - timedelta(hours=1), now - timedelta(hours=2))
        with pytest.raises(DBOSException, match="does not exist"):
            DBOS.backfill_schedule("nope", now - timedelta(hours=2), now - timedelta(hours=1))
        assert DBOS.list_workflows(name="<temp>.DBOS.backfillSchedule") == []
        assert len(DBOS.list_workflows(schedule_name="s")) <= 1  # a live tick at most
        handles = DBOS.backfill_schedule(
            "s", now - timedelta(minutes=30), now - timedelta(minutes=10), max_ticks=20
        )
        assert len(handles) in (19, 20)
    finally:
        DBOS.destroy()


def test_backfill_with_a_timezone_gives_local_ticks(dbos: str) -> None:
    DBOS.create_schedule(
        schedule_name="ny-midnight",
        workflow_fn=record_tick,
        schedule="0 0 * * *",
        cron_timezone="America/New_York",
    )
    start = datetime(2024, 12, 31, 23, tzinfo=timezone.utc)
    for h in DBOS.backfill_schedule(
        "ny-midnight", start, datetime(2025, 1, 3, tzinfo=timezone.utc)
    ):
        h.get_result()
    ticks = [r[1] for r in _runs("ny-midnight") if r[1].year == 2025]  # not a live tick
    assert [(t.day, t.hour) for t in ticks] == [(1, 0), (2, 0)]
    assert [t.astimezone(timezone.utc).hour for t in ticks] == [5, 5]


def test_a_large_backfill_is_a_workflow_of_batches(dbos: str) -> None:
    DBOS.create_schedule(
        schedule_name="per-second", workflow_fn=other_workflow, schedule="* * * * * *"
    )
    DBOS.pause_schedule("per-second")
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    handles = DBOS.backfill_schedule("per-second", start, start + timedelta(seconds=1201))
    assert len(handles) == 1200
    (backfill,) = DBOS.list_workflows(name="<temp>.DBOS.backfillSchedule")
    assert backfill.status == "SUCCESS" and backfill.output == 1200
    steps = DBOS.list_workflow_steps(backfill.workflow_id)
    assert [s["function_name"] for s in steps] == ["DBOS.backfillSchedule"] * 3  # 500 a batch
    backfilled = DBOS.list_workflows(workflow_id_prefix="sched-per-second-2025-", load_input=False)
    assert len(backfilled) == 1200  # (a live tick may have fired before the pause)
    deadline = time.monotonic() + 60
    while DBOS.list_queued_workflows(load_input=False):  # let them finish before teardown
        assert time.monotonic() < deadline
        time.sleep(0.2)


# ------------------------------------------------------------------ from a workflow


def test_schedule_calls_in_a_workflow_are_its_steps(dbos: str) -> None:
    @DBOS.workflow(name="test_schedules_api.manages")
    def manages() -> None:
        DBOS.create_schedule(
            schedule_name="wf-made", workflow_fn=record_tick, schedule="0 0 * * *", context=3
        )
        assert [s["context"] for s in DBOS.list_schedules()] == [3]
        assert DBOS.get_schedule("wf-made")["schedule"] == "0 0 * * *"  # type: ignore[index]
        DBOS.pause_schedule("wf-made")
        DBOS.resume_schedule("wf-made")
        DBOS.delete_schedule("wf-made")
        assert DBOS.get_schedule("wf-made") is None

    handle = DBOS.start_workflow(manages)
    handle.get_result()
    names = [s["function_name"] for s in DBOS.list_workflow_steps(handle.workflow_id)]
    assert names == [
        "DBOS.createSchedule",
        "DBOS.listSchedules",
        "DBOS.getSchedule",
        "DBOS.pauseSchedule",
        "DBOS.resumeSchedule",
        "DBOS.deleteSchedule",
        "DBOS.getSchedule",
    ]
    # A fork past them replays the recorded answers: no schedule is created again.
    forked = DBOS.fork_workflow(handle.workflow_id, len(names) + 1)
    forked.get_result()
    assert DBOS.list_schedules() == []

    @DBOS.workflow(name="test_schedules_api.triggers")
    def triggers() -> None:
        DBOS.trigger_schedule("anything")

    with pytest.raises(DBOSException, match="cannot be called from within a workflow"):
        DBOS.start_workflow(triggers).get_result()


# ------------------------------------------------------------------ async and clients


def test_async_variants(dbos: str) -> None:
    async def main() -> None:
        await DBOS.create_schedule_async(
            schedule_name="async", workflow_fn=record_tick_async, schedule="* * * * * *", context=7
        )
        assert [s["context"] for s in await DBOS.list_schedules_async()] == [7]
        assert (await DBOS.get_schedule_async("async"))["schedule"] == "* * * * * *"  # type: ignore[index]
        handle = await DBOS.trigger_schedule_async("async")
        await handle.get_result()
        await DBOS.pause_schedule_async("async")
        await DBOS.resume_schedule_async("async")
        start = datetime(2025, 1, 1, tzinfo=timezone.utc)
        handles = await DBOS.backfill_schedule_async("async", start, start + timedelta(seconds=3))
        await asyncio.gather(*(h.get_result() for h in handles))
        await DBOS.apply_schedules_async(
            [{"schedule_name": "async-2", "workflow_fn": other_workflow, "schedule": "0 0 * * *"}]
        )
        await DBOS.delete_schedule_async("async")
        assert [s["schedule_name"] for s in await DBOS.list_schedules_async()] == ["async-2"]

    asyncio.run(main())
    assert {r[1] for r in _runs("async")} >= {
        datetime(2025, 1, 1, 0, 0, s, tzinfo=timezone.utc) for s in (1, 2)
    }


def test_a_client_manages_schedules_by_workflow_name(dbos: str) -> None:
    with DBOSClient(system_database_url=dbos) as client:
        client.create_schedule(
            schedule_name="client-made",
            workflow_name="record_tick",
            schedule=_far_daily(),
            context={"tenant": "acme"},
            cron_timezone="Asia/Tokyo",
        )
        client.create_schedule(
            schedule_name="by-class",
            workflow_name="Reports.by_class",
            workflow_class_name="Reports",
            schedule=_far_daily(),
        )
        made = client.get_schedule("client-made")
        assert made is not None and made["context"] == {"tenant": "acme"}
        assert made["application_name"] is None  # a client names no application
        assert [s["schedule_name"] for s in client.list_schedules(workflow_name="record_tick")] == [
            "client-made"
        ]
        client.pause_schedule("client-made")
        assert client.get_schedule("client-made")["status"] == "PAUSED"  # type: ignore[index]
        client.resume_schedule("client-made")
        assert client.trigger_schedule("client-made").get_result() == "ok"
        assert client.trigger_schedule("by-class").get_result() == "Reports"
        (run,) = client.list_workflows(schedule_name="by-class")
        assert run.schedule_name == "by-class" and run.class_name == "Reports"
        start = datetime(2025, 6, 1, tzinfo=timezone.utc)
        handles = client.backfill_schedule("client-made", start, start + timedelta(days=3))
        assert len(handles) == 3
        assert all(h.get_result() == "ok" for h in handles)
        # A backfill from a client is enqueued from there: no workflow of its own.
        assert DBOS.list_workflows(name="<temp>.DBOS.backfillSchedule") == []
        client.apply_schedules(
            [
                {
                    "schedule_name": "client-made",
                    "workflow_name": "record_tick",
                    "schedule": "0 0 * * *",
                }
            ]
        )
        assert client.get_schedule("client-made")["context"] is None  # type: ignore[index]
        with pytest.raises(DBOSException, match="missing required field 'workflow_name'"):
            client.apply_schedules([{"schedule_name": "x", "schedule": "0 0 * * *"}])
        with pytest.raises(DBOSException, match="Invalid timezone"):
            client.create_schedule(
                schedule_name="x", workflow_name="w", schedule="* * * * *", cron_timezone="Nowhere"
            )

        async def main() -> None:
            await client.create_schedule_async(
                schedule_name="client-async", workflow_name="record_tick", schedule="0 0 * * *"
            )
            handle = await client.trigger_schedule_async("client-async")
            assert await handle.get_result() == "ok"
            await client.delete_schedule_async("client-async")
            assert await client.get_schedule_async("client-async") is None

        asyncio.run(main())
        client.delete_schedule("client-made")
        client.delete_schedule("by-class")
        assert client.list_schedules() == []


# ------------------------------------------------------------------ downtime and scale


def _tick_times(name: str) -> list[datetime]:
    """The ticks of a schedule recorded in the database (run or not), from their IDs."""
    ids = [w.workflow_id for w in DBOS.list_workflows(schedule_name=name, load_input=False)]
    return sorted(datetime.fromisoformat(i.removeprefix(f"sched-{name}-")) for i in ids)


def test_automatic_backfill_runs_the_ticks_missed_while_no_process_ran(
    system_database_url: str,
) -> None:
    config = _config(system_database_url)
    _fresh(system_database_url)
    for name, backfills in (("catches-up", True), ("skips", False)):
        DBOS.create_schedule(
            schedule_name=name,
            workflow_fn=record_tick,
            schedule="* * * * * *",
            automatic_backfill=backfills,
        )
    try:
        _wait_for_runs("catches-up", 1)
        _wait_for_runs("skips", 1)
    finally:
        DBOS.destroy()
    time.sleep(5)  # no process runs: ticks are missed
    DBOS(config=config)
    DBOS.launch()
    try:
        started = get_runtime().scheduler.started_ms
        downtime_end = datetime.fromtimestamp(started / 1000 - 3, timezone.utc)
        _wait_for_runs("catches-up", len(_runs("catches-up")) + 4)
        caught = _tick_times("catches-up")
        assert caught[-1] > downtime_end + timedelta(seconds=2)
        # Every second from the first tick on, the downtime's included: none missing, none
        # twice.
        assert caught == [caught[0] + timedelta(seconds=i) for i in range(len(caught))]
        skipped = _tick_times("skips")
        gaps = [b - a for a, b in zip(skipped, skipped[1:], strict=False)]
        assert max(gaps) >= timedelta(seconds=3)  # the downtime, beyond the grace, not replayed
    finally:
        DBOS.destroy()


def test_due_schedules_are_claimed_in_batches(dbos: str) -> None:
    count = CLAIM_BATCH + 50
    second = (datetime.now(timezone.utc) + timedelta(seconds=4)).second
    DBOS.apply_schedules(
        [
            {
                "schedule_name": f"bulk-{i:03}",
                "workflow_fn": other_workflow,
                "schedule": f"{second} * * * * *",  # once a minute, at the same second
            }
            for i in range(count)
        ]
    )
    scheduler = get_runtime().scheduler
    claims_before = scheduler.claims
    deadline = time.monotonic() + 40
    while len(DBOS.list_workflows(workflow_id_prefix="sched-bulk-", load_input=False)) < count:
        assert time.monotonic() < deadline, "not every schedule fired"
        time.sleep(0.2)
    # One tick of 250 schedules, all due at once: two claims (200 and 50), not 250.
    assert scheduler.claims - claims_before <= 3


def test_a_schedule_that_cannot_fire_here_does_not_hold_up_the_others(
    dbos: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A context in a format this process cannot read (another serializer wrote it): its ticks
    are logged as not fired and its next tick still moves on, so it is not claimed again and
    again; the schedules claimed with it fire."""
    runtime = get_runtime()
    DBOS.create_schedule(schedule_name="fine", workflow_fn=record_tick, schedule="* * * * * *")
    record = runtime.sysdb.schedules.get_schedule("fine")
    assert record is not None
    row = dataclasses.asdict(record) | {
        "schedule_id": "unreadable-id",
        "schedule_name": "unreadable",
        "context": "gASVCAAAAAAAAACMBHRleHSULg==",
        "context_serialization": "some_other_serializer",
    }
    assert runtime.sysdb.schedules.insert_schedule(row)
    with caplog.at_level("ERROR", logger="dbos"):
        _wait_for_runs("fine", 3)
    assert DBOS.list_workflows(schedule_name="unreadable") == []
    assert "Schedule unreadable: a tick was not fired" in caplog.text
    stuck = runtime.sysdb.schedules.get_schedule("unreadable")
    assert stuck is not None and stuck.next_tick_at is not None
    assert stuck.next_tick_at > int(time.time() * 1000) - 2000  # moved on with the clock


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("scheduler_polling_interval_sec", 0),
        ("scheduler_polling_interval_sec", "1s"),
        ("max_backfill_ticks", 0),
        ("max_backfill_ticks", 2.5),
        ("max_backfill_ticks", True),
    ],
)
def test_bad_schedule_settings_are_refused_at_configuration(key: str, value: Any) -> None:
    DBOS.destroy()
    with pytest.raises(DBOSInitializationError, match=key):
        DBOS(config=_config("sqlite:///unused.sqlite", **{key: value}))

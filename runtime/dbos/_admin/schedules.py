"""Schedules for the `dbos` command and the dashboard: every schedule of the database (those
created at run time and `@DBOS.scheduled` ones), with its next and last tick and whether a
running process can fire it, and the actions on them, through the runtime's own schedule code
(`_core.schedules`), so an admin tool changes a schedule exactly as `DBOS.*` calls do.

A schedule fires only in a process that registered its workflow. When none of the live
processes (heartbeat within the last minute) did, the view says so: a typo in a workflow name,
or a workflow removed from the code, shows here instead of silently never running.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

from .._clock import real_now_ms
from .._core import schedules as _schedules
from .._core.schedule_ticks import (
    DEFAULT_MAX_BACKFILL_TICKS,
    batches,
    enqueue_ticks,
    plan_backfill,
    trigger,
)
from .._db.schedule_store import ScheduleFilter, ScheduleRecord
from .._error import DBOSException
from .connect import AdminError, AdminSession, NotFound, first_line
from .values import display

LIVE_WITHIN_MS = 60_000  # a process heard from this recently runs its schedules
SOURCES = {_schedules.API: "run time", _schedules.DECORATOR: "code"}
T = TypeVar("T")


def _live_workflows(s: AdminSession) -> tuple[int, set[str]]:
    """How many processes are alive, and the workflows any of them registered."""
    cutoff = real_now_ms() - LIVE_WITHIN_MS  # heartbeats are real time
    alive = 0
    names: set[str] = set()
    for _instance, heartbeat_at, workflow_names in s.sysdb.schedules.executor_workflow_names():
        if heartbeat_at >= cutoff:
            alive += 1
            names.update(workflow_names or ())
    return alive, names


def _problem(record: ScheduleRecord, alive: int, names: set[str]) -> str | None:
    """Why an active schedule does not fire now, or None."""
    if record.status != _schedules.ACTIVE:
        return None
    if alive == 0:
        return "no process is running: nothing fires until one starts"
    if record.workflow_name not in names:
        return f"no running process registers workflow {record.workflow_name!r}: it does not fire"
    return None


def schedule_view(record: ScheduleRecord, alive: int, names: set[str]) -> dict[str, Any]:
    problem = _problem(record, alive, names)
    active = record.status == _schedules.ACTIVE
    return {
        "schedule_name": record.schedule_name,
        "workflow_name": record.workflow_name,
        "workflow_class_name": record.workflow_class_name,
        "schedule": record.schedule,
        "cron_timezone": record.cron_timezone,
        "status": record.status,
        "source": SOURCES.get(record.source, record.source),
        "queue_name": record.queue_name,
        "context": display(record.context, record.context_serialization),
        "automatic_backfill": record.automatic_backfill,
        "catch_up_limit": record.catch_up_limit,
        "next_tick_at": record.next_tick_at
        if active and record.next_tick_at is not None and record.next_tick_at < 2**62
        else None,
        "last_fired_at": record.last_fired_at,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "fires": active and problem is None,
        "problem": problem,
    }


def list_schedules(
    s: AdminSession,
    status: list[str] | None = None,
    workflow_name: list[str] | None = None,
    prefix: list[str] | None = None,
) -> list[dict[str, Any]]:
    if status:
        status = [v.upper() for v in status]
        unknown = [v for v in status if v not in (_schedules.ACTIVE, _schedules.PAUSED)]
        if unknown:
            raise AdminError(f"unknown schedule status {unknown[0]!r}: expected ACTIVE or PAUSED")
    found = s.sysdb.schedules.list_schedules(
        ScheduleFilter(status=status, workflow_name=workflow_name, schedule_name_prefix=prefix)
    )
    alive, names = _live_workflows(s)
    return [schedule_view(r, alive, names) for r in found]


def _record(s: AdminSession, name: str) -> ScheduleRecord:
    record = s.sysdb.schedules.get_schedule(name)
    if record is None:
        raise NotFound(f"no schedule named {name!r}")
    return record


def get_schedule(s: AdminSession, name: str) -> dict[str, Any]:
    alive, names = _live_workflows(s)
    return schedule_view(_record(s, name), alive, names)


def _run(what: str, action: Callable[[], T]) -> T:
    try:
        return action()
    except DBOSException as exc:
        raise AdminError(f"cannot {what}: {first_line(exc)}") from None


def pause(s: AdminSession, name: str) -> dict[str, Any]:
    _record(s, name)
    _run(f"pause {name}", lambda: _schedules.pause(s.runtime, name))
    return get_schedule(s, name)


def resume(s: AdminSession, name: str) -> dict[str, Any]:
    _record(s, name)
    _run(f"resume {name}", lambda: _schedules.resume(s.runtime, name))
    return get_schedule(s, name)


def delete(s: AdminSession, name: str) -> None:
    _record(s, name)
    _run(f"delete {name}", lambda: _schedules.delete(s.runtime, name))


def trigger_now(s: AdminSession, name: str) -> str:
    """Enqueue one run now, for the application's workers; its workflow ID."""
    _record(s, name)
    return _run(f"trigger {name}", lambda: trigger(s.runtime, name))


def backfill(
    s: AdminSession,
    name: str,
    start_ms: int,
    end_ms: int,
    max_ticks: int = DEFAULT_MAX_BACKFILL_TICKS,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Enqueue the window's ticks that have not run, for the application's workers; (ticks in
    the window, how many were new)."""
    _record(s, name)
    start = datetime.fromtimestamp(start_ms / 1000, timezone.utc)
    end = datetime.fromtimestamp(end_ms / 1000, timezone.utc)
    window = _run(f"backfill {name}", lambda: plan_backfill(s.runtime, name, start, end, max_ticks))
    added = 0
    done = 0
    for batch in batches(window.ticks):
        added += enqueue_ticks(s.runtime, window.record, batch)
        done += len(batch)
        if progress is not None:
            progress(done)
    return len(window.ticks), added

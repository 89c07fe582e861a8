"""The workflows a schedule starts: one per tick, one per trigger, one per backfilled tick.

One rule names them all: a tick at time T of schedule S is the workflow `sched-S-<T in ISO 8601,
in S's timezone>`, enqueued on S's queue. Whoever fires it (the scheduler of any process, a
backfill, the same backfill again after a crash) inserts the same ID, so a tick runs once. A
trigger is `sched-S-trigger-<now>`. A tick's arguments are `(scheduled_time, context)`, or
`(scheduled_time, actual_time)` for `@DBOS.scheduled`; no application version is stamped (no
step of it has run yet, so any worker with the workflow may start it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .._db.records import now_ms
from .._db.schedule_store import ScheduleRecord, TickPlan
from .._error import DBOSException
from .._registry import registry as _registry
from .._registry.cron import Cron, as_aware
from .._registry.queues import INTERNAL_QUEUE
from .._serialization import serialize_inputs
from . import tracing
from .formats import workflow_serializer
from .runtime import Runtime, logger
from .schedules import DECORATOR, cron_of, require, utcnow

BACKFILL_BATCH = 500  # ticks enqueued per transaction (and per step of a durable backfill)
DEFAULT_MAX_BACKFILL_TICKS = 10_000


def tick_id(schedule_name: str, tick: datetime) -> str:
    return f"sched-{schedule_name}-{tick.isoformat()}"


def from_ms(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, timezone.utc)


class TickWriter:
    """Builds the workflow rows (`INSERT_TICK` parameters) of one schedule's ticks; its
    context is decoded once, and a context that cannot be decoded here raises at once. A
    tick's arguments are stored as any start of the workflow stores them (its own format, the
    portable format's envelope too), so a run reads them back as a direct call passes them."""

    def __init__(self, runtime: Runtime, record: ScheduleRecord) -> None:
        self._record = record
        info = _registry.get_function(record.workflow_name)
        self._serializer = (
            runtime.serializer if info is None else workflow_serializer(runtime, info)
        )
        self._queue = record.queue_name or INTERNAL_QUEUE
        self._context: Any = None
        if record.source != DECORATOR:
            self._context = runtime.decode(record.context, record.context_serialization)

    def row(self, workflow_id: str, scheduled_at: datetime) -> dict[str, Any]:
        record = self._record
        second = utcnow() if record.source == DECORATOR else self._context
        return {
            "workflow_uuid": workflow_id,
            "name": record.workflow_name,
            "class_name": record.workflow_class_name,
            "inputs": serialize_inputs(self._serializer, [scheduled_at, second], {}),
            "serialization": self._serializer.name(),
            "queue_name": self._queue,
            "now": now_ms(),
            "trace_context": tracing.start_context(record.workflow_name, workflow_id, self._queue),
            "schedule_name": record.schedule_name,
        }

    def tick(self, scheduled_at: datetime) -> dict[str, Any]:
        return self.row(tick_id(self._record.schedule_name, scheduled_at), scheduled_at)


def trigger(runtime: Runtime, name: str) -> str:
    """Start one run of the schedule now; its workflow ID."""
    record = require(runtime, name)
    now = utcnow()
    workflow_id = f"sched-{name}-trigger-{now.isoformat()}"
    runtime.sysdb.schedules.insert_ticks([TickWriter(runtime, record).row(workflow_id, now)])
    return workflow_id


# ------------------------------------------------------------------ backfill


@dataclass(frozen=True)
class BackfillWindow:
    """The ticks of a schedule strictly between `start` and `end`, checked (see `plan`)."""

    record: ScheduleRecord
    start: datetime
    end: datetime
    ticks: list[datetime]

    def workflow_ids(self) -> list[str]:
        return [tick_id(self.record.schedule_name, t) for t in self.ticks]


def window_ticks(cron: Cron, start: datetime, end: datetime, limit: int) -> list[datetime]:
    """Ticks in (start, end), at most `limit` + 1 of them."""
    return cron.ticks(start, end - timedelta(microseconds=1), limit)


def plan_backfill(
    runtime: Runtime, name: str, start: datetime, end: datetime, max_ticks: int
) -> BackfillWindow:
    """Check a backfill before anything is written: the schedule exists, the window is in the
    past and holds at most `max_ticks` ticks (naive datetimes are UTC)."""
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        raise DBOSException("A backfill window is two datetimes, start and end")
    if isinstance(max_ticks, bool) or not isinstance(max_ticks, int) or max_ticks < 1:
        raise DBOSException(f"max_ticks must be a positive whole number, got {max_ticks!r}")
    record = require(runtime, name)
    start, end = as_aware(start), as_aware(end)
    if not start < end:
        raise DBOSException(
            f"Backfill of schedule '{name}': start {start.isoformat()} is not before end "
            f"{end.isoformat()}"
        )
    now = utcnow()
    if end > now:
        raise DBOSException(
            f"Backfill of schedule '{name}': the window ends at {end.isoformat()}, in the "
            f"future (now is {now.isoformat()}); the scheduler fires the ticks still to come"
        )
    ticks = window_ticks(cron_of(record), start, end, max_ticks)
    if len(ticks) > max_ticks:
        raise DBOSException(
            f"Backfill of schedule '{name}' from {start.isoformat()} to {end.isoformat()} "
            f"holds more than {max_ticks} ticks; backfill a shorter window, or pass a larger "
            "max_ticks"
        )
    return BackfillWindow(record, start, end, ticks)


def batches(ticks: Sequence[datetime]) -> list[list[datetime]]:
    return [list(ticks[i : i + BACKFILL_BATCH]) for i in range(0, len(ticks), BACKFILL_BATCH)]


def enqueue_ticks(runtime: Runtime, record: ScheduleRecord, ticks: Sequence[datetime]) -> int:
    """Enqueue these ticks' workflows in one transaction; how many were new."""
    writer = TickWriter(runtime, record)
    return runtime.sysdb.schedules.insert_ticks([writer.tick(t) for t in ticks])


# ------------------------------------------------------------------ the scheduler's plan


@dataclass(frozen=True)
class FiringRule:
    """Which due ticks a scheduler fires. Ticks due since `live_since_ms` (the scheduler's
    start, less a grace for a peer that was a little late) are late, not lost: all of them
    fire, up to `max_ticks` of the latest (a machine that slept for hours). Earlier ones were
    missed while no scheduler ran: they fire only for a schedule that catches up (the last
    `catch_up_limit`, or with `automatic_backfill` up to `max_ticks`)."""

    live_since_ms: int
    max_ticks: int


def plan_ticks(
    runtime: Runtime, rows: list[ScheduleRecord], now: int, rule: FiringRule
) -> TickPlan:
    """What a claim of these due schedules writes: their ticks and each one's next tick. A
    schedule that cannot be planned is moved out of the way (logged), never left due: it
    would be claimed again and again, and hold up the rest of its batch each time."""
    plan = TickPlan()
    now_dt = from_ms(now)
    for record in rows:
        try:
            cron = cron_of(record)
            next_tick = cron.next_after(now_dt)
        except Exception as exc:  # a row written by hand or by another tool
            logger.error(
                "Schedule %s cannot run (%s): it fires nothing until it is replaced",
                record.schedule_name,
                exc,
            )
            plan.advances.append(_advance(record, None, None))
            continue
        try:
            ticks = _due_ticks(record, cron, now_dt, rule)
            writer = TickWriter(runtime, record)
            rows_of_ticks = [writer.tick(t) for t in ticks]
        except Exception as exc:
            logger.error(
                "Schedule %s: a tick was not fired, its context cannot be read here (%s)",
                record.schedule_name,
                exc,
            )
            plan.advances.append(_advance(record, next_tick, None))
            continue
        plan.ticks.extend(rows_of_ticks)
        plan.advances.append(_advance(record, next_tick, ticks[-1] if ticks else None))
    return plan


def _advance(
    record: ScheduleRecord, next_tick: datetime | None, last_fired: datetime | None
) -> dict[str, Any]:
    return {
        "schedule_id": record.schedule_id,
        # No next tick (a schedule that cannot run): far in the future, so it is not
        # claimed again and again; resuming or re-declaring it recomputes the time.
        "next_tick_at": int(next_tick.timestamp() * 1000) if next_tick else 2**62,
        "last_fired_at": last_fired.isoformat() if last_fired else None,
    }


def _due_ticks(
    record: ScheduleRecord, cron: Cron, now: datetime, rule: FiringRule
) -> list[datetime]:
    due_from = record.next_tick_at if record.next_tick_at is not None else rule.live_since_ms
    live_from = max(due_from, rule.live_since_ms)
    live = cron.latest(from_ms(live_from - 1), now, rule.max_ticks)
    if len(live) == rule.max_ticks and cron.next_after(from_ms(live_from - 1)) < live[0]:
        logger.warning(
            "Schedule %s: more than %d ticks came due at once (the process was stalled or "
            "the machine slept); the latest %d run",
            record.schedule_name,
            rule.max_ticks,
            rule.max_ticks,
        )
    missed: list[datetime] = []
    if due_from < rule.live_since_ms and record.automatic_backfill:
        limit = record.catch_up_limit if record.catch_up_limit is not None else rule.max_ticks
        missed = cron.latest(from_ms(due_from - 1), from_ms(rule.live_since_ms - 1), limit)
        if missed:
            logger.info(
                "Schedule %s: catching up on %d ticks missed while no scheduler ran",
                record.schedule_name,
                len(missed),
            )
    return missed + live

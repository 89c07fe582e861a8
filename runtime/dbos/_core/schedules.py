"""Schedules as data: defining, reading and changing the cron schedules of the system database.

One definition serves `DBOS` (a schedule of a registered workflow function), `DBOSClient` (of a
workflow by name), `@DBOS.scheduled` and the admin tools. Everything a definition needs is
checked before anything is written: the cron expression, the timezone, the queue, that the
context can be stored. A schedule's next tick is computed when it is written, so the scheduler
of every process finds it due at the right time without reading anything else.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .. import _clock
from .._db.schedule_store import ScheduleFilter, ScheduleRecord
from .._error import DBOSException
from .._registry import queues as _queues
from .._registry.cron import Cron, CronError
from .._status import WorkflowSchedule
from .messages import serialize_value
from .queue_lookup import find_queue
from .runtime import Runtime, logger

API, DECORATOR = "api", "decorator"  # who defined a schedule (`workflow_schedules.source`)
ACTIVE, PAUSED = "ACTIVE", "PAUSED"


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def utcnow() -> datetime:
    return _clock.utcnow()  # durable time: virtual inside time_skipping()


@dataclass(frozen=True)
class ScheduleDefinition:
    """A schedule as its author declared it, checked (see `define`)."""

    schedule_name: str
    workflow_name: str
    workflow_class_name: str | None
    cron: Cron
    cron_timezone: str | None
    context: Any
    automatic_backfill: bool
    queue_name: str | None
    application_name: str | None
    source: str = API
    catch_up_limit: int | None = None

    def row(self, runtime: Runtime) -> dict[str, Any]:
        """The parameters of `INSERT_SCHEDULE` / `UPSERT_SCHEDULE`; the context is stored with
        this process's serializer, and the first tick is the first one after now."""
        context = serialize_value(
            runtime.serializer, self.context, f"The context of schedule {self.schedule_name!r}"
        )
        return {
            "schedule_id": str(uuid.uuid4()),
            "schedule_name": self.schedule_name,
            "workflow_name": self.workflow_name,
            "workflow_class_name": self.workflow_class_name,
            "schedule": self.cron.expression,
            "status": ACTIVE,
            "context": context,
            "context_serialization": runtime.serializer.name(),
            "automatic_backfill": self.automatic_backfill,
            "cron_timezone": self.cron_timezone,
            "queue_name": self.queue_name,
            "application_name": self.application_name,
            "source": self.source,
            "catch_up_limit": self.catch_up_limit,
            "next_tick_at": epoch_ms(self.cron.next_after(utcnow())),
        }


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise DBOSException(f"{what} must be a non-empty string, got {value!r}")
    return value


def check_queue(runtime: Runtime, queue_name: str | None) -> None:
    """A schedule's queue must exist: declared in this process's code, or registered."""
    if queue_name is None or queue_name == _queues.INTERNAL_QUEUE:
        return
    _text(queue_name, "queue_name")
    if find_queue(runtime, queue_name) is None:
        raise DBOSException(
            f"Queue '{queue_name}' is not declared. Please create the queue before using it in "
            "a schedule."
        )


def define(
    runtime: Runtime,
    *,
    schedule_name: object,
    workflow_name: object,
    workflow_class_name: str | None,
    schedule: object,
    context: Any = None,
    automatic_backfill: bool = False,
    cron_timezone: str | None = None,
    queue_name: str | None = None,
    application_name: str | None = None,
) -> ScheduleDefinition:
    """A checked definition, or a DBOSException saying what is wrong (nothing written)."""
    try:
        cron = Cron.parse(schedule, cron_timezone)
    except CronError as exc:
        raise DBOSException(str(exc)) from None
    if not isinstance(automatic_backfill, bool):
        raise DBOSException(f"automatic_backfill must be True or False, got {automatic_backfill!r}")
    check_queue(runtime, queue_name)
    definition = ScheduleDefinition(
        schedule_name=_text(schedule_name, "schedule_name"),
        workflow_name=_text(workflow_name, "workflow_name"),
        workflow_class_name=workflow_class_name,
        cron=cron,
        cron_timezone=cron_timezone,
        context=context,
        automatic_backfill=automatic_backfill,
        queue_name=queue_name,
        application_name=application_name,
    )
    definition.row(runtime)  # the context must be storable: refused here, before any write
    return definition


# ------------------------------------------------------------------ writing


def create(runtime: Runtime, definition: ScheduleDefinition) -> None:
    if not runtime.sysdb.schedules.insert_schedule(definition.row(runtime)):
        raise DBOSException(f"Schedule '{definition.schedule_name}' already exists")


def apply(runtime: Runtime, definitions: Sequence[ScheduleDefinition]) -> None:
    """Create or replace these schedules, all in one transaction. A replaced schedule keeps
    its ID, its pause and its last tick; others are left as they are."""
    names = [d.schedule_name for d in definitions]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DBOSException(f"Schedule '{repeated[0]}' is given twice")
    rows = [d.row(runtime) for d in definitions]
    refused = runtime.sysdb.schedules.upsert_schedules(rows, all_or_none=True)
    if refused:
        raise DBOSException(
            f"Schedule '{refused[0]}' is declared with @DBOS.scheduled in the application's "
            "code; pick another name"
        )


def pause(runtime: Runtime, name: str) -> None:
    runtime.sysdb.schedules.pause_schedule(name)


def resume(runtime: Runtime, name: str) -> None:
    """A resumed schedule fires from its next tick on; the ticks of its pause never run."""
    record = runtime.sysdb.schedules.get_schedule(name)
    if record is None or record.status == ACTIVE:
        return
    runtime.sysdb.schedules.resume_schedule(name, epoch_ms(cron_of(record).next_after(utcnow())))


def delete(runtime: Runtime, name: str) -> None:
    """Delete a schedule (none of that name: nothing to do). A `@DBOS.scheduled` one is
    refused: the application's code declares it again at its next launch."""
    record = runtime.sysdb.schedules.get_schedule(name)
    if record is not None and record.source == DECORATOR:
        raise DBOSException(
            f"Schedule '{name}' is declared with @DBOS.scheduled in the application's code and "
            "would come back at its next launch: pause it, or remove the decorator"
        )
    runtime.sysdb.schedules.delete_schedule(name)


# ------------------------------------------------------------------ reading


def cron_of(record: ScheduleRecord) -> Cron:
    return Cron.parse(record.schedule, record.cron_timezone)


def decode_context(runtime: Runtime, record: ScheduleRecord) -> Any:
    """The schedule's context; its stored text (with a warning) when it cannot be decoded
    here, so one stale context does not hide every schedule."""
    try:
        return runtime.decode(record.context, record.context_serialization)
    except Exception as exc:
        logger.warning(
            "The context of schedule %s cannot be decoded (%s); shown as its stored text",
            record.schedule_name,
            exc,
        )
        return record.context


def view(runtime: Runtime, record: ScheduleRecord) -> WorkflowSchedule:
    return {
        "schedule_id": record.schedule_id,
        "schedule_name": record.schedule_name,
        "workflow_name": record.workflow_name,
        "workflow_class_name": record.workflow_class_name,
        "schedule": record.schedule,
        "status": record.status,
        "context": decode_context(runtime, record),
        "last_fired_at": record.last_fired_at,
        "automatic_backfill": record.automatic_backfill,
        "cron_timezone": record.cron_timezone,
        "queue_name": record.queue_name,
        "application_name": record.application_name,
    }


def _names(value: str | Sequence[str] | None, what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise DBOSException(f"{what} must be a string or a list of strings, got {value!r}")
    return tuple(value)


def schedule_filter(
    *,
    status: str | Sequence[str] | None = None,
    workflow_name: str | Sequence[str] | None = None,
    schedule_name_prefix: str | Sequence[str] | None = None,
    application_name: str | Sequence[str] | None = None,
    sources: Sequence[str] | None = (API,),
) -> ScheduleFilter:
    return ScheduleFilter(
        status=_names(status, "status"),
        workflow_name=_names(workflow_name, "workflow_name"),
        schedule_name_prefix=_names(schedule_name_prefix, "schedule_name_prefix"),
        application_name=_names(application_name, "application_name"),
        sources=sources,
    )


def list_schedules(runtime: Runtime, schedule_filter: ScheduleFilter) -> list[WorkflowSchedule]:
    return [view(runtime, r) for r in runtime.sysdb.schedules.list_schedules(schedule_filter)]


def get_schedule(
    runtime: Runtime, name: str, sources: Sequence[str] = (API,)
) -> WorkflowSchedule | None:
    record = runtime.sysdb.schedules.get_schedule(name)
    if record is None or record.source not in sources:
        return None
    return view(runtime, record)


def require(runtime: Runtime, name: str) -> ScheduleRecord:
    record = runtime.sysdb.schedules.get_schedule(name)
    if record is None:
        raise DBOSException(f"Schedule '{name}' does not exist")
    return record

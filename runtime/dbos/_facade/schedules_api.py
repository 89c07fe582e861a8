"""Schedules created, listed, paused, resumed, deleted, triggered and backfilled at run time:
upstream 2.31's schedule API, one definition per operation, served by `DBOS` and `DBOSClient`,
sync and async (see `operations.py`). `DBOS` names a schedule's workflow by its function,
`DBOSClient` by its registered name; everything else is shared.

Called from a workflow, the reads and changes are recorded as steps (a replay gets the recorded
answer); `apply_schedules`, `trigger_schedule` and `backfill_schedule` are refused there, as
upstream does. A backfill started by `DBOS` is itself a workflow: killed half way, the process
that recovers it enqueues the rest, and no tick runs twice (each has its deterministic ID).
"""

from __future__ import annotations

import contextvars
import dataclasses
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any, TypedDict

from .._core import schedules as _schedules
from .._core.checkpoint import active_workflow, run_step
from .._core.runtime import Runtime, get_runtime
from .._core.schedule_ticks import (
    DEFAULT_MAX_BACKFILL_TICKS,
    batches,
    enqueue_ticks,
    plan_backfill,
    trigger,
    window_ticks,
)
from .._core.workflows import start_workflow
from .._db.schedule_store import ScheduleRecord
from .._error import DBOSException
from .._registry import registry as _registry
from .._registry.registry import FunctionInfo
from .._status import WorkflowSchedule
from . import decorators as _decorators
from .operations import Caller, operation
from .presenters import as_async_handle, as_async_handles, as_handle, as_handles

ScheduledWorkflow = (
    Callable[[datetime, Any], None] | Callable[[datetime, Any], Coroutine[Any, Any, None]]
)


class ScheduleInput(TypedDict, total=False):
    """One schedule of `DBOS.apply_schedules`: `schedule_name`, `workflow_fn` and `schedule`
    (a cron expression) are required."""

    schedule_name: str
    workflow_fn: ScheduledWorkflow
    schedule: str
    context: Any
    automatic_backfill: bool
    cron_timezone: str | None
    queue_name: str | None


class ClientScheduleInput(TypedDict, total=False):
    """One schedule of `DBOSClient.apply_schedules`: `schedule_name`, `workflow_name` and
    `schedule` are required."""

    schedule_name: str
    workflow_name: str
    workflow_class_name: str | None
    schedule: str
    context: Any
    automatic_backfill: bool
    cron_timezone: str | None
    queue_name: str | None
    application_name: str | None


def _scheduler(runtime: Runtime) -> Any:
    return runtime.scheduler


def _app_name(runtime: Runtime) -> str | None:
    scheduler = _scheduler(runtime)
    return None if scheduler is None else scheduler.settings.app_name


def _max_ticks(runtime: Runtime, given: int | None) -> int:
    if given is not None:
        return given
    scheduler = _scheduler(runtime)
    return (
        DEFAULT_MAX_BACKFILL_TICKS if scheduler is None else scheduler.settings.max_backfill_ticks
    )


def _wake(runtime: Runtime) -> None:
    """A change made here: this process's scheduler looks at once (others at their poll)."""
    scheduler = _scheduler(runtime)
    if scheduler is not None:
        scheduler.wake()


def _outside_workflows(caller: Caller, what: str) -> None:
    if caller.records_steps and active_workflow() is not None:
        raise DBOSException(f"DBOS.{what} cannot be called from within a workflow")


def _workflow_of(workflow_fn: Any) -> tuple[str, str | None]:
    """The registered name of a scheduled workflow function and, for a class method, the
    registered name of its class."""
    info = getattr(getattr(workflow_fn, "__func__", workflow_fn), "__dbos_info__", None)
    if not isinstance(info, FunctionInfo) or info.kind != "workflow":
        name = getattr(workflow_fn, "__qualname__", repr(workflow_fn))
        raise DBOSException(f"Workflow function '{name}' is not registered")
    if not info.takes_self:
        return info.name, None
    owner = getattr(workflow_fn, "__self__", None)
    if not isinstance(owner, type):
        raise DBOSException("Configured instance methods cannot be used as scheduled workflows")
    class_name = _registry.dbos_class_name(owner)
    if _registry.get_class(class_name) is not owner:
        raise DBOSException(
            f"Workflow '{info.name}' is a method of class {owner.__qualname__}, which is not "
            "decorated with @DBOS.dbos_class(): its ticks could not find the class"
        )
    return info.name, class_name


# ------------------------------------------------------------------ creating


@operation("DBOS.createSchedule")
def _create_schedule(
    caller: Caller,
    *,
    schedule_name: str,
    workflow_fn: ScheduledWorkflow,
    schedule: str,
    context: Any = None,
    automatic_backfill: bool = False,
    cron_timezone: str | None = None,
    queue_name: str | None = None,
) -> None:
    """Create a cron schedule (5 fields, or 6 with seconds first) that starts `workflow_fn`
    with `(scheduled_time, context)` at every tick, in `cron_timezone` (default UTC), on
    `queue_name` (default the internal queue). Any process that registered the workflow fires
    it, each tick once. `automatic_backfill`: after a time no scheduler ran, run the ticks
    missed. Refused, with nothing written, for a bad expression or timezone, an unregistered
    workflow, an undeclared queue, a context that cannot be stored, or a name already taken."""
    runtime = caller.runtime
    workflow_name, class_name = _workflow_of(workflow_fn)
    definition = _schedules.define(
        runtime,
        schedule_name=schedule_name,
        workflow_name=workflow_name,
        workflow_class_name=class_name,
        schedule=schedule,
        context=context,
        automatic_backfill=automatic_backfill,
        cron_timezone=cron_timezone,
        queue_name=queue_name,
        application_name=_app_name(runtime),
    )
    _schedules.create(runtime, definition)
    _wake(runtime)


@operation("DBOS.createSchedule")
def _create_schedule_by_name(
    caller: Caller,
    *,
    schedule_name: str,
    workflow_name: str,
    schedule: str,
    context: Any = None,
    workflow_class_name: str | None = None,
    automatic_backfill: bool = False,
    cron_timezone: str | None = None,
    queue_name: str | None = None,
    application_name: str | None = None,
) -> None:
    """Create a cron schedule of the workflow registered as `workflow_name` (for a class
    method, of class `workflow_class_name`) by the application's workers; see
    `DBOS.create_schedule`. A workflow no running worker registers is shown as such by
    `dbos schedule list` and the dashboard."""
    runtime = caller.runtime
    definition = _schedules.define(
        runtime,
        schedule_name=schedule_name,
        workflow_name=workflow_name,
        workflow_class_name=workflow_class_name,
        schedule=schedule,
        context=context,
        automatic_backfill=automatic_backfill,
        cron_timezone=cron_timezone,
        queue_name=queue_name,
        application_name=application_name if application_name is not None else _app_name(runtime),
    )
    _schedules.create(runtime, definition)
    _wake(runtime)


def _required(entry: Any, index: int, fields: Sequence[str]) -> None:
    if not isinstance(entry, dict):
        raise DBOSException(f"Schedule entry {index} must be a dict, got {type(entry).__name__}")
    for field in fields:
        if field not in entry:
            raise DBOSException(f"Schedule entry {index} is missing required field '{field}'")


@operation(None)
def _apply_schedules(caller: Caller, schedules: Sequence[ScheduleInput]) -> None:
    """Create or replace these schedules, in one transaction, all or none: the set an
    application declares at start-up. A replaced schedule keeps its ID, its pause and its last
    tick; its next tick moves only if its timing changed. Schedules not listed are left alone
    (as upstream; delete those you no longer want)."""
    _outside_workflows(caller, "apply_schedules")
    runtime = caller.runtime
    definitions = []
    for index, entry in enumerate(schedules):
        _required(entry, index, ("schedule_name", "workflow_fn", "schedule"))
        workflow_name, class_name = _workflow_of(entry["workflow_fn"])
        definitions.append(
            _schedules.define(
                runtime,
                schedule_name=entry["schedule_name"],
                workflow_name=workflow_name,
                workflow_class_name=class_name,
                schedule=entry["schedule"],
                context=entry.get("context"),
                automatic_backfill=entry.get("automatic_backfill", False),
                cron_timezone=entry.get("cron_timezone"),
                queue_name=entry.get("queue_name"),
                application_name=_app_name(runtime),
            )
        )
    _schedules.apply(runtime, definitions)
    _wake(runtime)


@operation(None)
def _apply_client_schedules(caller: Caller, schedules: Sequence[ClientScheduleInput]) -> None:
    """`DBOS.apply_schedules` with workflows by registered name."""
    runtime = caller.runtime
    definitions = []
    for index, entry in enumerate(schedules):
        _required(entry, index, ("schedule_name", "workflow_name", "schedule"))
        definitions.append(
            _schedules.define(
                runtime,
                schedule_name=entry["schedule_name"],
                workflow_name=entry["workflow_name"],
                workflow_class_name=entry.get("workflow_class_name"),
                schedule=entry["schedule"],
                context=entry.get("context"),
                automatic_backfill=entry.get("automatic_backfill", False),
                cron_timezone=entry.get("cron_timezone"),
                queue_name=entry.get("queue_name"),
                application_name=entry.get("application_name", _app_name(runtime)),
            )
        )
    _schedules.apply(runtime, definitions)
    _wake(runtime)


# ------------------------------------------------------------------ reading


@operation("DBOS.listSchedules")
def _list_schedules(
    caller: Caller,
    *,
    status: str | Sequence[str] | None = None,
    workflow_name: str | Sequence[str] | None = None,
    schedule_name_prefix: str | Sequence[str] | None = None,
    application_name: str | Sequence[str] | None = None,
) -> list[WorkflowSchedule]:
    """The schedules created at run time (not `@DBOS.scheduled` ones, as upstream), by name,
    matching every filter given; lists match any of their values."""
    schedule_filter = _schedules.schedule_filter(
        status=status,
        workflow_name=workflow_name,
        schedule_name_prefix=schedule_name_prefix,
        application_name=application_name,
    )
    return _schedules.list_schedules(caller.runtime, schedule_filter)


@operation("DBOS.getSchedule")
def _get_schedule(caller: Caller, name: str) -> WorkflowSchedule | None:
    """The schedule of that name, or None."""
    return _schedules.get_schedule(caller.runtime, name)


# ------------------------------------------------------------------ changing


@operation("DBOS.pauseSchedule")
def _pause_schedule(caller: Caller, name: str) -> None:
    """Stop firing the schedule (in every process, from its next tick), until resumed."""
    _schedules.pause(caller.runtime, name)


@operation("DBOS.resumeSchedule")
def _resume_schedule(caller: Caller, name: str) -> None:
    """Fire a paused schedule again, from its next tick on (the ticks of the pause never run;
    `backfill_schedule` runs them on purpose)."""
    _schedules.resume(caller.runtime, name)
    _wake(caller.runtime)


@operation("DBOS.deleteSchedule")
def _delete_schedule(caller: Caller, name: str) -> None:
    """Delete the schedule (none of that name: nothing happens). Ticks already enqueued still
    run."""
    _schedules.delete(caller.runtime, name)


# ------------------------------------------------------------------ running now


@operation(None, present=as_handle)
def _trigger_schedule(caller: Caller, schedule_name: str) -> str:
    """Start one run of the schedule now (workflow `sched-<name>-trigger-<now>`), whatever its
    cron or pause; a handle on it."""
    _outside_workflows(caller, "trigger_schedule")
    return trigger(caller.runtime, schedule_name)


BACKFILL_WORKFLOW = _registry.temporary_workflow_name("DBOS.backfillSchedule")


def _backfill(record: dict[str, Any], start: str, end: str, max_ticks: int) -> int:
    """The durable backfill: the window's ticks enqueued batch by batch, each batch a step.
    Its inputs are plain values (the window as ISO text), which every serializer keeps as
    they are, so a recovery computes the very same ticks."""
    runtime = get_runtime()
    schedule = ScheduleRecord(**record)
    window = (datetime.fromisoformat(start), datetime.fromisoformat(end))
    ticks = window_ticks(_schedules.cron_of(schedule), *window, max_ticks)[:max_ticks]
    enqueued = 0
    for batch in batches(ticks):
        enqueued += run_step("DBOS.backfillSchedule", enqueue_ticks, (runtime, schedule, batch), {})
    return enqueued


_decorators.workflow(name=BACKFILL_WORKFLOW)(_backfill)


@operation(None, present=as_handles)
def _backfill_schedule(
    caller: Caller,
    schedule_name: str,
    start: datetime,
    end: datetime,
    *,
    max_ticks: int | None = None,
) -> list[str]:
    """Run every tick of the schedule strictly between `start` and `end` (naive datetimes
    are UTC) that has not run: each under its tick's workflow ID, so a tick that ran (or a
    second backfill of the same window) starts nothing new. Handles on all of the window's
    ticks. Refused, with nothing written, for a window that ends in the future or that holds
    more than `max_ticks` ticks (default: the `max_backfill_ticks` config key, else 10,000)."""
    _outside_workflows(caller, "backfill_schedule")
    runtime = caller.runtime
    window = plan_backfill(runtime, schedule_name, start, end, _max_ticks(runtime, max_ticks))
    if not window.ticks:
        return []
    if caller.runs_workflows:
        info = _registry.get_function(BACKFILL_WORKFLOW)
        assert info is not None
        record = dataclasses.asdict(window.record)
        args = (record, window.start.isoformat(), window.end.isoformat(), len(window.ticks))
        # A context of its own: an enclosing SetWorkflowID names the caller's next workflow,
        # not this one.
        handle = contextvars.Context().run(start_workflow, info, args, {})
        handle.get_result()
    else:  # a client: enqueued from here, batch by batch
        for batch in batches(window.ticks):
            enqueue_ticks(runtime, window.record, batch)
    return window.workflow_ids()


class ScheduleManagement:
    """The schedule operations `DBOS` and `DBOSClient` share."""

    list_schedules = _list_schedules
    list_schedules_async = _list_schedules.asynchronous()
    get_schedule = _get_schedule
    get_schedule_async = _get_schedule.asynchronous()
    pause_schedule = _pause_schedule
    pause_schedule_async = _pause_schedule.asynchronous()
    resume_schedule = _resume_schedule
    resume_schedule_async = _resume_schedule.asynchronous()
    delete_schedule = _delete_schedule
    delete_schedule_async = _delete_schedule.asynchronous()
    trigger_schedule = _trigger_schedule
    trigger_schedule_async = _trigger_schedule.asynchronous(present=as_async_handle)
    backfill_schedule = _backfill_schedule
    backfill_schedule_async = _backfill_schedule.asynchronous(present=as_async_handles)


class Schedules(ScheduleManagement):
    """`DBOS`'s schedule API: workflows named by their functions."""

    create_schedule = _create_schedule
    create_schedule_async = _create_schedule.asynchronous()
    apply_schedules = _apply_schedules
    apply_schedules_async = _apply_schedules.asynchronous()


class ClientSchedules(ScheduleManagement):
    """`DBOSClient`'s schedule API: workflows named by their registered names."""

    create_schedule = _create_schedule_by_name
    create_schedule_async = _create_schedule_by_name.asynchronous()
    apply_schedules = _apply_client_schedules
    apply_schedules_async = _apply_client_schedules.asynchronous()

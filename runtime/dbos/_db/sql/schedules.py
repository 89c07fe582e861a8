"""Statements on cron schedules (`workflow_schedules`) and the workflows their ticks start.

The scheduler's round is `SELECT_DUE_SCHEDULES` (rows whose next tick has come, locked against
the other processes' schedulers on PostgreSQL), then in the same transaction one `INSERT_TICK`
per tick and one `ADVANCE_SCHEDULE` per row: a crash before the commit leaves the rows due for
whoever looks next, and a tick's workflow ID makes its insert happen once whoever fires it.
`{names}` is the list of workflows the process has registered (see `ScheduleStore`), `{lock}`
PostgreSQL's row lock.
"""

from __future__ import annotations

from typing import Final

# The columns of a schedule as `ScheduleRecord` reads them, in its order.
SCHEDULE_COLUMN_NAMES = (
    "schedule_id",
    "schedule_name",
    "workflow_name",
    "workflow_class_name",
    "schedule",
    "status",
    "context",
    "context_serialization",
    "last_fired_at",
    "automatic_backfill",
    "cron_timezone",
    "queue_name",
    "application_name",
    "source",
    "catch_up_limit",
    "next_tick_at",
    "created_at",
    "updated_at",
)
SCHEDULE_COLUMNS: Final = ", ".join(SCHEDULE_COLUMN_NAMES)

_VALUES = """:schedule_id, :schedule_name, :workflow_name, :workflow_class_name,
    :schedule, :status, :context, :context_serialization, NULL, :automatic_backfill,
    :cron_timezone, :queue_name, :application_name, :source, :catch_up_limit, :next_tick_at,
    :now, :now"""

INSERT_SCHEDULE: Final = f"""
INSERT INTO {{s}}workflow_schedules ({SCHEDULE_COLUMNS}) VALUES ({_VALUES})
"""

# A re-declared schedule keeps what running it has produced (its ID, pause, last tick) and
# takes the new definition; its next tick is recomputed only when its timing changed. Only a
# schedule of the same source is replaced: `:source` guards `@DBOS.scheduled` ones against
# `apply_schedules` and the other way round.
UPSERT_SCHEDULE: Final = f"""
INSERT INTO {{s}}workflow_schedules AS w ({SCHEDULE_COLUMNS}) VALUES ({_VALUES})
ON CONFLICT (schedule_name) DO UPDATE SET
    workflow_name = excluded.workflow_name,
    workflow_class_name = excluded.workflow_class_name,
    context = excluded.context,
    context_serialization = excluded.context_serialization,
    automatic_backfill = excluded.automatic_backfill,
    catch_up_limit = excluded.catch_up_limit,
    queue_name = excluded.queue_name,
    application_name = COALESCE(w.application_name, excluded.application_name),
    next_tick_at = CASE
        WHEN w.schedule = excluded.schedule
            AND COALESCE(w.cron_timezone, '') = COALESCE(excluded.cron_timezone, '')
            AND w.next_tick_at IS NOT NULL
        THEN w.next_tick_at ELSE excluded.next_tick_at END,
    schedule = excluded.schedule,
    cron_timezone = excluded.cron_timezone,
    updated_at = excluded.updated_at
WHERE w.source = excluded.source
"""

# Which of these names a schedule of another source holds (an upsert left them alone).
SELECT_OTHER_SOURCE: Final = """
SELECT schedule_name FROM {s}workflow_schedules
WHERE schedule_name {names} AND source <> :source
"""

SELECT_SCHEDULE: Final = f"""
SELECT {SCHEDULE_COLUMNS} FROM {{s}}workflow_schedules WHERE schedule_name = :schedule_name
"""

PAUSE_SCHEDULE: Final = """
UPDATE {s}workflow_schedules SET status = 'PAUSED', updated_at = :now
WHERE schedule_name = :schedule_name
"""

# A resumed schedule starts from its next tick after now: a paused schedule fires nothing,
# not even later.
RESUME_SCHEDULE: Final = """
UPDATE {s}workflow_schedules SET status = 'ACTIVE', next_tick_at = :next_tick_at, updated_at = :now
WHERE schedule_name = :schedule_name AND status <> 'ACTIVE'
"""

DELETE_SCHEDULE: Final = """
DELETE FROM {s}workflow_schedules WHERE schedule_name = :schedule_name
"""

SELECT_DUE_SCHEDULES: Final = f"""
SELECT {SCHEDULE_COLUMNS} FROM {{s}}workflow_schedules
WHERE status = 'ACTIVE' AND next_tick_at <= :now AND workflow_name {{names}}
ORDER BY next_tick_at
LIMIT :limit
{{lock}}
"""

ADVANCE_SCHEDULE: Final = """
UPDATE {s}workflow_schedules
SET next_tick_at = :next_tick_at, last_fired_at = COALESCE(:last_fired_at, last_fired_at)
WHERE schedule_id = :schedule_id
"""

NEXT_TICK_DUE: Final = """
SELECT min(next_tick_at) FROM {s}workflow_schedules
WHERE status = 'ACTIVE' AND workflow_name {names}
"""

# Rows written by another implementation (an upstream database carried over) have no next
# tick yet: the scheduler computes it once.
SELECT_UNTIMED_SCHEDULES: Final = f"""
SELECT {SCHEDULE_COLUMNS} FROM {{s}}workflow_schedules
WHERE next_tick_at IS NULL AND workflow_name {{names}}
"""

SET_NEXT_TICK: Final = """
UPDATE {s}workflow_schedules SET next_tick_at = :next_tick_at
WHERE schedule_id = :schedule_id AND next_tick_at IS NULL
"""

SELECT_DECORATOR_SCHEDULES: Final = """
SELECT schedule_name FROM {s}workflow_schedules
WHERE source = 'decorator' AND workflow_name {names}
"""

DELETE_DECORATOR_SCHEDULE: Final = """
DELETE FROM {s}workflow_schedules WHERE schedule_name = :schedule_name AND source = 'decorator'
"""

# A tick (or a trigger, or a backfilled tick) joins its queue like any enqueued workflow;
# no application version: whichever worker has the workflow starts it (none has run yet).
INSERT_TICK: Final = """
INSERT INTO {s}workflow_status (
    workflow_uuid, status, name, class_name, inputs, serialization, created_at, updated_at,
    recovery_attempts, queue_name, priority, was_forked_from, trace_context, schedule_name
) VALUES (
    :workflow_uuid, 'ENQUEUED', :name, :class_name, :inputs, :serialization, :now, :now,
    0, :queue_name, 0, false, :trace_context, :schedule_name
) ON CONFLICT (workflow_uuid) DO NOTHING
"""

SET_EXECUTOR_WORKFLOWS: Final = """
UPDATE {s}executors SET workflow_names = :workflow_names WHERE instance_id = :instance_id
"""

SELECT_EXECUTOR_WORKFLOWS: Final = """
SELECT instance_id, heartbeat_at, workflow_names FROM {s}executors
"""

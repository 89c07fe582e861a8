"""Shapes returned by introspection, matching upstream DBOS's so user code carries over."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, TypedDict


class WorkflowStatusString(Enum):
    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    MAX_RECOVERY_ATTEMPTS_EXCEEDED = "MAX_RECOVERY_ATTEMPTS_EXCEEDED"
    CANCELLED = "CANCELLED"
    ENQUEUED = "ENQUEUED"
    DELAYED = "DELAYED"


TERMINAL_STATUSES = frozenset({"SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"})


@dataclass
class WorkflowStatus:
    """One workflow's record. Times are epoch milliseconds."""

    workflow_id: str
    status: str
    name: str
    class_name: str | None = None
    config_name: str | None = None
    authenticated_user: str | None = None
    assumed_role: str | None = None
    authenticated_roles: list[str] | None = None
    input: dict[str, Any] | None = None
    output: Any = None
    error: BaseException | None = None
    created_at: int | None = None
    updated_at: int | None = None
    completed_at: int | None = None
    queue_name: str | None = None
    executor_id: str | None = None
    app_version: str | None = None
    app_id: str | None = None
    recovery_attempts: int | None = None
    workflow_timeout_ms: int | None = None
    workflow_deadline_epoch_ms: int | None = None
    deduplication_id: str | None = None
    priority: int | None = None
    queue_partition_key: str | None = None
    forked_from: str | None = None
    was_forked_from: bool = False
    parent_workflow_id: str | None = None
    dequeued_at: int | None = None
    delay_until_epoch_ms: int | None = None
    attributes: dict[str, Any] | None = None  # None: it was given none
    schedule_name: str | None = None  # the schedule whose tick, trigger or backfill started it


@dataclass(frozen=True)
class StepStatus:
    """Inside a step: its number, the attempt running now (0-based), and the attempt limit
    (None when the step does not retry)."""

    step_id: int
    current_attempt: int | None
    max_attempts: int | None


class StepInfo(TypedDict):
    """One checkpointed operation of a workflow, as `DBOS.list_workflow_steps` returns it."""

    function_id: int
    function_name: str
    output: Any
    error: BaseException | None
    child_workflow_id: str | None
    started_at_epoch_ms: int | None
    completed_at_epoch_ms: int | None


class VersionInfo(TypedDict):
    """One application version launched on the system database (times are epoch ms):
    `version_timestamp` orders them (the latest is the greatest), `created_at` never moves."""

    version_id: str
    version_name: str
    version_timestamp: int
    created_at: int
    application_name: str | None


class WorkflowSchedule(TypedDict):
    """One cron schedule, as `DBOS.list_schedules` and `get_schedule` return it (upstream's
    shape). `context` is decoded (shown as its stored text when it cannot be); `last_fired_at`
    is the latest tick fired, ISO 8601 in the schedule's timezone."""

    schedule_id: str
    schedule_name: str
    workflow_name: str
    workflow_class_name: str | None
    schedule: str
    status: str
    context: Any
    last_fired_at: str | None
    automatic_backfill: bool
    cron_timezone: str | None
    queue_name: str | None
    application_name: str | None

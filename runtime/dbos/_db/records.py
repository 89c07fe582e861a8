"""Plain shapes of rows read from the system database, shared by every layer above it."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from .._clock import now_ms as now_ms  # durable time, for the stores

# What a write wakes: (kind, workflow ID, key). The kinds, also used by the PostgreSQL
# triggers: a message (destination, topic), an event (workflow, key), a stream value
# (workflow, key), a workflow reaching a final status (workflow, ""), a queue with work to
# claim or a slot freed (queue name, "").
WakeKey = tuple[str, str, str]
MESSAGE, EVENT, STREAM, FINAL, QUEUE = "m", "e", "s", "w", "q"
# The `queues` table changed (a queue registered, changed or deleted): dispatchers re-read it.
QUEUES_CHANGED: WakeKey = ("Q", "", "")


@dataclass(frozen=True)
class StepRecord:
    function_id: int
    function_name: str
    output: str | None
    error: str | None
    child_workflow_id: str | None
    serialization: str | None
    started_at_epoch_ms: int | None
    completed_at_epoch_ms: int | None
    attempts: int | None = None  # of a retrying step; None: ran once, without retries


class WorkflowRow:
    """Column positions in a row of `sql.workflows.SELECT_WORKFLOW` (a plain DBAPI tuple, read
    on hot paths where a mapping would cost more than the query)."""

    ID, STATUS, NAME, CLASS, CONFIG, INPUTS, OUTPUT, ERROR, FORMAT = range(9)
    EXECUTOR, VERSION, OWNER, ATTEMPTS, TIMEOUT_MS, DEADLINE, PARENT, QUEUE = range(9, 17)
    TRACE, PARTITION = 17, 18
    AUTH_USER, AUTH_ROLES, ASSUMED_ROLE = range(19, 22)


@dataclass(frozen=True, slots=True)
class StepWrite:
    """One checkpoint to record: conditional on `owner` still owning the PENDING workflow."""

    workflow_id: str
    owner: str
    function_id: int
    function_name: str
    output: str | None = None
    error: str | None = None
    child_workflow_id: str | None = None
    serialization: str | None = None
    started_at: int = 0
    attempts: int | None = None

    def params(self) -> dict[str, Any]:
        return {
            "workflow_uuid": self.workflow_id,
            "function_id": self.function_id,
            "function_name": self.function_name,
            "output": self.output,
            "error": self.error,
            "child_workflow_id": self.child_workflow_id,
            "serialization": self.serialization,
            "started_at": self.started_at,
            "completed_at": now_ms(),
            "owner_xid": self.owner,
            "attempts": self.attempts,
        }


class NotOwner(Exception):
    """A write from a workflow found it no longer PENDING under this execution's owner token
    (cancelled, or taken over); its transaction was rolled back."""


class Deduplicated(Exception):
    """An enqueue met the unique (queue, deduplication ID) of a workflow still queued or
    running; nothing was written."""


def is_unique_violation(exc: BaseException) -> bool:
    """A row with this key exists already (a step number recorded, a deduplication ID taken)."""
    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE constraint failed" in str(exc)
    return getattr(exc, "sqlstate", None) == "23505"

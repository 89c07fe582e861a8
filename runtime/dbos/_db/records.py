"""Plain shapes of rows read from the system database, shared by every layer above it."""

from __future__ import annotations

import time
from dataclasses import dataclass


def now_ms() -> int:
    return time.time_ns() // 1_000_000


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


class WorkflowRow:
    """Column positions in a row of `sql.workflows.SELECT_WORKFLOW` (a plain DBAPI tuple, read
    on hot paths where a mapping would cost more than the query)."""

    ID, STATUS, NAME, CLASS, CONFIG, INPUTS, OUTPUT, ERROR, FORMAT = range(9)
    EXECUTOR, VERSION, OWNER, ATTEMPTS, TIMEOUT_MS, DEADLINE, PARENT = range(9, 16)

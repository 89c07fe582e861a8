"""Seeding a replay's throwaway system database with one recorded history (and clearing it
again), in one transaction each. Only ever pointed at a temporary SQLite file of a replay."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .connections import Connections
from .records import StepRecord


def seed_workflow(db: Connections, row: Mapping[str, Any], steps: Iterable[StepRecord]) -> None:
    """Write the workflow's row (`sql.INSERT_WORKFLOW`'s parameters) and its recorded steps,
    replacing an earlier copy of the same workflow."""
    workflow_id = row["workflow_uuid"]
    step_rows = [
        {
            "workflow_uuid": workflow_id,
            "function_id": s.function_id,
            "function_name": s.function_name,
            "output": s.output,
            "error": s.error,
            "child_workflow_id": s.child_workflow_id,
            "serialization": s.serialization,
            "started_at": s.started_at_epoch_ms,
            "completed_at": s.completed_at_epoch_ms,
            "attempts": s.attempts,
        }
        for s in steps
    ]
    with db.transaction() as cur:
        cur.execute(db.sql.CLEAR_SEEDED_WORKFLOW, {"workflow_uuid": workflow_id})
        cur.execute(db.sql.INSERT_WORKFLOW, row)
        if step_rows:
            cur.executemany(db.sql.SEED_STEP, step_rows)


def clear_workflow(db: Connections, workflow_id: str) -> None:
    db.execute(db.sql.CLEAR_SEEDED_WORKFLOW, {"workflow_uuid": workflow_id})

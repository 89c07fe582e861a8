"""Statements on step checkpoints (`operation_outputs`)."""

from __future__ import annotations

from typing import Final

# The hot path. One statement, one implicit transaction: the step's row is written only while
# this execution still owns a PENDING workflow, so a cancelled or superseded run learns it at its
# next checkpoint without a separate read.
RECORD_STEP: Final = """
INSERT INTO {s}operation_outputs (
    workflow_uuid, function_id, function_name, output, error, child_workflow_id, serialization,
    started_at_epoch_ms, completed_at_epoch_ms, attempts
) SELECT :workflow_uuid, :function_id, :function_name, :output, :error, :child_workflow_id,
    :serialization, :started_at, :completed_at, :attempts
WHERE EXISTS (
    SELECT 1 FROM {s}workflow_status
    WHERE workflow_uuid = :workflow_uuid AND status = 'PENDING' AND owner_xid = :owner_xid
)
"""

# A step that may be recorded already: a wait's deadline (`DBOS.sleep`), written with the wait's
# outcome when the wait never had to record it first (what it waited for was there at once).
RECORD_STEP_IF_ABSENT: Final = (
    RECORD_STEP.rstrip() + "\nON CONFLICT (workflow_uuid, function_id) DO NOTHING\n"
)

# A recorded step as it is read back (`SELECT_STEPS`; the resume's one query in workflows.py).
STEP_COLUMNS: Final = (
    "function_id",
    "function_name",
    "output",
    "error",
    "child_workflow_id",
    "serialization",
    "started_at_epoch_ms",
    "completed_at_epoch_ms",
    "attempts",
)

SELECT_STEPS: Final = f"""
SELECT {", ".join(STEP_COLUMNS)}
FROM {{s}}operation_outputs WHERE workflow_uuid = :workflow_uuid ORDER BY function_id
"""

COPY_STEPS_FOR_FORK: Final = """
INSERT INTO {s}operation_outputs (
    workflow_uuid, function_id, function_name, output, error, child_workflow_id, serialization,
    started_at_epoch_ms, completed_at_epoch_ms, attempts
) SELECT :new_workflow_uuid, function_id, function_name, output, error, child_workflow_id,
    serialization, started_at_epoch_ms, completed_at_epoch_ms, attempts
FROM {s}operation_outputs WHERE workflow_uuid = :workflow_uuid AND function_id < :start_step
"""

# `fork_workflow(replacement_children=)`: a copied step that started or awaited a child now
# names the child's replacement, so the fork's replay follows (and waits on) the new child.
REPLACE_CHILD_FOR_FORK: Final = """
UPDATE {s}operation_outputs SET child_workflow_id = :new_child
WHERE workflow_uuid = :new_workflow_uuid AND child_workflow_id = :old_child
"""

# What a step number holds: a write retried after its first attempt's fate was unknown (the
# connection died around the commit) compares it with its own to recognise its own row.
SELECT_STEP: Final = """
SELECT function_name, output, error, child_workflow_id, completed_at_epoch_ms, serialization
FROM {s}operation_outputs WHERE workflow_uuid = :workflow_uuid AND function_id = :function_id
"""

# A `DBOS.sleep` step is recorded when the sleep begins (its wake-up time is the output); when
# the sleep ends its completion time is moved to the real end, once (a replay finds it later
# than the wake-up time and leaves it).
SLEEP_ENDED: Final = """
UPDATE {s}operation_outputs SET completed_at_epoch_ms = :completed_at
WHERE workflow_uuid = :workflow_uuid AND function_id = :function_id
    AND function_name = 'DBOS.sleep' AND completed_at_epoch_ms < :wake_at
"""

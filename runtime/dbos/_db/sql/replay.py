"""Statements that seed a replay's throwaway system database with a recorded history
(`dbos.testing.replay`); never run against a database the history came from."""

from __future__ import annotations

from typing import Final

# A history replayed again (the same workflow in two files, a test replaying twice) replaces
# the earlier copy; its steps go with it (ON DELETE CASCADE).
CLEAR_SEEDED_WORKFLOW: Final = """
DELETE FROM {s}workflow_status WHERE workflow_uuid = :workflow_uuid
"""

SEED_STEP: Final = """
INSERT INTO {s}operation_outputs (
    workflow_uuid, function_id, function_name, output, error, child_workflow_id, serialization,
    started_at_epoch_ms, completed_at_epoch_ms, attempts
) VALUES (
    :workflow_uuid, :function_id, :function_name, :output, :error, :child_workflow_id,
    :serialization, :started_at, :completed_at, :attempts
)
"""

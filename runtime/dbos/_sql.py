"""Every statement the runtime sends, written once with `:name` parameters and `{s}` for the schema.

A thin per-dialect renderer turns them into the DBAPI's parameter style. Keeping the SQL in one
place (rather than spread over the code that calls it) is what lets a reviewer check the hot path
at a glance: a step on a fresh run is exactly `RECORD_STEP`.
"""

from __future__ import annotations

import re
from typing import Final

_PARAM = re.compile(r"(?<!:):([a-zA-Z_][a-zA-Z0-9_]*)")


def render(sql: str, backend: str, schema: str | None) -> str:
    """Substitute the schema prefix and convert `:name` to psycopg's `%(name)s` where needed."""
    prefix = f'"{schema}".' if (schema and backend == "postgresql") else ""
    out = sql.replace("{s}", prefix)
    if backend == "postgresql":
        out = out.replace("%", "%%")
        out = _PARAM.sub(r"%(\1)s", out)
    return out


INSERT_WORKFLOW: Final = """
INSERT INTO {s}workflow_status (
    workflow_uuid, status, name, class_name, config_name, inputs, serialization,
    executor_id, application_version, created_at, updated_at, recovery_attempts, owner_xid,
    workflow_timeout_ms, workflow_deadline_epoch_ms, parent_workflow_id, queue_name,
    authenticated_user, authenticated_roles, assumed_role, priority, was_forked_from, forked_from
) VALUES (
    :workflow_uuid, :status, :name, :class_name, :config_name, :inputs, :serialization,
    :executor_id, :application_version, :now, :now, :recovery_attempts, :owner_xid,
    :workflow_timeout_ms, :workflow_deadline_epoch_ms, :parent_workflow_id, :queue_name,
    :authenticated_user, :authenticated_roles, :assumed_role, 0, false, :forked_from
) ON CONFLICT (workflow_uuid) DO NOTHING
"""

# The hot path. One statement, one implicit transaction: the step's row is written only while
# this execution still owns a PENDING workflow, so a cancelled or superseded run learns it at its
# next checkpoint without a separate read.
RECORD_STEP: Final = """
INSERT INTO {s}operation_outputs (
    workflow_uuid, function_id, function_name, output, error, child_workflow_id, serialization,
    started_at_epoch_ms, completed_at_epoch_ms
) SELECT :workflow_uuid, :function_id, :function_name, :output, :error, :child_workflow_id,
    :serialization, :started_at, :completed_at
WHERE EXISTS (
    SELECT 1 FROM {s}workflow_status
    WHERE workflow_uuid = :workflow_uuid AND status = 'PENDING' AND owner_xid = :owner_xid
)
"""

COMPLETE_WORKFLOW: Final = """
UPDATE {s}workflow_status
SET status = :status, output = :output, error = :error, updated_at = :now, completed_at = :now
WHERE workflow_uuid = :workflow_uuid AND status = 'PENDING' AND owner_xid = :owner_xid
"""

_WORKFLOW_COLUMNS = """workflow_uuid, status, name, class_name, config_name, inputs, output, error,
    serialization, executor_id, application_version, owner_xid, recovery_attempts,
    workflow_timeout_ms, workflow_deadline_epoch_ms, parent_workflow_id"""

SELECT_WORKFLOW: Final = f"""
SELECT {_WORKFLOW_COLUMNS}
FROM {{s}}workflow_status WHERE workflow_uuid = :workflow_uuid
"""

SELECT_STEPS: Final = """
SELECT function_id, function_name, output, error, child_workflow_id, serialization,
    started_at_epoch_ms, completed_at_epoch_ms
FROM {s}operation_outputs WHERE workflow_uuid = :workflow_uuid ORDER BY function_id
"""

# Compare-and-swap on the owner token: of all processes trying to take over a PENDING workflow,
# exactly one sees a row change.
CLAIM_WORKFLOW: Final = """
UPDATE {s}workflow_status
SET owner_xid = :new_owner, executor_id = :executor_id, updated_at = :now,
    recovery_attempts = recovery_attempts + 1
WHERE workflow_uuid = :workflow_uuid AND status = 'PENDING' AND owner_xid = :old_owner
"""

MARK_MAX_RECOVERY: Final = """
UPDATE {s}workflow_status
SET status = 'MAX_RECOVERY_ATTEMPTS_EXCEEDED', updated_at = :now, completed_at = :now
WHERE workflow_uuid = :workflow_uuid AND status = 'PENDING'
"""

SELECT_PENDING_FOR_EXECUTOR: Final = f"""
SELECT {_WORKFLOW_COLUMNS} FROM {{s}}workflow_status
WHERE status = 'PENDING' AND executor_id = :executor_id AND queue_name IS NULL
ORDER BY created_at
"""

CANCEL_WORKFLOW: Final = """
UPDATE {s}workflow_status
SET status = 'CANCELLED', updated_at = :now, completed_at = :now
WHERE workflow_uuid = :workflow_uuid AND status NOT IN ('SUCCESS', 'ERROR', 'CANCELLED')
"""

SELECT_CHILDREN: Final = """
SELECT workflow_uuid FROM {s}workflow_status WHERE parent_workflow_id = :workflow_uuid
"""

RESUME_WORKFLOW: Final = """
UPDATE {s}workflow_status
SET status = 'PENDING', owner_xid = :owner_xid, executor_id = :executor_id,
    recovery_attempts = 1, updated_at = :now, completed_at = NULL,
    workflow_deadline_epoch_ms = :deadline
WHERE workflow_uuid = :workflow_uuid AND status NOT IN ('SUCCESS', 'ERROR')
"""

COPY_STEPS_FOR_FORK: Final = """
INSERT INTO {s}operation_outputs (
    workflow_uuid, function_id, function_name, output, error, child_workflow_id, serialization,
    started_at_epoch_ms, completed_at_epoch_ms
) SELECT :new_workflow_uuid, function_id, function_name, output, error, child_workflow_id,
    serialization, started_at_epoch_ms, completed_at_epoch_ms
FROM {s}operation_outputs WHERE workflow_uuid = :workflow_uuid AND function_id < :start_step
"""

MARK_FORKED: Final = """
UPDATE {s}workflow_status SET was_forked_from = true WHERE workflow_uuid = :workflow_uuid
"""

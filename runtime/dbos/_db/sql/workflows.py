"""Statements on workflow rows (`workflow_status`)."""

from __future__ import annotations

from typing import Final

from .steps import STEP_COLUMNS

# The columns of a new workflow row, and the values a row mapping gives them (`now` is its
# created_at and updated_at; a new row is never a fork's): every INSERT and COPY below.
_NEW_ROW_COLUMNS: Final = """
    workflow_uuid, status, name, class_name, config_name, inputs, serialization,
    executor_id, application_version, created_at, updated_at, recovery_attempts, owner_xid,
    workflow_timeout_ms, workflow_deadline_epoch_ms, parent_workflow_id, queue_name,
    authenticated_user, authenticated_roles, assumed_role, priority, was_forked_from, forked_from,
    deduplication_id, queue_partition_key, started_at_epoch_ms, delay_until_epoch_ms,
    debounce_deadline_epoch_ms, trace_context, attributes
"""
_NEW_ROW_VALUES: Final = """
    :workflow_uuid, :status, :name, :class_name, :config_name, :inputs, :serialization,
    :executor_id, :application_version, :now, :now, :recovery_attempts, :owner_xid,
    :workflow_timeout_ms, :workflow_deadline_epoch_ms, :parent_workflow_id, :queue_name,
    :authenticated_user, :authenticated_roles, :assumed_role, :priority, false, :forked_from,
    :deduplication_id, :queue_partition_key, :started_at_epoch_ms, :delay_until_epoch_ms,
    :debounce_deadline_epoch_ms, :trace_context, :attributes
"""

INSERT_WORKFLOW: Final = (
    "INSERT INTO {s}workflow_status (" + _NEW_ROW_COLUMNS + ") VALUES (" + _NEW_ROW_VALUES + ")"
    " ON CONFLICT (workflow_uuid) DO NOTHING"
)

# A workflow joining a partition of a partitioned queue takes its fair round: one after its
# partition's last queued row (same priority), or one after the queue's lowest queued round
# when its partition has nothing queued, so a new tenant is served within a round, not after
# every backlog queued before it. Two index probes (partition_queued_index, enqueued_index).
INSERT_PARTITIONED_WORKFLOW: Final = (
    "INSERT INTO {s}workflow_status ("
    + _NEW_ROW_COLUMNS
    + ", partition_round) VALUES ("
    + _NEW_ROW_VALUES
    + """,
    COALESCE(
        (SELECT max(p.partition_round) FROM {s}workflow_status p
         WHERE p.queue_name = :queue_name AND p.queue_partition_key = :queue_partition_key
             AND p.priority = :priority AND p.status = 'ENQUEUED'),
        (SELECT min(q.partition_round) FROM {s}workflow_status q
         WHERE q.queue_name = :queue_name AND q.priority = :priority AND q.status = 'ENQUEUED'
             AND q.queue_partition_key IS NOT NULL),
        0) + 1
) ON CONFLICT (workflow_uuid) DO NOTHING
"""
)

# PostgreSQL, `enqueue_many`: every row in one statement, a parameter per column (an array of
# the rows' values), so its size and cost of parsing do not grow with the batch.
INSERT_WORKFLOWS_UNNEST: Final = (
    "INSERT INTO {s}workflow_status ("
    + _NEW_ROW_COLUMNS
    + """)
SELECT
    u.workflow_uuid, u.status, u.name, u.class_name, u.config_name, u.inputs, u.serialization,
    u.executor_id, u.application_version, u.now, u.now, u.recovery_attempts, u.owner_xid,
    u.workflow_timeout_ms, u.workflow_deadline_epoch_ms, u.parent_workflow_id, u.queue_name,
    u.authenticated_user, u.authenticated_roles, u.assumed_role, u.priority, false, u.forked_from,
    u.deduplication_id, u.queue_partition_key, u.started_at_epoch_ms, u.delay_until_epoch_ms,
    u.debounce_deadline_epoch_ms, u.trace_context, u.attributes
FROM unnest(
    :workflow_uuid::text[],
    :status::text[],
    :name::text[],
    :class_name::text[],
    :config_name::text[],
    :inputs::text[],
    :serialization::text[],
    :executor_id::text[],
    :application_version::text[],
    :now::bigint[],
    :recovery_attempts::bigint[],
    :owner_xid::text[],
    :workflow_timeout_ms::bigint[],
    :workflow_deadline_epoch_ms::bigint[],
    :parent_workflow_id::text[],
    :queue_name::text[],
    :authenticated_user::text[],
    :authenticated_roles::text[],
    :assumed_role::text[],
    :priority::int[],
    :forked_from::text[],
    :deduplication_id::text[],
    :queue_partition_key::text[],
    :started_at_epoch_ms::bigint[],
    :delay_until_epoch_ms::bigint[],
    :debounce_deadline_epoch_ms::bigint[],
    :trace_context::text[],
    :attributes::text[]
) AS u(
    workflow_uuid, status, name, class_name, config_name, inputs, serialization,
    executor_id, application_version, now, recovery_attempts, owner_xid,
    workflow_timeout_ms, workflow_deadline_epoch_ms, parent_workflow_id, queue_name,
    authenticated_user, authenticated_roles, assumed_role, priority, forked_from,
    deduplication_id, queue_partition_key, started_at_epoch_ms, delay_until_epoch_ms,
    debounce_deadline_epoch_ms, trace_context, attributes
)
ON CONFLICT (workflow_uuid) DO NOTHING
"""
)

# PostgreSQL, `enqueue_many`'s first try: the batch streamed in binary COPY format (no SQL to
# parse, no text arrays to build and escape), the same columns as `INSERT_WORKFLOWS_UNNEST`
# (`now` twice: created_at and updated_at; was_forked_from false). COPY has no ON CONFLICT:
# a batch meeting a workflow ID already in the table (a retry after a lost commit, or a
# caller's own ID) is rolled back and written again by `INSERT_WORKFLOWS_UNNEST`, which skips
# such rows, so what is written is the same either way.
COPY_WORKFLOWS: Final = (
    "COPY {s}workflow_status (" + _NEW_ROW_COLUMNS + ") FROM STDIN (FORMAT BINARY)"
)

# Around `COPY_WORKFLOWS`: the rows' own wake-up trigger stands aside for this transaction
# (see `triggers.BATCH_SETTING`), and the batch sends its queue's one NOTIFY itself, delivered
# at its commit as the trigger's would be.
SKIP_ROW_WAKEUPS: Final = """
SET LOCAL dbos.batch_enqueue = 'on'
"""

NOTIFY_WAKE: Final = """
SELECT pg_notify(:channel, :payload)
"""

# A finished workflow gives its deduplication ID back: a new enqueue may take it.
COMPLETE_WORKFLOW: Final = """
UPDATE {s}workflow_status
SET status = :status, output = :output, error = :error, updated_at = :now, completed_at = :now,
    deduplication_id = NULL, waiting_for = NULL, waiting_until_epoch_ms = NULL
WHERE workflow_uuid = :workflow_uuid AND status = 'PENDING' AND owner_xid = :owner_xid
"""

# A run of COMPLETE_WORKFLOW in one group commit, as one statement (PostgreSQL; see
# `bulk_writes`): each parameter is the run's values of that name as an array, each row
# changed under its own statement's conditions; the IDs of the rows changed come back. Its
# rows are found by their IDs alone: the status test is kept out of every index (`IS TRUE`),
# or a planner whose statistics predate the running workflows (taken while none ran) chose
# "status = 'PENDING'" through the executor's index as the outer side of a nested loop and
# compared each PENDING row with each of the run's (3,840 x 256 per flush, 300 ms, in
# workload 8; a process with 100,000 parked workflows has that many PENDING rows).
COMPLETE_WORKFLOWS: Final = """
UPDATE {s}workflow_status w
SET status = v.status, output = v.output, error = v.error, updated_at = v.now,
    completed_at = v.now, deduplication_id = NULL, waiting_for = NULL,
    waiting_until_epoch_ms = NULL
FROM unnest(
    CAST(:workflow_uuid AS text[]), CAST(:owner_xid AS text[]), CAST(:status AS text[]),
    CAST(:output AS text[]), CAST(:error AS text[]), CAST(:now AS int8[])
) AS v(workflow_uuid, owner_xid, status, output, error, now)
WHERE w.workflow_uuid = v.workflow_uuid AND (w.status = 'PENDING') IS TRUE
    AND w.owner_xid = v.owner_xid
RETURNING w.workflow_uuid
"""

# A parked workflow's wait, for operators (see schema.py); only while this execution owns it.
RECORD_PARKED: Final = """
UPDATE {s}workflow_status
SET waiting_for = :waiting_for, waiting_until_epoch_ms = :waiting_until
WHERE workflow_uuid = :workflow_uuid AND status = 'PENDING' AND owner_xid = :owner_xid
"""

_WORKFLOW_COLUMNS = """workflow_uuid, status, name, class_name, config_name, inputs, output, error,
    serialization, executor_id, application_version, owner_xid, recovery_attempts,
    workflow_timeout_ms, workflow_deadline_epoch_ms, parent_workflow_id, queue_name,
    trace_context, queue_partition_key, authenticated_user, authenticated_roles, assumed_role"""

SELECT_WORKFLOW: Final = f"""
SELECT {_WORKFLOW_COLUMNS}
FROM {{s}}workflow_status WHERE workflow_uuid = :workflow_uuid
"""

WORKFLOW_COLUMN_COUNT: Final = len(_WORKFLOW_COLUMNS.split(","))
_STEP_NULLS = ", ".join(["NULL"] * len(STEP_COLUMNS))
_WORKFLOW_NULLS = ", ".join(["NULL"] * WORKFLOW_COLUMN_COUNT)

# A parked workflow's resume: its row and its recorded steps in one round trip, the row first
# (part 0: the columns of SELECT_WORKFLOW), then its steps in step order (part 1: those of
# `steps.SELECT_STEPS`); each part's other columns are NULL.
SELECT_WORKFLOW_AND_STEPS: Final = f"""
SELECT 0, {_WORKFLOW_COLUMNS}, {_STEP_NULLS}
FROM {{s}}workflow_status WHERE workflow_uuid = :workflow_uuid
UNION ALL
SELECT 1, {_WORKFLOW_NULLS}, {", ".join(STEP_COLUMNS)}
FROM {{s}}operation_outputs WHERE workflow_uuid = :workflow_uuid
ORDER BY 1, {WORKFLOW_COLUMN_COUNT + 2}
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
SET status = 'MAX_RECOVERY_ATTEMPTS_EXCEEDED', updated_at = :now, completed_at = :now,
    deduplication_id = NULL
WHERE workflow_uuid = :workflow_uuid AND status = 'PENDING'
"""

SELECT_PENDING_FOR_EXECUTOR: Final = f"""
SELECT {_WORKFLOW_COLUMNS} FROM {{s}}workflow_status
WHERE status = 'PENDING' AND executor_id = :executor_id
ORDER BY created_at
"""

CANCEL_WORKFLOW: Final = """
UPDATE {s}workflow_status
SET status = 'CANCELLED', updated_at = :now, completed_at = :now, deduplication_id = NULL
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

MARK_FORKED: Final = """
UPDATE {s}workflow_status SET was_forked_from = true WHERE workflow_uuid = :workflow_uuid
"""

# Resuming a queued workflow puts it back on its queue, so the queue's limits still apply; one
# resumed by a process that runs nothing (a client, `dbos`) goes on the internal queue.
REQUEUE_FOR_RESUME: Final = """
UPDATE {s}workflow_status
SET status = 'ENQUEUED', owner_xid = NULL, executor_id = NULL, recovery_attempts = 1,
    updated_at = :now, completed_at = NULL, workflow_deadline_epoch_ms = NULL,
    queue_name = COALESCE(queue_name, :queue_name)
WHERE workflow_uuid = :workflow_uuid AND status NOT IN ('SUCCESS', 'ERROR', 'ENQUEUED')
"""

SELECT_CREATED: Final = """
SELECT name, created_at, owner_xid FROM {s}workflow_status WHERE workflow_uuid = :workflow_uuid
"""

UPDATE_ATTRIBUTES: Final = """
UPDATE {s}workflow_status SET attributes = :attributes, updated_at = :now
WHERE workflow_uuid = :workflow_uuid
"""

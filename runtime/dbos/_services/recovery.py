"""Recovery at launch: resume this executor's PENDING workflows from their checkpoints.

Each claim is a compare-and-swap on the owner token, so of several processes recovering one
workflow exactly one runs it; claims run on workflow threads, so many share one commit.
"""

from __future__ import annotations

import uuid
from typing import Any

from .._core.handles import WorkflowHandle
from .._core.runtime import Runtime, get_runtime, logger
from .._core.workflows import execute_in_fresh_context, launch_from_row
from .._db.records import WorkflowRow as W
from .._error import (
    DBOSDeserializationError,
    DBOSWorkflowFunctionNotFoundError,
    MaxRecoveryAttemptsExceededError,
)
from .._registry import registry as _registry
from .._serialization import serialize_exception


def recover_row(row: Any) -> Any:
    """Take over a PENDING workflow (one process wins) and run it from its checkpoints.

    Runs on a workflow thread, so the claims of many recovered workflows share commits."""
    runtime = get_runtime()
    workflow_id = row[W.ID]
    owner = uuid.uuid4().hex
    if not runtime.sysdb.claim_workflow(workflow_id, row[W.OWNER], owner, runtime.executor_id):
        return None  # another process took it over first
    info = _registry.get_function(row[W.NAME])
    limit = info.max_recovery_attempts if info is not None else 100
    attempts = int(row[W.ATTEMPTS]) + 1
    if limit is not None and attempts > limit + 1:
        runtime.sysdb.mark_max_recovery_exceeded(workflow_id)
        logger.error("%s", MaxRecoveryAttemptsExceededError(workflow_id, limit))
        return None
    try:
        launch = launch_from_row(runtime, row, owner)
    except DBOSDeserializationError as exc:
        # Inputs that cannot be read would fail the same way on every restart: record it.
        failure = DBOSDeserializationError(
            f"Cannot recover workflow {workflow_id}: its stored inputs are unreadable "
            f"({exc.message})"
        )
        error = serialize_exception(runtime.serializer, failure)
        runtime.sysdb.complete_workflow(workflow_id, owner, "ERROR", None, error)
        logger.error("%s", failure)
        return None
    except DBOSWorkflowFunctionNotFoundError as exc:
        logger.error("%s; it stays PENDING until a process that has it launches", exc)
        raise
    return execute_in_fresh_context(launch)


def recover_pending(runtime: Runtime) -> list[WorkflowHandle[Any]]:
    """Resume this executor's PENDING workflows of this application version."""
    handles: list[WorkflowHandle[Any]] = []
    skipped = 0
    for row in runtime.sysdb.pending_for_executor(runtime.executor_id):
        if row[W.VERSION] != runtime.app_version:
            skipped += 1
            continue
        handles.append(WorkflowHandle(row[W.ID], runtime.pool.submit(recover_row, row)))
    if skipped:
        logger.warning(
            "%d pending workflows belong to other application versions and were not recovered",
            skipped,
        )
    if handles:
        logger.info("Recovering %d pending workflows", len(handles))
    return handles

"""A workflow's outcome as a caller sees it: read from its row, or waited for."""

from __future__ import annotations

import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from .._db.connections import is_connection_error
from .._db.records import WorkflowRow as W
from .._error import (
    DBOSAwaitedWorkflowCancelledError,
    DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded,
    DBOSNonExistentWorkflowError,
)
from .runtime import Runtime, get_runtime, logger


def outcome_from_row(runtime: Runtime, workflow_id: str, row: Any) -> tuple[bool, Any]:
    """(True, result) for a finished workflow (raising its error), (False, None) otherwise."""
    status = row[W.STATUS]
    if status == "SUCCESS":
        return True, runtime.decode(row[W.OUTPUT], row[W.FORMAT])
    if status == "ERROR":
        raise runtime.decode_error(row[W.ERROR], row[W.FORMAT])
    if status == "CANCELLED":
        raise DBOSAwaitedWorkflowCancelledError(workflow_id)
    if status == "MAX_RECOVERY_ATTEMPTS_EXCEEDED":
        raise DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded(workflow_id)
    return False, None


def wait_for_result(
    workflow_id: str, future: Future[Any] | None = None, polling_interval_sec: float = 1.0
) -> Any:
    """Block until the workflow finishes; its result, or its error raised here."""
    runtime = get_runtime()
    delay = 0.005
    finished = runtime.finish_event(workflow_id) if future is None else None
    try:
        while True:
            if future is not None:
                try:
                    return future.result(timeout=delay)
                except FutureTimeout:
                    pass
            try:
                row = runtime.sysdb.get_workflow(workflow_id)
            except Exception as exc:
                if not is_connection_error(exc):
                    raise
                # A waiter outlives a database restart: keep polling, more slowly.
                logger.warning(
                    "Waiting for workflow %s: database unreachable: %s", workflow_id, exc
                )
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if row is None:
                raise DBOSNonExistentWorkflowError(workflow_id)
            done, result = outcome_from_row(runtime, workflow_id, row)
            if done:
                return result
            if finished is not None:
                finished.wait(delay)
            delay = min(delay * 2, max(polling_interval_sec, 0.005))
    finally:
        if finished is not None:
            runtime.forget_finish_event(workflow_id)

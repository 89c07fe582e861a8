"""A workflow's outcome as a caller sees it: read from its row, or waited for."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from .._db.records import WorkflowRow as W
from .._error import (
    DBOSAwaitedWorkflowCancelledError,
    DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded,
    DBOSNonExistentWorkflowError,
)
from .._status import TERMINAL_STATUSES
from .runtime import Runtime, get_runtime
from .waiters import FINAL, WaitKey
from .waiting import NOTHING, wait_for, wait_for_async

_GRACE_SEC = 0.05


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
    workflow_id: str,
    future: Future[Any] | None = None,
    polling_interval_sec: float = 1.0,
    *,
    runtime: Runtime | None = None,
) -> Any:
    """Block until the workflow finishes; its result, or its error raised here.

    The wait wakes on the finish itself (in this process, or through the notifier from another
    one); `polling_interval_sec` is accepted for upstream compatibility and not needed. As the
    whole body of a handle's `DBOS.getResult` step it may park its workflow (parking.py)."""
    runtime = runtime or get_runtime()
    key = _watch(runtime, workflow_id, future)
    check = _result_check(runtime, workflow_id, future)
    return wait_for(runtime, check, (key,), deadline=None, ctx=None)


async def wait_for_result_async(
    workflow_id: str,
    future: Future[Any] | None = None,
    *,
    runtime: Runtime | None = None,
) -> Any:
    """`wait_for_result` for async callers: the wait holds no thread (only its reads do, one
    at a time), so any number of awaited workflows cannot starve the runtime's async I/O. As
    the whole body of a `DBOS.getResult` step it may park its workflow, as the sync one."""
    runtime = runtime or get_runtime()
    key = _watch(runtime, workflow_id, future)
    check = _result_check(runtime, workflow_id, future)
    return await wait_for_async(runtime, check, (key,), deadline=None, ctx=None)


def _watch(runtime: Runtime, workflow_id: str, future: Future[Any] | None) -> WaitKey:
    key = WaitKey(FINAL, workflow_id)
    if future is not None:
        # A body run here may end without a row change (DBOS.destroy()): its future says so.
        future.add_done_callback(lambda _: runtime.waiters.fire(key))
    return key


def _result_check(
    runtime: Runtime, workflow_id: str, future: Future[Any] | None
) -> Callable[[], Any]:
    def check() -> Any:
        # A run cancelled here may have been resumed since (here or elsewhere): then its future
        # tells of the old run only, and the row decides.
        usable = future is not None and not _ended_cancelled(future)
        if usable and future is not None and future.done():
            return future.result()
        row = runtime.sysdb.workflows.get_workflow(workflow_id)
        if row is None:
            raise DBOSNonExistentWorkflowError(workflow_id)
        if row[W.STATUS] not in TERMINAL_STATUSES:
            return NOTHING
        if usable and future is not None:
            # Finished here: let the body's thread end first (it logs a failure nobody awaits).
            with contextlib.suppress(FutureTimeout):
                return future.result(timeout=_GRACE_SEC)
        return outcome_from_row(runtime, workflow_id, row)[1]

    return check


def _ended_cancelled(future: Future[Any]) -> bool:
    if not future.done() or future.cancelled():
        return future.cancelled()
    return isinstance(future.exception(), DBOSAwaitedWorkflowCancelledError)


def first_finished(workflow_ids: list[str], runtime: Runtime | None = None) -> str:
    """The ID of the first of these workflows seen finished (any final status), waiting for
    one; woken by each one's finish, here or in another process. As the whole body of a
    `DBOS.waitFirst` step it may park its workflow (parking.py)."""
    runtime = runtime or get_runtime()
    keys = tuple(WaitKey(FINAL, workflow_id) for workflow_id in workflow_ids)
    return str(
        wait_for(runtime, _first_check(runtime, workflow_ids), keys, deadline=None, ctx=None)
    )


async def first_finished_async(workflow_ids: list[str], runtime: Runtime | None = None) -> str:
    runtime = runtime or get_runtime()
    keys = tuple(WaitKey(FINAL, workflow_id) for workflow_id in workflow_ids)
    check = _first_check(runtime, workflow_ids)
    return str(await wait_for_async(runtime, check, keys, deadline=None, ctx=None))


def _first_check(runtime: Runtime, workflow_ids: list[str]) -> Callable[[], Any]:
    def check() -> Any:
        for workflow_id in workflow_ids:
            row = runtime.sysdb.workflows.get_workflow(workflow_id)
            if row is None:
                raise DBOSNonExistentWorkflowError(workflow_id)
            if row[W.STATUS] in TERMINAL_STATUSES:
                return workflow_id
        return NOTHING

    return check

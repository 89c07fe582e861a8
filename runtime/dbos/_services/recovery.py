"""Recovery at launch: resume this executor's PENDING workflows from their checkpoints.

Each claim is a compare-and-swap on the owner token, so of several processes recovering one
workflow exactly one runs it; claims run on workflow threads, so many share one commit.
"""

from __future__ import annotations

from typing import Any

from .._core.handles import WorkflowHandle
from .._core.runtime import Runtime, get_runtime, logger
from .._core.workflows import execute_in_fresh_context, prepare_claimed
from .._db.records import WorkflowRow as W
from .._error import (
    DBOSWorkflowFunctionNotFoundError,
)
from .liveness import instance_alive, instance_of


def recover_row(row: Any) -> Any:
    """Take over a PENDING workflow (one process wins) and run it from its checkpoints.

    Runs on a workflow thread, so the claims of many recovered workflows share commits."""
    runtime = get_runtime()
    owner = runtime.new_owner()
    if not runtime.sysdb.claim_workflow(row[W.ID], row[W.OWNER], owner, runtime.executor_id):
        return None  # another process took it over first
    claimed = list(row)
    claimed[W.ATTEMPTS] = int(row[W.ATTEMPTS]) + 1  # the claim counted this attempt
    try:
        launch = prepare_claimed(runtime, claimed, owner, first_run=False)
    except DBOSWorkflowFunctionNotFoundError as exc:
        logger.error("%s; it stays PENDING until a process that has it launches", exc)
        raise
    return None if launch is None else execute_in_fresh_context(launch)


def recover_pending(runtime: Runtime, executor_timeout_sec: float) -> list[WorkflowHandle[Any]]:
    """Resume this executor's PENDING workflows of this application version, except those a
    live process still runs (one that shares this executor ID): queued ones go back to their
    queue, the others run here."""
    instances = {str(r[0]): tuple(r) for r in runtime.sysdb.instances()}
    handles: list[WorkflowHandle[Any]] = []
    other_version = 0
    alive_elsewhere: set[str] = set()
    for row in runtime.sysdb.pending_for_executor(runtime.executor_id):
        if row[W.VERSION] != runtime.app_version:
            other_version += 1
            continue
        owner = instance_of(row[W.OWNER])
        if owner is not None and instance_alive(instances.get(owner), executor_timeout_sec):
            alive_elsewhere.add(owner)
            continue
        if row[W.QUEUE] is not None:
            runtime.sysdb.requeue_one(row[W.ID], row[W.OWNER], row[W.QUEUE])
            handles.append(WorkflowHandle(row[W.ID]))
            continue
        handles.append(WorkflowHandle(row[W.ID], runtime.pool.submit(recover_row, row)))
    if other_version:
        logger.warning(
            "%d pending workflows belong to other application versions and were not recovered",
            other_version,
        )
    if alive_elsewhere:
        logger.warning(
            "Executor ID %r is also used by %d other live process(es), whose pending workflows "
            "were left to them; give each process its own executor_id (or DBOS__VMID)",
            runtime.executor_id,
            len(alive_elsewhere),
        )
    if handles:
        logger.info("Recovering %d pending workflows", len(handles))
    return handles

"""Recovery at launch: resume this executor's PENDING workflows from their checkpoints.

Each claim is a compare-and-swap on the owner token, so of several processes recovering one
workflow exactly one runs it; claims run on workflow threads, so many share one commit.
"""

from __future__ import annotations

from typing import Any

from .._core.handles import WorkflowHandle
from .._core.running import recover_row
from .._core.runtime import Runtime, logger
from .._db.records import WorkflowRow as W
from .liveness import instance_alive, instance_of


def recover_pending(runtime: Runtime, executor_timeout_sec: float) -> list[WorkflowHandle[Any]]:
    """Resume this executor's PENDING workflows of this application version, except those a
    live process still runs (one that shares this executor ID): queued ones go back to their
    queue, the others run here."""
    instances = {str(r[0]): tuple(r) for r in runtime.sysdb.queues.instances()}
    handles: list[WorkflowHandle[Any]] = []
    other_versions: dict[str, int] = {}
    alive_elsewhere: set[str] = set()
    for row in runtime.sysdb.workflows.pending_for_executor(runtime.executor_id):
        if row[W.VERSION] != runtime.app_version:
            version = str(row[W.VERSION])
            other_versions[version] = other_versions.get(version, 0) + 1
            continue
        owner = instance_of(row[W.OWNER])
        if owner is not None and instance_alive(instances.get(owner), executor_timeout_sec):
            alive_elsewhere.add(owner)
            continue
        if row[W.QUEUE] is not None:
            runtime.sysdb.queues.requeue_one(row[W.ID], row[W.OWNER], row[W.QUEUE])
            handles.append(WorkflowHandle(row[W.ID]))
            continue
        handles.append(WorkflowHandle(row[W.ID], runtime.pool.submit(recover_row, row)))
    if other_versions:
        logger.warning(
            "%d pending workflows belong to other application versions and were not recovered "
            "(%s); this process is version %r: a process of their version recovers them "
            "(application_version in the config)",
            sum(other_versions.values()),
            ", ".join(f"{n} of {v!r}" for v, n in sorted(other_versions.items())),
            runtime.app_version,
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

"""Controlling workflows: cancel, resume, fork and retrieve, through the system database.

Because everything goes through the database, any process (or an admin tool) controls the same
workflows. Called inside a workflow, each operation is checkpointed as a step so a replay sees
the same answer.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from .._db.records import WorkflowRow as W
from .._db.records import now_ms
from .._error import DBOSConflictingWorkflowError, DBOSNonExistentWorkflowError
from .checkpoint import active_workflow, run_step
from .context import take_assigned_workflow_id
from .handles import WorkflowHandle
from .runtime import Runtime, get_runtime
from .workflows import launch_from_row, submit


def _as_step(step_name: str, func: Any, *args: Any, **kwargs: Any) -> Any:
    if active_workflow() is None:
        return func(*args, **kwargs)
    return run_step(step_name, func, args, kwargs)


def _require(runtime: Runtime, workflow_id: str) -> Any:
    row = runtime.sysdb.get_workflow(workflow_id)
    if row is None:
        raise DBOSNonExistentWorkflowError(workflow_id)
    return row


def cancel_workflow(workflow_id: str, cancel_children: bool = False) -> None:
    runtime = get_runtime()
    _require(runtime, workflow_id)
    runtime.cancel(workflow_id, cascade=cancel_children)


def resume_workflow(workflow_id: str) -> WorkflowHandle[Any]:
    """Restart a cancelled, dead-lettered or stuck workflow from its last completed step (a
    queued one by putting it back on its queue)."""
    runtime = get_runtime()
    row = _require(runtime, workflow_id)
    if row[W.STATUS] in ("SUCCESS", "ERROR"):
        return WorkflowHandle(workflow_id)
    if row[W.QUEUE] is not None:
        # Back on its queue, whose limits apply to it as to any other of its workflows.
        runtime.sysdb.requeue_for_resume(workflow_id, row[W.QUEUE])
        return WorkflowHandle(workflow_id)
    owner = runtime.new_owner()
    timeout_ms = row[W.TIMEOUT_MS]
    deadline = now_ms() + int(timeout_ms) if timeout_ms else None
    if not runtime.sysdb.resume_workflow(workflow_id, owner, runtime.executor_id, deadline):
        return WorkflowHandle(workflow_id)
    fresh = runtime.sysdb.get_workflow(workflow_id)
    launch = launch_from_row(runtime, fresh, owner)
    return WorkflowHandle(workflow_id, submit(launch))


def fork_workflow(
    workflow_id: str, start_step: int, *, application_version: str | None = None
) -> WorkflowHandle[Any]:
    """A new workflow with the same inputs that reuses the original's steps before `start_step`."""
    runtime = get_runtime()
    t = runtime.sysdb.table("workflow_status")
    found = runtime.sysdb.run_query(sa.select(t).where(t.c.workflow_uuid == workflow_id))
    if not found:
        raise DBOSNonExistentWorkflowError(workflow_id)
    m = found[0]._mapping
    new_id = take_assigned_workflow_id() or str(uuid.uuid4())
    owner = runtime.new_owner()
    new_row = {
        "workflow_uuid": new_id,
        "status": "PENDING",
        "name": m["name"],
        "class_name": m["class_name"],
        "config_name": m["config_name"],
        # Re-encoded in this process's format, which its output will be written in.
        "inputs": runtime.serializer.serialize(runtime.decode(m["inputs"], m["serialization"])),
        "serialization": runtime.serializer.name(),
        "executor_id": runtime.executor_id,
        "application_version": application_version or runtime.app_version,
        "now": now_ms(),
        "recovery_attempts": 1,
        "owner_xid": owner,
        "workflow_timeout_ms": m["workflow_timeout_ms"],
        "workflow_deadline_epoch_ms": (
            now_ms() + int(m["workflow_timeout_ms"]) if m["workflow_timeout_ms"] else None
        ),
        "parent_workflow_id": None,
        "queue_name": None,
        "authenticated_user": m["authenticated_user"],
        "authenticated_roles": m["authenticated_roles"],
        "assumed_role": m["assumed_role"],
        "forked_from": workflow_id,
        "priority": 0,
        "deduplication_id": None,
        "queue_partition_key": None,
    }
    if not runtime.sysdb.fork_workflow(new_row, workflow_id, start_step):
        raise DBOSConflictingWorkflowError(
            new_id, "a workflow with that ID exists already; fork to a new ID"
        )
    fresh = runtime.sysdb.get_workflow(new_id)
    launch = launch_from_row(runtime, fresh, owner)
    return WorkflowHandle(new_id, submit(launch))


def retrieve_workflow(workflow_id: str, existing_workflow: bool = True) -> WorkflowHandle[Any]:
    runtime = get_runtime()
    if existing_workflow:
        _require(runtime, workflow_id)
    return WorkflowHandle(workflow_id)

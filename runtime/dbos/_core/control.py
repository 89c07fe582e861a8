"""Controlling workflows: cancel, resume, fork and retrieve, through the system database.

Because everything goes through the database, any process (or an admin tool) controls the same
workflows. Called inside a workflow, each operation is checkpointed as a step so a replay sees
the same answer. A process that runs workflows (`run_here=True`) resumes and forks them on its
own threads; one that does not (a DBOSClient) puts them on a queue for a worker to run.
"""

from __future__ import annotations

from typing import Any

from .._db.listing import WorkflowFilter
from .._db.records import WorkflowRow as W
from .._db.records import now_ms
from .._error import DBOSConflictingWorkflowError, DBOSNonExistentWorkflowError
from .._registry.queues import INTERNAL_QUEUE
from . import tracing
from .checkpoint import as_step
from .context import attributes_text, take_assigned_workflow_id
from .handles import WorkflowHandle
from .launches import launch_from_row
from .running import submit
from .runtime import Runtime, get_runtime
from .time_ordered_ids import new_id

_as_step = as_step  # the facade's name for it


def _require(runtime: Runtime, workflow_id: str) -> Any:
    row = runtime.sysdb.workflows.get_workflow(workflow_id)
    if row is None:
        raise DBOSNonExistentWorkflowError(workflow_id)
    return row


def cancel_workflow(
    workflow_id: str, cancel_children: bool = False, runtime: Runtime | None = None
) -> None:
    runtime = runtime or get_runtime()
    _require(runtime, workflow_id)
    runtime.cancel(workflow_id, cascade=cancel_children)


def resume_workflow(
    workflow_id: str,
    runtime: Runtime | None = None,
    run_here: bool = True,
    queue_name: str | None = None,
) -> WorkflowHandle[Any]:
    """Restart a cancelled, dead-lettered or stuck workflow from its last completed step (a
    queued one by putting it back on its queue, or on `queue_name` when given)."""
    runtime = runtime or get_runtime()
    row = _require(runtime, workflow_id)
    if row[W.STATUS] in ("SUCCESS", "ERROR"):
        return WorkflowHandle(workflow_id, runtime=runtime)
    queue = queue_name or row[W.QUEUE]
    if queue is not None or not run_here:
        # Back on its queue, whose limits apply to it as to any other of its workflows.
        runtime.sysdb.queues.requeue_for_resume(workflow_id, queue or INTERNAL_QUEUE)
        return WorkflowHandle(workflow_id, runtime=runtime)
    owner = runtime.new_owner()
    timeout_ms = row[W.TIMEOUT_MS]
    deadline = now_ms() + int(timeout_ms) if timeout_ms else None
    if not runtime.sysdb.workflows.resume_workflow(
        workflow_id, owner, runtime.executor_id, deadline
    ):
        return WorkflowHandle(workflow_id, runtime=runtime)
    fresh = runtime.sysdb.workflows.get_workflow(workflow_id)
    launch = launch_from_row(runtime, fresh, owner)
    return WorkflowHandle(workflow_id, submit(launch))


def fork_workflow(
    workflow_id: str,
    start_step: int,
    *,
    application_version: str | None = None,
    queue_name: str | None = None,
    queue_partition_key: str | None = None,
    timeout_seconds: float | None = None,
    replacement_children: dict[str, str] | None = None,
    runtime: Runtime | None = None,
    run_here: bool = True,
) -> WorkflowHandle[Any]:
    """A new workflow with the same inputs that reuses the original's steps before `start_step`:
    run here, or put on `queue_name` (a client always queues it, on the internal queue by
    default). `timeout_seconds` replaces the original's timeout; `replacement_children` maps
    child workflow IDs in the reused steps to others (forks of those children, say), whose
    results the fork then reads instead."""
    if timeout_seconds is not None and not timeout_seconds > 0:
        raise ValueError(f"timeout_seconds must be positive, got {timeout_seconds!r}")
    if queue_partition_key is not None and queue_name is None:
        raise ValueError("queue_partition_key needs queue_name")
    runtime = runtime or get_runtime()
    if queue_name is not None:
        run_here = False
    found = runtime.sysdb.workflows.list_workflows(WorkflowFilter(workflow_ids=(workflow_id,)))
    if not found:
        raise DBOSNonExistentWorkflowError(workflow_id)
    m = found[0]._mapping
    fork_id = take_assigned_workflow_id() or new_id()
    owner = runtime.new_owner() if run_here else None
    if run_here:
        # The fork keeps the original's format (its run writes in its row's): refused here,
        # before anything is written, when this process cannot read it.
        runtime.reader(m["serialization"])
    # As stored: a worker that runs the fork reads them, while this process (a client, the
    # `dbos` command) may lack the classes, or the serializer, they need.
    inputs, serialization = m["inputs"], m["serialization"]
    timeout_ms = (
        int(timeout_seconds * 1000) if timeout_seconds is not None else m["workflow_timeout_ms"]
    )
    queue = None if run_here else (queue_name or INTERNAL_QUEUE)
    new_row = {
        "workflow_uuid": fork_id,
        "status": "PENDING" if run_here else "ENQUEUED",
        "name": m["name"],
        "class_name": m["class_name"],
        "config_name": m["config_name"],
        "inputs": inputs,
        "serialization": serialization,
        "executor_id": runtime.executor_id if run_here else None,
        "application_version": application_version or runtime.app_version or None,
        "now": now_ms(),
        "recovery_attempts": 1,
        "owner_xid": owner,
        "workflow_timeout_ms": timeout_ms,
        "workflow_deadline_epoch_ms": (
            now_ms() + int(timeout_ms) if timeout_ms and run_here else None
        ),
        "parent_workflow_id": None,
        "queue_name": queue,
        "authenticated_user": m["authenticated_user"],
        "authenticated_roles": m["authenticated_roles"],
        "assumed_role": m["assumed_role"],
        "forked_from": workflow_id,
        "trace_context": tracing.start_context(m["name"], fork_id, queue),
        "priority": 0,
        "deduplication_id": None,
        "queue_partition_key": queue_partition_key,
        "started_at_epoch_ms": None,
        "delay_until_epoch_ms": None,
        "debounce_deadline_epoch_ms": None,
        "attributes": m["attributes"],
    }
    if not runtime.sysdb.workflows.fork_workflow(
        new_row, workflow_id, start_step, replacement_children
    ):
        raise DBOSConflictingWorkflowError(
            fork_id, "a workflow with that ID exists already; fork to a new ID"
        )
    if not run_here:
        return WorkflowHandle(fork_id, runtime=runtime)
    fresh = runtime.sysdb.workflows.get_workflow(fork_id)
    assert owner is not None
    launch = launch_from_row(runtime, fresh, owner)
    return WorkflowHandle(fork_id, submit(launch))


def retrieve_workflow(
    workflow_id: str, existing_workflow: bool = True, runtime: Runtime | None = None
) -> WorkflowHandle[Any]:
    runtime = runtime or get_runtime()
    if existing_workflow:
        _require(runtime, workflow_id)
    return WorkflowHandle(workflow_id, runtime=runtime)


def update_attributes(
    workflow_id: str, attributes: dict[str, Any] | None, runtime: Runtime | None = None
) -> None:
    """Replace a workflow's attributes; an unknown workflow is an error and nothing changes."""
    runtime = runtime or get_runtime()
    text = attributes_text(attributes)
    if not runtime.sysdb.workflows.update_attributes(workflow_id, text):
        raise DBOSNonExistentWorkflowError(workflow_id)

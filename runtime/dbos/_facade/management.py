"""Inspecting and controlling workflows: status, results, listings, steps, cancel, resume, fork,
delete, attributes. One definition per operation, served by `DBOS` (recorded as a step when
called from a workflow, so a replay sees the same answer) and by `DBOSClient`, sync and async
(see `operations.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from typing_extensions import Unpack

from .._core import control as _control
from .._core import results as _results
from .._core import statuses as _statuses
from .._core.aio import durable_asyncio_wait
from .._core.filters import ListingArgs, to_filter
from .._core.handles import WorkflowHandle
from .._status import StepInfo, WorkflowStatus
from .operations import Caller, async_operation, operation
from .presenters import as_async_handle, as_async_handles, as_handle, as_handles

# ------------------------------------------------------------------ status and results


@operation("DBOS.getStatus")
def _get_workflow_status(caller: Caller, workflow_id: str) -> WorkflowStatus | None:
    """The workflow's status record, or None when there is no such workflow."""
    return _statuses.get_workflow_status(workflow_id, caller.runtime)


# A handle records its own `DBOS.getResult` step (naming the awaited workflow), so these two
# are not recorded again as operations.
@operation(None)
def _get_result(caller: Caller, workflow_id: str) -> Any:
    """Wait for the workflow to finish; its result, or its error raised here."""
    return WorkflowHandle(workflow_id, runtime=caller.handle_runtime()).get_result()


@async_operation(None)
async def _get_result_async(caller: Caller, workflow_id: str) -> Any:
    """`get_result`, awaited without holding a thread."""
    return await as_async_handle(caller, workflow_id).get_result()


@operation(None, present=as_handle)
def _retrieve_workflow(caller: Caller, workflow_id: str, existing_workflow: bool = True) -> str:
    """A handle on the workflow; with `existing_workflow` an unknown ID is an error."""
    return _control.retrieve_workflow(
        workflow_id, existing_workflow, runtime=caller.runtime
    ).workflow_id


def _distinct_ids(handles: Sequence[Any]) -> list[str]:
    if not handles:
        raise ValueError("wait_first: the list of handles must not be empty")
    ids: list[str] = []
    for handle in handles:
        workflow_id = handle.get_workflow_id()
        if workflow_id in ids:
            raise ValueError(f"wait_first got workflow {workflow_id!r} twice")
        ids.append(workflow_id)
    return ids


def _winner(caller: Caller, winner_id: Any, handles: Sequence[Any], **_kw: Any) -> Any:
    return next(h for h in handles if h.get_workflow_id() == winner_id)


@operation("DBOS.waitFirst", present=_winner, waits=True)
def _wait_first(
    caller: Caller, handles: Sequence[WorkflowHandle[Any]], *, polling_interval_sec: float = 1.0
) -> str:
    """The first of `handles` whose workflow finishes. In a workflow the winner is recorded:
    completion order is nondeterministic, and a replay must take the branch the first run took.
    A long wait there parks the workflow, as a handle's `get_result` does (parking.py).
    `polling_interval_sec` is accepted for upstream compatibility; finishes wake the wait."""
    return _results.first_finished(_distinct_ids(handles), caller.runtime)


@async_operation("DBOS.waitFirst", present=_winner, waits=True)
async def _wait_first_async(
    caller: Caller, handles: Sequence[Any], *, polling_interval_sec: float = 1.0
) -> str:
    """`wait_first` for async code, over sync or async handles; the wait holds no thread."""
    return await _results.first_finished_async(_distinct_ids(handles), caller.runtime)


# ------------------------------------------------------------------ listings


@operation("DBOS.listWorkflows")
def _list_workflows(caller: Caller, **args: Unpack[ListingArgs]) -> list[WorkflowStatus]:
    """Workflows matching every filter given, oldest first unless `sort_desc`."""
    load_input = args.pop("load_input", True)
    load_output = args.pop("load_output", True)
    return _statuses.list_workflows(
        caller.runtime, to_filter(args), load_input=load_input, load_output=load_output
    )


@operation("DBOS.listQueuedWorkflows")
def _list_queued_workflows(caller: Caller, **args: Unpack[ListingArgs]) -> list[WorkflowStatus]:
    """Workflows on a queue that have not finished (DELAYED, ENQUEUED or PENDING unless
    `status` says otherwise), oldest first unless `sort_desc`."""
    load_input = args.pop("load_input", True)
    load_output = args.pop("load_output", False)
    return _statuses.list_workflows(
        caller.runtime,
        to_filter(args, queued_only=True),
        load_input=load_input,
        load_output=load_output,
    )


@operation("DBOS.listWorkflowSteps")
def _list_workflow_steps(
    caller: Caller,
    workflow_id: str,
    *,
    load_output: bool = True,
    limit: int | None = None,
    offset: int | None = None,
) -> list[StepInfo]:
    """The workflow's recorded steps in step order; `offset` and `limit` page through them."""
    return _statuses.list_workflow_steps(
        workflow_id, caller.runtime, load_output=load_output, limit=limit, offset=offset
    )


# ------------------------------------------------------------------ control


@operation("DBOS.cancelWorkflow")
def _cancel_workflow(caller: Caller, workflow_id: str, *, cancel_children: bool = False) -> None:
    """Stop the workflow (and with `cancel_children`, its descendants): it ends CANCELLED at
    its next checkpoint, here or in whichever process runs it."""
    _control.cancel_workflow(workflow_id, cancel_children, runtime=caller.runtime)


@operation("DBOS.cancelWorkflows")
def _cancel_workflows(
    caller: Caller, workflow_ids: Sequence[str], *, cancel_children: bool = False
) -> None:
    """`cancel_workflow` for each of `workflow_ids`."""
    for workflow_id in workflow_ids:
        _control.cancel_workflow(workflow_id, cancel_children, runtime=caller.runtime)


@operation("DBOS.resumeWorkflow", present=as_handle)
def _resume_workflow(caller: Caller, workflow_id: str, *, queue_name: str | None = None) -> str:
    """Restart a cancelled, dead-lettered or stuck workflow from its last completed step; with
    `queue_name`, on that queue (under its limits)."""
    return _control.resume_workflow(
        workflow_id, runtime=caller.runtime, run_here=caller.runs_workflows, queue_name=queue_name
    ).workflow_id


@operation("DBOS.resumeWorkflows", present=as_handles)
def _resume_workflows(
    caller: Caller, workflow_ids: Sequence[str], *, queue_name: str | None = None
) -> list[str]:
    """`resume_workflow` for each of `workflow_ids`."""
    return [
        _control.resume_workflow(
            workflow_id,
            runtime=caller.runtime,
            run_here=caller.runs_workflows,
            queue_name=queue_name,
        ).workflow_id
        for workflow_id in workflow_ids
    ]


@operation("DBOS.forkWorkflow", present=as_handle)
def _fork_workflow(
    caller: Caller,
    workflow_id: str,
    start_step: int,
    *,
    application_version: str | None = None,
    queue_name: str | None = None,
    queue_partition_key: str | None = None,
    timeout_seconds: float | None = None,
    replacement_children: dict[str, str] | None = None,
) -> str:
    """A new workflow with the same inputs that reuses the original's steps before
    `start_step` and runs from there (on `queue_name`, if given). `replacement_children` maps
    children named in the reused steps to other workflows (forks of them, say): the fork then
    reads their results instead."""
    return _control.fork_workflow(
        workflow_id,
        start_step,
        application_version=application_version,
        queue_name=queue_name,
        queue_partition_key=queue_partition_key,
        timeout_seconds=timeout_seconds,
        replacement_children=replacement_children,
        runtime=caller.runtime,
        run_here=caller.runs_workflows,
    ).workflow_id


@operation("DBOS.deleteWorkflow")
def _delete_workflows(
    caller: Caller, workflow_ids: Sequence[str], *, delete_children: bool = False
) -> None:
    """Delete workflows, whatever their status, with their steps, messages, events, streams
    and transaction outputs (with `delete_children`, their descendants too)."""
    from .._core.retention import delete_workflows

    delete_workflows(
        caller.runtime.sysdb,
        caller.app_databases(),
        list(workflow_ids),
        delete_children=delete_children,
    )


@operation("DBOS.deleteWorkflow")
def _delete_workflow(caller: Caller, workflow_id: str, *, delete_children: bool = False) -> None:
    """`delete_workflows` of one workflow."""
    _delete_workflows.func(caller, [workflow_id], delete_children=delete_children)


@operation("DBOS.updateWorkflowAttributes")
def _update_workflow_attributes(
    caller: Caller, workflow_id: str, attributes: dict[str, Any] | None
) -> None:
    """Replace a workflow's attributes (None clears them)."""
    _control.update_attributes(workflow_id, attributes, runtime=caller.runtime)


class Management:
    """The workflow-management surface shared by `DBOS` and `DBOSClient`."""

    get_workflow_status = _get_workflow_status
    get_workflow_status_async = _get_workflow_status.asynchronous()
    get_result = _get_result
    get_result_async = _get_result_async
    retrieve_workflow = _retrieve_workflow
    retrieve_workflow_async = _retrieve_workflow.asynchronous(present=as_async_handle)

    list_workflows = _list_workflows
    list_workflows_async = _list_workflows.asynchronous()
    list_queued_workflows = _list_queued_workflows
    list_queued_workflows_async = _list_queued_workflows.asynchronous()
    list_workflow_steps = _list_workflow_steps
    list_workflow_steps_async = _list_workflow_steps.asynchronous()

    cancel_workflow = _cancel_workflow
    cancel_workflow_async = _cancel_workflow.asynchronous()
    cancel_workflows = _cancel_workflows
    cancel_workflows_async = _cancel_workflows.asynchronous()
    resume_workflow = _resume_workflow
    resume_workflow_async = _resume_workflow.asynchronous(present=as_async_handle)
    resume_workflows = _resume_workflows
    resume_workflows_async = _resume_workflows.asynchronous(present=as_async_handles)
    fork_workflow = _fork_workflow
    fork_workflow_async = _fork_workflow.asynchronous(present=as_async_handle)
    delete_workflow = _delete_workflow
    delete_workflow_async = _delete_workflow.asynchronous()
    delete_workflows = _delete_workflows
    delete_workflows_async = _delete_workflows.asynchronous()
    update_workflow_attributes = _update_workflow_attributes
    update_workflow_attributes_async = _update_workflow_attributes.asynchronous()
    wait_first = _wait_first
    wait_first_async = _wait_first_async

    @classmethod
    def _caller_of(cls, instance: object | None) -> Caller | None:
        return None  # DBOS and DBOSClient say who calls

    @classmethod
    async def asyncio_wait(
        cls,
        fs: Any,
        *,
        timeout: float | None = None,
        return_when: str = "ALL_COMPLETED",
    ) -> tuple[set[Any], set[Any]]:
        """Durable `asyncio.wait`: in a workflow, which awaitables were done is recorded, so a
        replay takes the branch the first run took."""
        return await durable_asyncio_wait(fs, timeout=timeout, return_when=return_when)

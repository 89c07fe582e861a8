"""The `DBOS` members that inspect and control workflows: status, listings, steps, cancel,
resume, fork. A mixin of `DBOS`; called inside a workflow, each is recorded as a step, so a
replay sees the same answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .._core import control as _control
from .._core import results as _results
from .._core import statuses as _statuses
from .._core.aio import durable_asyncio_wait, run_step_async
from .._core.checkpoint import active_workflow
from .._core.handles import WorkflowHandle
from .._core.offload import off_loop
from .._error import DBOSException
from .._status import StepInfo, WorkflowStatus


def _distinct_handles(handles: Sequence[Any]) -> dict[str, Any]:
    if not handles:
        raise ValueError("wait_first needs at least one handle")
    by_id: dict[str, Any] = {}
    for handle in handles:
        if handle.workflow_id in by_id:
            raise ValueError(f"wait_first got workflow {handle.workflow_id!r} twice")
        by_id[handle.workflow_id] = handle
    return by_id


class Management:
    @classmethod
    def retrieve_workflow(
        cls, workflow_id: str, existing_workflow: bool = True
    ) -> WorkflowHandle[Any]:
        return _control.retrieve_workflow(workflow_id, existing_workflow)

    @classmethod
    def get_workflow_status(cls, workflow_id: str) -> WorkflowStatus | None:
        return _control._as_step(  # type: ignore[no-any-return]
            "DBOS.getStatus", _statuses.get_workflow_status, workflow_id
        )

    @classmethod
    def get_result(cls, workflow_id: str) -> Any:
        return cls.retrieve_workflow(workflow_id).get_result()

    @classmethod
    def wait_first(
        cls, handles: Sequence[WorkflowHandle[Any]], *, polling_interval_sec: float = 1.0
    ) -> WorkflowHandle[Any]:
        """The first of `handles` whose workflow finishes. In a workflow the winner is recorded
        (step `DBOS.waitFirst`): completion order is nondeterministic, and a replay must take
        the branch the first run took. `polling_interval_sec` is accepted for upstream
        compatibility; finishes wake the wait directly."""
        by_id = _distinct_handles(handles)
        winner = _control._as_step("DBOS.waitFirst", _results.first_finished, list(by_id))
        handle: WorkflowHandle[Any] = by_id[str(winner)]
        return handle

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

    @classmethod
    async def wait_first_async(
        cls, handles: Sequence[Any], *, polling_interval_sec: float = 1.0
    ) -> Any:
        """`wait_first` for async code, over sync or async handles; the wait holds no thread."""
        by_id = _distinct_handles(handles)
        ids = list(by_id)
        if active_workflow() is None:
            winner = await _results.first_finished_async(ids)
        else:
            winner = await run_step_async(
                "DBOS.waitFirst", _results.first_finished_async, (ids,), {}, {}
            )
        return by_id[str(winner)]

    @classmethod
    def list_workflows(
        cls,
        *,
        workflow_ids: str | Sequence[str] | None = None,
        workflow_id: str | Sequence[str] | None = None,
        status: str | Sequence[str] | None = None,
        start_time: str | datetime | None = None,
        end_time: str | datetime | None = None,
        name: str | Sequence[str] | None = None,
        app_version: str | Sequence[str] | None = None,
        user: str | Sequence[str] | None = None,
        queue_name: str | Sequence[str] | None = None,
        parent_workflow_id: str | Sequence[str] | None = None,
        forked_from: str | Sequence[str] | None = None,
        executor_id: str | Sequence[str] | None = None,
        workflow_id_prefix: str | Sequence[str] | None = None,
        has_parent: bool | None = None,
        was_forked_from: bool | None = None,
        attributes: dict[str, Any] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort_desc: bool = False,
        load_input: bool = True,
        load_output: bool = True,
    ) -> list[WorkflowStatus]:
        """Workflows matching every filter given, oldest first unless `sort_desc`.

        `workflow_id=` is accepted as an alias of `workflow_ids=` (the seed's FastAPI example
        uses it)."""
        if workflow_id is not None and workflow_ids is not None:
            raise DBOSException("Pass workflow_ids= or workflow_id=, not both")
        return _control._as_step(  # type: ignore[no-any-return]
            "DBOS.listWorkflows",
            _statuses.list_workflows,
            workflow_ids=workflow_ids if workflow_ids is not None else workflow_id,
            status=status,
            start_time=start_time,
            end_time=end_time,
            name=name,
            app_version=app_version,
            user=user,
            queue_name=queue_name,
            parent_workflow_id=parent_workflow_id,
            forked_from=forked_from,
            executor_id=executor_id,
            workflow_id_prefix=workflow_id_prefix,
            has_parent=has_parent,
            was_forked_from=was_forked_from,
            attributes=attributes,
            limit=limit,
            offset=offset,
            sort_desc=sort_desc,
            load_input=load_input,
            load_output=load_output,
        )

    @classmethod
    def list_workflow_steps(
        cls, workflow_id: str, *, limit: int | None = None, offset: int | None = None
    ) -> list[StepInfo]:
        return _control._as_step(  # type: ignore[no-any-return]
            "DBOS.listWorkflowSteps",
            _statuses.list_workflow_steps,
            workflow_id,
            limit=limit,
            offset=offset,
        )

    @classmethod
    def cancel_workflow(cls, workflow_id: str, *, cancel_children: bool = False) -> None:
        _control._as_step(
            "DBOS.cancelWorkflow",
            _control.cancel_workflow,
            workflow_id,
            cancel_children=cancel_children,
        )

    @classmethod
    def update_workflow_attributes(
        cls, workflow_id: str, attributes: dict[str, Any] | None
    ) -> None:
        """Replace a workflow's attributes (None clears them)."""
        _control._as_step(
            "DBOS.updateWorkflowAttributes", _control.update_attributes, workflow_id, attributes
        )

    @classmethod
    async def update_workflow_attributes_async(
        cls, workflow_id: str, attributes: dict[str, Any] | None
    ) -> None:
        await off_loop(cls.update_workflow_attributes, workflow_id, attributes)

    @classmethod
    def delete_workflow(cls, workflow_id: str, *, delete_children: bool = False) -> None:
        """Delete a workflow, whatever its status, with its steps, messages, events, streams
        and transaction outputs (and with `delete_children`, its descendants too)."""
        cls.delete_workflows([workflow_id], delete_children=delete_children)

    @classmethod
    def delete_workflows(
        cls, workflow_ids: Sequence[str], *, delete_children: bool = False
    ) -> None:
        _control._as_step("DBOS.deleteWorkflow", _delete_here, list(workflow_ids), delete_children)

    @classmethod
    async def delete_workflow_async(
        cls, workflow_id: str, *, delete_children: bool = False
    ) -> None:
        await off_loop(cls.delete_workflows, [workflow_id], delete_children=delete_children)

    @classmethod
    async def delete_workflows_async(
        cls, workflow_ids: Sequence[str], *, delete_children: bool = False
    ) -> None:
        await off_loop(cls.delete_workflows, workflow_ids, delete_children=delete_children)

    @classmethod
    def resume_workflow(cls, workflow_id: str) -> WorkflowHandle[Any]:
        if active_workflow() is None:
            return _control.resume_workflow(workflow_id)
        workflow_id_out = _control._as_step("DBOS.resumeWorkflow", _resume_id, workflow_id)
        return WorkflowHandle(str(workflow_id_out))

    @classmethod
    def fork_workflow(
        cls, workflow_id: str, start_step: int, *, application_version: str | None = None
    ) -> WorkflowHandle[Any]:
        if active_workflow() is None:
            return _control.fork_workflow(
                workflow_id, start_step, application_version=application_version
            )
        new_id = _control._as_step(
            "DBOS.forkWorkflow",
            _fork_id,
            workflow_id,
            start_step,
            application_version=application_version,
        )
        return WorkflowHandle(str(new_id))

    @classmethod
    def list_queued_workflows(
        cls,
        *,
        queue_name: str | Sequence[str] | None = None,
        status: str | Sequence[str] | None = None,
        name: str | Sequence[str] | None = None,
        start_time: str | datetime | None = None,
        end_time: str | datetime | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort_desc: bool = False,
        load_input: bool = True,
    ) -> list[WorkflowStatus]:
        """Workflows waiting on or running from a queue (ENQUEUED or PENDING unless `status`
        says otherwise), in enqueue order."""
        return _control._as_step(  # type: ignore[no-any-return]
            "DBOS.listQueuedWorkflows",
            _statuses.list_workflows,
            queue_name=queue_name,
            status=status,
            name=name,
            start_time=start_time,
            end_time=end_time,
            limit=limit,
            offset=offset,
            sort_desc=sort_desc,
            load_input=load_input,
            load_output=False,
            queued_only=True,
        )

    @classmethod
    def garbage_collect(
        cls,
        cutoff_epoch_ms: int | None = None,
        rows_threshold: int | None = None,
        *,
        batch_size: int = 500,
    ) -> int:
        """Delete finished workflows that completed before `cutoff_epoch_ms` and those older
        than the newest `rows_threshold`, with their steps, messages, events, streams and
        transaction outputs, `batch_size` workflows per transaction. Live workflows and
        finished children of live parents are kept. Returns how many were deleted."""
        from .._core.retention import garbage_collect
        from .._core.runtime import get_runtime

        if active_workflow() is not None:
            raise DBOSException("DBOS.garbage_collect cannot be called from a workflow")
        runtime = get_runtime()
        return garbage_collect(
            runtime.sysdb,
            [runtime.app_db] if runtime.app_db is not None else [],
            cutoff_epoch_ms=cutoff_epoch_ms,
            rows_threshold=rows_threshold,
            batch_size=batch_size,
        )


def _delete_here(workflow_ids: list[str], delete_children: bool) -> None:
    from .._core.retention import delete_workflows
    from .._core.runtime import get_runtime

    runtime = get_runtime()
    app_dbs = [runtime.app_db] if runtime.app_db is not None else []
    delete_workflows(runtime.sysdb, app_dbs, workflow_ids, delete_children=delete_children)


def _resume_id(workflow_id: str) -> str:
    return _control.resume_workflow(workflow_id).workflow_id


def _fork_id(workflow_id: str, start_step: int, application_version: str | None = None) -> str:
    return _control.fork_workflow(
        workflow_id, start_step, application_version=application_version
    ).workflow_id

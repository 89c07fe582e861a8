"""Presenters shared by the operations that return workflows (`present=` of `operation`): the
database work returns workflow IDs, and each caller gets handles bound to its own runtime (a
client's handles read through the client)."""

from __future__ import annotations

from typing import Any

from .._core.handles import WorkflowHandle, WorkflowHandleAsync
from .operations import Caller


def as_handle(caller: Caller, workflow_id: Any, *_call: Any, **_kw: Any) -> WorkflowHandle[Any]:
    return WorkflowHandle(str(workflow_id), runtime=caller.handle_runtime())


def as_async_handle(
    caller: Caller, workflow_id: Any, *_call: Any, **_kw: Any
) -> WorkflowHandleAsync[Any]:
    return WorkflowHandleAsync(as_handle(caller, workflow_id))


def as_handles(
    caller: Caller, workflow_ids: Any, *_call: Any, **_kw: Any
) -> list[WorkflowHandle[Any]]:
    return [as_handle(caller, workflow_id) for workflow_id in workflow_ids]


def as_async_handles(
    caller: Caller, workflow_ids: Any, *_call: Any, **_kw: Any
) -> list[WorkflowHandleAsync[Any]]:
    return [as_async_handle(caller, workflow_id) for workflow_id in workflow_ids]

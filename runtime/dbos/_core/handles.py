"""Handles on started workflows: their ID, status and result, for sync and async callers."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any, Generic, TypeVar

from .._error import DBOSNonExistentWorkflowError
from .._status import WorkflowStatus
from .aio import run_step_async
from .checkpoint import active_workflow, run_step
from .offload import off_loop
from .results import wait_for_result, wait_for_result_async
from .runtime import Runtime
from .statuses import get_workflow_status

R = TypeVar("R")


class WorkflowHandle(Generic[R]):
    """A started workflow: its ID, its status, and (blocking) its result."""

    def __init__(
        self,
        workflow_id: str,
        future: Future[Any] | None = None,
        *,
        runtime: Runtime | None = None,
    ) -> None:
        self.workflow_id = workflow_id
        self._future = future
        # A DBOSClient's handles read its own database; everyone else's the launched one.
        self._runtime = runtime

    def get_workflow_id(self) -> str:
        return self.workflow_id

    def get_result(self, *, polling_interval_sec: float = 1.0) -> R:
        """The result; inside a workflow it is checkpointed as step `DBOS.getResult`."""
        if self._runtime is not None or active_workflow() is None:
            return wait_for_result(  # type: ignore[no-any-return]
                self.workflow_id, self._future, polling_interval_sec, runtime=self._runtime
            )
        return run_step(  # type: ignore[no-any-return]
            "DBOS.getResult",
            wait_for_result,
            (self.workflow_id, self._future, polling_interval_sec),
            {},
            child_workflow_id=self.workflow_id,
            waits=True,
        )

    def get_status(self) -> WorkflowStatus:
        """The status now; inside a workflow it is checkpointed as step `DBOS.getStatus`, so a
        replay branches on what the first run saw."""
        if self._runtime is None and active_workflow() is not None:
            return run_step(  # type: ignore[no-any-return]
                "DBOS.getStatus", _status_of, (self.workflow_id, None), {}
            )
        return _status_of(self.workflow_id, self._runtime)

    def __repr__(self) -> str:
        return f"WorkflowHandle(workflow_id={self.workflow_id!r})"


def _status_of(workflow_id: str, runtime: Runtime | None) -> WorkflowStatus:
    status = get_workflow_status(workflow_id, runtime)
    if status is None:
        raise DBOSNonExistentWorkflowError(workflow_id)
    return status


class WorkflowHandleAsync(Generic[R]):
    """A started workflow, awaited without blocking the caller's event loop."""

    def __init__(self, handle: WorkflowHandle[R]) -> None:
        self._handle = handle
        self.workflow_id = handle.workflow_id

    def get_workflow_id(self) -> str:
        return self.workflow_id

    async def get_result(self, *, polling_interval_sec: float = 1.0) -> R:
        """The result, awaited without holding a thread; inside a workflow it is checkpointed
        as step `DBOS.getResult`, like the sync handle's."""
        handle = self._handle
        if handle._runtime is None and active_workflow() is not None:
            return await run_step_async(  # type: ignore[no-any-return]
                "DBOS.getResult",
                wait_for_result_async,
                (handle.workflow_id, handle._future),
                {},
                {},
                child_workflow_id=handle.workflow_id,
                waits=True,
            )
        return await wait_for_result_async(  # type: ignore[no-any-return]
            handle.workflow_id, handle._future, runtime=handle._runtime
        )

    async def get_status(self) -> WorkflowStatus:
        return await off_loop(self._handle.get_status)

    def __repr__(self) -> str:
        return f"WorkflowHandleAsync(workflow_id={self.workflow_id!r})"

"""Async workflows started or awaited by application code run on that code's event loop.

Objects bound to the application's loop (an `asyncio.Event`, an HTTP client session made at
start-up) then work inside workflows and steps, as in upstream. Everything that blocks (the
workflow's row, each checkpoint, the outcome) goes to the runtime's threads (`off_loop`), so
the loop keeps serving while a write commits or rides through an outage. A workflow whose task
is cancelled before it ends (its loop stops: `asyncio.run` returned, a server shut down) has
not failed: the runtime finishes it on a workflow thread from its checkpoints. Such a workflow
holds no thread while it waits, so it does not park (parking.py). Recovered and dequeued async
workflows are run from workflow threads (`async_bodies.py`), and park.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import Any

from .._error import (
    DBOSAwaitedWorkflowCancelledError,
    DBOSDatabaseConnectionError,
    DBOSWorkflowCancelledError,
    DBOSWorkflowConflictIDError,
)
from .._registry.registry import FunctionInfo
from .async_bodies import body_task
from .auth import authorized, check_required_roles
from .checkpoint import active_workflow
from .context import assigned_enqueue_options
from .enqueue_rules import refuse_without_queue
from .handles import WorkflowHandle
from .launches import Launch
from .offload import off_loop
from .results import wait_for_result_async
from .running import (
    hand_over,
    record_failure,
    record_success,
    report_unfinished,
    running_as,
    submit,
)
from .runtime import Runtime, get_runtime
from .workflows import begin_workflow, take_result_slot

# Tasks of started workflows: the loop keeps only weak references to its tasks.
_started: set[asyncio.Task[Any]] = set()


async def call_workflow_async(
    info: FunctionInfo, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """`await workflow(...)`: its body runs in this task, on this loop. In a parent, both of
    the parent's step numbers (the start and the result) are taken now, at call time, so
    children gathered concurrently are numbered in call order, the same on every replay. A
    caller without a role it requires is refused before anything is recorded."""
    check_required_roles(info)
    parent = active_workflow()
    start_step = result_step = None
    if parent is not None:
        start_step, result_step = parent.take_step_id(), parent.take_step_id()
    begun = await off_loop(begin_workflow, info, args, kwargs, None, start_step)
    runtime = get_runtime()
    slot = take_result_slot(runtime, begun, result_step)
    if slot.replayed:
        return slot.recorded_value()
    try:
        if begun.inserted:
            result = await execute_async(runtime, begun.launch)
        else:
            result = await wait_for_result_async(begun.launch.workflow_id)
    except Exception as exc:
        await off_loop(slot.record_error, exc)
        raise
    await off_loop(slot.record_result, result)
    return result


async def start_workflow_async(
    info: FunctionInfo, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> WorkflowHandle[Any]:
    """Record the workflow and start it: an async body as a task of this loop, a sync one on
    a workflow thread. The handle's future settles when the body's outcome is recorded."""
    refuse_without_queue(assigned_enqueue_options())
    parent = active_workflow()
    start_step = parent.take_step_id() if parent is not None else None
    begun = await off_loop(begin_workflow, info, args, kwargs, None, start_step)
    future: Future[Any] | None = None
    if begun.inserted:
        if info.is_async:
            future = _start_task(get_runtime(), begun.launch)
        else:
            future = submit(begun.launch)
    return WorkflowHandle(begun.launch.workflow_id, future)


def _start_task(runtime: Runtime, launch: Launch) -> Future[Any]:
    future: Future[Any] = Future()
    task = asyncio.get_running_loop().create_task(execute_async(runtime, launch))
    _started.add(task)

    def settle(done: asyncio.Task[Any]) -> None:
        _started.discard(done)
        if done.cancelled():
            return  # handed over (see execute_async): the outcome will be in its row
        exc = done.exception()
        if exc is None:
            future.set_result(done.result())
            return
        future.set_exception(exc)
        report_unfinished(launch.workflow_id, exc)

    task.add_done_callback(settle)
    return future


async def execute_async(runtime: Runtime, launch: Launch) -> Any:
    with running_as(runtime, launch):
        try:
            return await _run_and_record_async(runtime, launch)
        except asyncio.CancelledError:
            hand_over(runtime, launch.workflow_id, launch.owner)
            raise


async def _run_and_record_async(runtime: Runtime, launch: Launch) -> Any:
    body_task(asyncio.current_task())
    try:
        try:
            with authorized(launch.info):
                result = await launch.info.func(*launch.call_args, **launch.kwargs)
        finally:
            if launch.body_done is not None:
                launch.body_done()
    except DBOSWorkflowCancelledError:
        raise DBOSAwaitedWorkflowCancelledError(launch.workflow_id) from None
    except DBOSWorkflowConflictIDError:
        return await wait_for_result_async(launch.workflow_id)
    except DBOSDatabaseConnectionError:
        raise
    except Exception as exc:
        return await off_loop(record_failure, runtime, launch, exc)
    return await off_loop(record_success, runtime, launch, result)

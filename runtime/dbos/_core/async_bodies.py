"""Running a recovered or dequeued async workflow body from a workflow thread.

It runs on the application's event loop when DBOS was launched on one that still runs (as
upstream: objects bound to that loop, an `asyncio.Event` or an HTTP client made at start-up,
work in every workflow), else on a loop of its own on its workflow thread. An async body
started or awaited by application code runs on that code's event loop instead
(`aio_workflows.py`). A body that parks (parking.py) ends its task with `WorkflowParked`, which
reaches this thread as the body's outcome would; its resumption runs here again.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from typing import Any

from .context import current_workflow
from .runtime import Runtime


class AppLoopGone(Exception):
    """The application's event loop closed, or cancelled the body's task, before it ended."""


class EventLoopClosed(BaseException):
    """A recovered or dequeued async workflow lost the application's event loop while DBOS was
    being destroyed: not the workflow's error; it stays PENDING for the next recovery."""

    def __init__(self, workflow_id: str) -> None:
        super().__init__(f"the event loop of workflow {workflow_id} closed during DBOS.destroy()")


def run_async_body(runtime: Runtime, body: Coroutine[Any, Any, Any]) -> Any:
    """Run a recovered or dequeued async body to its end from this workflow thread: on the
    application's loop while it runs (see the module docstring), else on a loop of its own."""
    loop = runtime.running_app_loop()
    if loop is None:
        return asyncio.run(_on_a_loop_of_its_own(body))
    # The task is made on the loop's thread from a copy of this thread's context: the
    # workflow's context variables (set by running_as) go with it.
    future = asyncio.run_coroutine_threadsafe(_as_body_task(body), loop)
    while True:
        try:
            return future.result(timeout=1.0)
        except concurrent.futures.TimeoutError:
            if loop.is_closed():  # closed before the task could end (or even start)
                future.cancel()
                raise AppLoopGone from None
        except concurrent.futures.CancelledError:
            raise AppLoopGone from None  # the loop's shutdown cancelled the task


_IDLE_WAKE_SEC = 0.5


async def _on_a_loop_of_its_own(body: Coroutine[Any, Any, Any]) -> Any:
    """The body on a loop that nothing else uses. Such a loop sleeps until one of its own
    timers or file descriptors fires, so a future of it completed from another thread without
    `call_soon_threadsafe` (an `asyncio.Event` set from the application's loop: a shared loop,
    upstream's, is woken by its other work and tolerates it) would never be noticed; a timer
    wakes it twice a second to look."""
    loop = asyncio.get_running_loop()
    timer: list[asyncio.TimerHandle] = []

    def wake() -> None:
        timer[:] = [loop.call_later(_IDLE_WAKE_SEC, wake)]

    wake()
    ctx = current_workflow.get()
    if ctx is not None:
        ctx.own_loop = True
    try:
        return await _as_body_task(body)
    finally:
        timer[0].cancel()


def body_task(task: Any) -> None:
    """Note the asyncio task running the current async workflow's body (see `patching`)."""
    ctx = current_workflow.get()
    if ctx is not None:
        ctx.task = task


async def _as_body_task(body: Any) -> Any:
    body_task(asyncio.current_task())
    return await body

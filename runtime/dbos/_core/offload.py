"""Blocking work off an event loop: onto the runtime's daemon threads, with the caller's context.

An async workflow runs on the application's event loop, so a checkpoint write (a fraction of a
millisecond, or minutes while it rides through a database outage) must not run on that loop.
`asyncio.to_thread` would queue it behind the loop's default executor, a handful of threads
shared with everything else the application hands off; the runtime has a bounded pool of its
own for this (`Runtime.io_pool`).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from asyncio import events as asyncio_events
from collections.abc import Callable
from typing import Any, TypeVar

from .runtime import runtime_or_none

R = TypeVar("R")


async def off_loop(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """`await off_loop(fn, ...)`: `fn(...)` on a runtime thread, with this task's context
    variables (the running workflow and step), without blocking the loop."""
    call = functools.partial(fn, *args, **kwargs)
    runtime = runtime_or_none()
    if runtime is None:
        return await asyncio.to_thread(call)
    context = contextvars.copy_context()
    return await asyncio.wrap_future(runtime.io_pool.submit(context.run, call))


def refuse_on_loop(name: str) -> None:
    """A blocking call made on a running event loop would stall it (every other task waits
    until the database answers): refused, naming the `_async` variant to await instead."""
    if asyncio_events._get_running_loop() is not None:
        raise RuntimeError(
            f"{name}() was called while an event loop is running. "
            f"Use await {name}_async(...) instead."
        )

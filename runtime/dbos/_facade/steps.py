"""`DBOS.run_step` and `DBOS.run_step_async`: any function as the next step of the running
workflow (a plain call outside one), with the options `@DBOS.step()` takes."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from .._core.aio import run_attempt, run_step_async
from .._core.checkpoint import StepOptions, active_workflow, check_step_options, run_step
from .._core.offload import off_loop, refuse_on_loop

P = ParamSpec("P")
R = TypeVar("R")


def _step_options(
    options: StepOptions | None, func: Callable[..., Any], is_async: bool
) -> tuple[str, StepOptions]:
    opts: StepOptions = dict(options or {})  # type: ignore[assignment]
    name = str(opts.get("name") or getattr(func, "__qualname__", "run_step"))
    check_step_options(name, opts, is_async)
    return name, opts


class Steps:
    @classmethod
    def run_step(
        cls,
        dbos_step_options: StepOptions | None,
        func: Callable[P, R],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """`func(*args, **kwargs)` as the next step of the running workflow (recorded, retried
        as the options say), or a plain call outside one. An `async def` function runs to
        completion here, attempt by attempt, under its `timeout_seconds` in a workflow."""
        refuse_on_loop("run_step")
        if not inspect.iscoroutinefunction(func):
            name, opts = _step_options(dbos_step_options, func, is_async=False)
            return run_step(name, func, args, kwargs, opts)  # type: ignore[no-any-return]
        name, opts = _step_options(dbos_step_options, func, is_async=True)
        coroutine_function = func
        predicate = opts.get("should_retry")
        if inspect.iscoroutinefunction(predicate):
            async_predicate = predicate
            opts["should_retry"] = lambda exc: asyncio.run(async_predicate(exc))
        if active_workflow() is None:  # a plain call: no timeout, no preemption

            def plain(*a: Any, **k: Any) -> Any:
                return asyncio.run(coroutine_function(*a, **k))

            return run_step(name, plain, args, kwargs, opts)  # type: ignore[no-any-return]
        timeout = opts.get("timeout_seconds")
        preemptible = bool(opts.get("preemptible"))

        def attempt(*a: Any, **k: Any) -> Any:
            return asyncio.run(run_attempt(name, coroutine_function, a, k, timeout, preemptible))

        return run_step(name, attempt, args, kwargs, opts)  # type: ignore[no-any-return]

    @classmethod
    async def run_step_async(
        cls,
        dbos_step_options: StepOptions | None,
        func: Callable[..., Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """`run_step` for async code: an async function is awaited here, a sync one runs on a
        runtime thread; either way the step number is taken now, at call time."""
        is_async = inspect.iscoroutinefunction(func)
        name, opts = _step_options(dbos_step_options, func, is_async)
        if is_async:
            return await run_step_async(name, func, args, kwargs, opts)
        sync_func = func

        async def off_the_loop(*a: Any, **k: Any) -> Any:
            return await off_loop(sync_func, *a, **k)

        return await run_step_async(name, off_the_loop, args, kwargs, opts)

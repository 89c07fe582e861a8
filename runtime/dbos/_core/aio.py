"""Async steps: their attempts run on the workflow's event loop (the application's, for a
workflow it started or awaited), their checkpoints on the runtime's threads (`off_loop`). The
step number is taken when the step is called, so `asyncio.gather` of steps numbers them in call
order, the same on every replay. Async workflows: `aio_workflows.py`."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from .._db.records import now_ms
from .._error import (
    DBOSMaxStepRetriesExceeded,
    DBOSStepTimeoutError,
    DBOSWorkflowCancelledError,
)
from .checkpoint import (
    BegunStep,
    Replayed,
    RetryPolicy,
    StepOptions,
    active_workflow,
    begin_step,
    note_attempt,
    recorded_result,
    replay,
    step_context,
    write_checkpoint,
)
from .context import current_step, current_workflow
from .offload import off_loop
from .runtime import get_runtime


async def run_step_async(
    name: str,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    options: StepOptions,
) -> Any:
    begun = begin_step(name)
    if begun is None:
        return await _call_with_retries_async(name, func, args, kwargs, options)
    if isinstance(begun, Replayed):
        return begun.value()
    assert isinstance(begun, BegunStep)
    token = current_step.set(step_context(begun, options))
    try:
        result = await _call_with_retries_async(name, func, args, kwargs, options)
    except Exception as exc:
        current_step.reset(token)
        await off_loop(begun.fail, exc)
        raise
    current_step.reset(token)
    return await off_loop(begun.succeed, result)


async def _call_with_retries_async(
    name: str,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    opts: StepOptions,
) -> Any:
    policy = RetryPolicy.of(opts)
    timeout = opts.get("timeout_seconds")
    if policy is None:
        return await _attempt(name, func, args, kwargs, timeout)
    errors: list[Exception] = []
    for attempt in range(policy.max_attempts):
        note_attempt(attempt)
        try:
            return await _attempt(name, func, args, kwargs, timeout)
        except Exception as exc:
            if policy.should_retry is not None and not await _worth_retrying(policy, exc):
                raise  # not worth retrying: the step fails with this error itself
            errors.append(exc)
            delay = policy.delay_after(name, attempt, exc)
            if delay is None:
                break
            ctx = current_workflow.get()
            if ctx is not None and ctx.cancelled.is_set():
                raise DBOSWorkflowCancelledError(
                    f"Workflow {ctx.workflow_id} was cancelled"
                ) from exc
            await asyncio.sleep(delay)
    raise DBOSMaxStepRetriesExceeded(name, policy.max_attempts, errors)


async def _attempt(
    name: str,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    timeout: float | None,
) -> Any:
    """One attempt; past `timeout` its task is cancelled (an async step can be stopped where it
    awaits, which a thread cannot) and the attempt fails with DBOSStepTimeoutError."""
    if timeout is None:
        return await func(*args, **kwargs)
    try:
        return await asyncio.wait_for(func(*args, **kwargs), timeout)
    except TimeoutError:
        raise DBOSStepTimeoutError(name, timeout) from None


async def _worth_retrying(policy: RetryPolicy, exc: Exception) -> bool:
    assert policy.should_retry is not None
    verdict = policy.should_retry(exc)
    if inspect.isawaitable(verdict):
        verdict = await verdict
    return bool(verdict)


ASYNCIO_WAIT = "DBOS.asyncio_wait"


async def durable_asyncio_wait(
    awaitables: Iterable[Awaitable[Any]],
    *,
    timeout: float | None = None,
    return_when: str = asyncio.ALL_COMPLETED,
) -> tuple[set[asyncio.Future[Any]], set[asyncio.Future[Any]]]:
    """`asyncio.wait` whose split is recorded in a workflow: which of the awaitables (by their
    position) were done is step `DBOS.asyncio_wait`, so a replay, where recorded steps finish at
    once, returns the same split instead of "all done"."""
    futures: list[asyncio.Future[Any]] = [asyncio.ensure_future(a) for a in awaitables]
    if not futures:
        raise ValueError("asyncio_wait needs at least one awaitable")
    ctx = active_workflow()
    if ctx is None:
        plain_done, plain_pending = await asyncio.wait(
            futures, timeout=timeout, return_when=return_when
        )
        return set(plain_done), set(plain_pending)
    runtime = get_runtime()
    step_id = ctx.take_step_id()  # before any of the futures runs: the same slot on replay
    record = replay(ctx, step_id, ASYNCIO_WAIT) if ctx.recorded else None
    if record is not None:
        done_at = set(recorded_result(runtime, record))
        done = [futures[i] for i in sorted(done_at)]
        if done:
            await asyncio.wait(done)
        return set(done), {f for i, f in enumerate(futures) if i not in done_at}
    started = now_ms()
    done_set, pending = await asyncio.wait(futures, timeout=timeout, return_when=return_when)
    positions = [i for i, f in enumerate(futures) if f in done_set]
    output = runtime.serializer.serialize(positions)
    await off_loop(write_checkpoint, runtime, ctx, step_id, ASYNCIO_WAIT, output, None, started)
    return set(done_set), set(pending)

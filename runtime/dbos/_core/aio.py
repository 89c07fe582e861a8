"""Async steps: their attempts run on the workflow's event loop (the application's, for a
workflow it started or awaited), their checkpoints on the runtime's threads (`off_loop`). The
step number is taken when the step is called, so `asyncio.gather` of steps numbers them in call
order, the same on every replay. Async workflows: `aio_workflows.py`."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

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
    begin_step,
    note_attempt,
    step_context,
)
from .context import current_step, current_workflow
from .offload import off_loop


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

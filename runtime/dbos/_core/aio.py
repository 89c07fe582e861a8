"""Async workflows and steps.

An async workflow body runs on an event loop of its own, in a workflow thread, so a blocked or
crashed caller loop never stalls recovery and checkpoint writes never block the caller's loop.
The caller awaits it through `asyncio.to_thread`, which carries the context variables along.
"""

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
from .._registry.registry import FunctionInfo
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
from .workflows import call_workflow


async def call_workflow_async(
    info: FunctionInfo, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    return await asyncio.to_thread(call_workflow, info, args, kwargs)


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
        begun.fail(exc)
        raise
    current_step.reset(token)
    return begun.succeed(result)


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

"""Async steps: their attempts run on the workflow's event loop (the application's, for a
workflow it started or awaited), their checkpoints on the runtime's threads (`off_loop`). The
step number is taken when the step is called, so `asyncio.gather` of steps numbers them in call
order, the same on every replay. Async workflows: `aio_workflows.py`."""

from __future__ import annotations

import asyncio
import contextlib
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
from .context import WorkflowContext, current_step, current_workflow
from .offload import off_loop
from .runtime import get_runtime
from .waiters import Waiter


async def run_step_async(
    name: str,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    options: StepOptions,
    *,
    child_workflow_id: str | None = None,
    waits: bool = False,
) -> Any:
    begun = begin_step(name, child_workflow_id=child_workflow_id, waits=waits)
    if begun is None:  # a plain call: no retries, no timeout (see run_step)
        return await func(*args, **kwargs)
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
    except BaseException as exc:  # cancelled, or the process stops: nothing is recorded
        begun.end_span(exc)
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
    preemptible = bool(opts.get("preemptible"))
    if policy is None:
        return await run_attempt(name, func, args, kwargs, timeout, preemptible)
    errors: list[Exception] = []
    for attempt in range(policy.max_attempts):
        note_attempt(attempt)
        try:
            return await run_attempt(name, func, args, kwargs, timeout, preemptible)
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


async def run_attempt(
    name: str,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    timeout: float | None,
    preemptible: bool = False,
) -> Any:
    """One attempt; past `timeout` its task is cancelled (an async step can be stopped where it
    awaits, which a thread cannot) and the attempt fails with DBOSStepTimeoutError. A
    `preemptible` attempt is also cancelled when its workflow is cancelled, here or elsewhere."""
    call = func(*args, **kwargs)
    ctx = current_workflow.get()
    if preemptible and ctx is not None:
        call = _preemptible(call, ctx)
    if timeout is None:
        return await call
    task = asyncio.ensure_future(call)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if task in done:
            return task.result()
        # Past the timeout the attempt has failed, whatever its cancelled task then does (it
        # may swallow the cancellation and return): wait for its clean-up, then say so.
        task.cancel()
        await asyncio.wait({task})
        if not task.cancelled():
            task.exception()  # retrieved: the attempt's outcome is the timeout
        raise DBOSStepTimeoutError(name, timeout)
    finally:
        if not task.done():
            task.cancel()


# A cancel from another process reaches this one's flag through the notifier; the flag is
# looked at this often. A cancel made here wakes the attempt at once.
_PREEMPT_POLL_SEC = 0.1


async def _preemptible(call: Awaitable[Any], ctx: WorkflowContext) -> Any:
    task = asyncio.ensure_future(call)
    waiter = Waiter(())
    ctx.blocked_in(waiter)  # ctx.cancel() fires it
    try:
        while True:
            woken = asyncio.ensure_future(waiter.wait_async(_PREEMPT_POLL_SEC))
            done, _ = await asyncio.wait({task, woken}, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                woken.cancel()
                return task.result()
            if ctx.cancelled.is_set():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                # Not the step's error: not recorded, so a resumed workflow runs it again.
                raise DBOSWorkflowCancelledError(f"Workflow {ctx.workflow_id} was cancelled")
            waiter.clear()
    finally:
        ctx.unblocked(waiter)
        if not task.done():
            task.cancel()


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
        # The first run's wait let the awaitables start (and take their step numbers) before
        # anything after it did: let them start here too, though nothing is waited for.
        await asyncio.sleep(0)
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

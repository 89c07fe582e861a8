"""`DBOS.sleep`, and the durable deadlines that recv and get_event share with it.

The wake-up time is recorded as a `DBOS.sleep` step before the wait begins, so a workflow
recovered after a crash wakes at the original time, not a full period after the restart.
"""

from __future__ import annotations

import asyncio
import time

from .. import _clock
from .._db.records import StepWrite, now_ms
from .._error import DBOSException
from .checkpoint import (
    active_workflow,
    check_deadline,
    recorded_result,
    replay,
    step_write,
    write_checkpoint,
)
from .context import WorkflowContext, current_step
from .offload import off_loop
from .replay_mode import replaying
from .runtime import Runtime, get_runtime, logger
from .waiting import NOTHING, wait_for, wait_for_async

SLEEP = "DBOS.sleep"


def recorded_deadline(runtime: Runtime, ctx: WorkflowContext, step_id: int) -> float | None:
    """The wake-up time an earlier execution recorded at `step_id`, if it did."""
    record = replay(ctx, step_id, SLEEP) if ctx.recorded else None
    return None if record is None else float(recorded_result(runtime, record))


def record_deadline(runtime: Runtime, ctx: WorkflowContext, step_id: int, seconds: float) -> float:
    """Record a wake-up time `seconds` from now at `step_id` and return it."""
    wake_at = _clock.now() + max(seconds, 0.0)
    output = runtime.serializer.serialize(wake_at)
    write_checkpoint(runtime, ctx, step_id, SLEEP, output, None, now_ms())
    return wake_at


def deadline_step(
    runtime: Runtime, ctx: WorkflowContext, step_id: int, seconds: float, started_at: int
) -> StepWrite:
    """The deadline step of a wait that did not have to wait (recv, get_event): written with
    its outcome unless a wait recorded it already, so its history has the `DBOS.sleep` step
    every wait has (as upstream's always does), in the same commit."""
    output = runtime.serializer.serialize(_clock.now() + max(seconds, 0.0))
    return step_write(
        ctx, step_id, SLEEP, started_at, output=output, serialization=(runtime.serializer.name())
    )


def _begin_sleep(seconds: float) -> tuple[Runtime, WorkflowContext, float, int] | None:
    placed = _place_sleep(seconds)
    if placed is None:
        return None
    runtime, ctx, step_id, wake_at = placed
    if wake_at is None:
        wake_at = record_deadline(runtime, ctx, step_id, seconds)
    return runtime, ctx, wake_at, step_id


def _place_sleep(
    seconds: float,
) -> tuple[Runtime, WorkflowContext, int, float | None] | None:
    """The sleep's step number (taken at call time) and its recorded wake-up time, if a
    previous execution recorded one; None when there is nothing durable to do."""
    ctx = active_workflow()
    if ctx is None:
        if current_step.get() is not None:
            return None  # inside a step: a plain sleep, as upstream
        raise DBOSException("sleep() must be called from within a workflow")
    if seconds <= 0:
        return None
    runtime = get_runtime()
    step_id = ctx.take_step_id()
    wake_at = recorded_deadline(runtime, ctx, step_id)
    if wake_at is None:
        check_deadline(runtime, ctx)
        logger.debug("Running sleep, id: %d, seconds: %s", step_id, seconds)
    elif replaying(ctx):
        return None  # a replay does not wait out recorded time: the history says what came next
    return runtime, ctx, step_id, wake_at


def _sleep_ended(runtime: Runtime, ctx: WorkflowContext, step_id: int, wake_at: float) -> None:
    """The step's completion time becomes the real end of the sleep (cosmetic: a failure to
    write it costs nothing durable, so it is only logged)."""
    try:
        runtime.sysdb.workflows.record_sleep_ended(ctx.workflow_id, step_id, int(wake_at * 1000))
    except Exception as exc:
        logger.debug("Could not record the end of a sleep of %s: %s", ctx.workflow_id, exc)


def durable_sleep(seconds: float) -> None:
    """Sleep that survives a crash; a cancel (here or in another process) ends it at once."""
    if active_workflow() is None and current_step.get() is not None:
        time.sleep(max(seconds, 0.0))  # inside a step: a plain sleep, as upstream
        return
    begun = _begin_sleep(seconds)
    if begun is not None:
        runtime, ctx, wake_at, step_id = begun
        wait_for(runtime, lambda: NOTHING, (), deadline=wake_at, ctx=ctx, park=ctx)
        _sleep_ended(runtime, ctx, step_id, wake_at)


async def durable_sleep_async(seconds: float) -> None:
    ctx = active_workflow()
    if ctx is None and current_step.get() is not None:
        await _plain_sleep_async(seconds)
        return
    placed = _place_sleep(seconds)  # the step number is taken now, at call time
    if placed is None:
        return
    runtime, ctx, step_id, wake_at = placed
    if wake_at is None:
        wake_at = await off_loop(record_deadline, runtime, ctx, step_id, seconds)
    await wait_for_async(runtime, lambda: NOTHING, (), deadline=wake_at, ctx=ctx, park=ctx)
    await off_loop(_sleep_ended, runtime, ctx, step_id, wake_at)


async def _plain_sleep_async(seconds: float) -> None:

    await asyncio.sleep(max(seconds, 0.0))

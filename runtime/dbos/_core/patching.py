"""`DBOS.patch(name)` and `DBOS.deprecate_patch(name)`: upstream's hand-marked way of changing a
workflow while runs of the old code are still in flight (next to `dbos-compile diff`, which
finds such changes before the deploy).

A patch is a marker step, `DBOS.patch-<name>`, at the point where the code changed. A run that
reaches that point fresh writes the marker and takes the new path; a run recorded by the old
code finds another step in that slot and takes the old path without consuming the slot, so its
recorded steps still line up. Once no old run is left, `deprecate_patch` keeps the slot of runs
that did record the marker and writes nothing for new ones; then the call can go.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .._db.records import now_ms
from .._error import DBOSException, DBOSPatchNondeterminismError
from .checkpoint import active_workflow, check_deadline, replay, write_checkpoint
from .context import WorkflowContext
from .offload import off_loop
from .runtime import Runtime, get_runtime

PATCH_PREFIX = "DBOS.patch-"


def _begin(what: str, name: str) -> tuple[Runtime, WorkflowContext, str]:
    if not isinstance(name, str) or not name:
        raise DBOSException(f"DBOS.{what} needs a non-empty patch name, got {name!r}")
    ctx = active_workflow()
    if ctx is None:
        raise DBOSException(f"DBOS.{what} must be called from within a workflow")
    runtime = get_runtime()
    if not runtime.patching:
        raise DBOSException(
            f"DBOS.{what} needs patching enabled: set enable_patching=True in the DBOS config"
        )
    return runtime, ctx, PATCH_PREFIX + name


def patch(name: str) -> bool:
    """True on the new code path (this run recorded the marker, now or before), False on the
    old one (this run was recorded by code without the patch)."""
    taken, marker_write = _place_patch(name)
    if marker_write is not None:
        marker_write()
    return taken


async def patch_async(name: str) -> bool:
    """The slot is decided before the first await. Called from a task the workflow started
    (asyncio.gather), it is refused: its slot would depend on how the tasks were scheduled,
    and a replay could take the other path."""
    _refuse_concurrent("patch_async", name)
    taken, marker_write = _place_patch(name)
    if marker_write is not None:
        await off_loop(marker_write)
    return taken


def _place_patch(name: str) -> tuple[bool, Callable[[], None] | None]:
    runtime, ctx, marker = _begin("patch", name)
    record = ctx.recorded.get(ctx.next_step)
    if record is not None:
        if record.function_name != marker:
            return False, None  # the old code ran here: leave the slot to its recorded step
        ctx.take_step_id()
        return True, None
    step_id = ctx.take_step_id()
    if ctx.recorded:
        replay(ctx, step_id, marker)  # a replayed history that lacks the slot ends here
    check_deadline(runtime, ctx)
    started_at = now_ms()

    def write_marker() -> None:
        write_checkpoint(runtime, ctx, step_id, marker, None, None, started_at)

    return True, write_marker


def _refuse_concurrent(what: str, name: str) -> None:
    ctx = active_workflow()
    if ctx is None or ctx.task is None or asyncio.current_task() is ctx.task:
        return
    raise DBOSPatchNondeterminismError(
        ctx.workflow_id,
        PATCH_PREFIX + name,
        f"DBOS.{what} was called concurrently with other operations in the same workflow (from "
        "a task it started, e.g. with asyncio.gather), so the position of its marker would "
        "depend on task scheduling; call it from the workflow's own sequential code",
    )


async def deprecate_patch_async(name: str) -> bool:
    _refuse_concurrent("deprecate_patch_async", name)
    return deprecate_patch(name)


def deprecate_patch(name: str) -> bool:
    """Always True: new runs take the patched path without a marker; runs that recorded the
    marker step over it, so their later steps still line up."""
    _runtime, ctx, marker = _begin("deprecate_patch", name)
    record = ctx.recorded.get(ctx.next_step)
    if record is not None and record.function_name == marker:
        ctx.take_step_id()
    return True

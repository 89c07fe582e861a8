"""The one wait loop behind recv, get_event, read_stream, get_result and DBOS.sleep.

`wait_for(check, keys, deadline)` registers a waiter on `keys`, then alternates a database check
with a sleep until a key fires, the deadline passes, or (inside a workflow) the workflow is
cancelled: by this process (its context is woken), by another (its own final-status key fires
and its row says CANCELLED), or by its own deadline. Reads ride through a lost database
connection: the waiter retries with backoff instead of failing its caller.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .. import _clock
from .._db.faults import is_connection_error
from .._db.records import WorkflowRow as W
from .._error import DBOSWorkflowCancelledError, DBOSWorkflowConflictIDError
from .checkpoint import check_deadline
from .context import WorkflowContext
from .offload import off_loop
from .parking import WorkflowParked
from .runtime import Runtime, logger
from .waiters import FINAL, Waiter, WaitKey

# What a check returns when what it waits for is not there yet.
NOTHING: Any = object()

# With the notifier running every write wakes its waiters; this re-check only bounds the cost
# of a bug there (once a minute per waiter, not once per tick).
SAFETY_RECHECK_SEC = 60.0
_RETRY_FIRST_SEC = 0.05
_RETRY_MAX_SEC = 5.0


class _Loop:
    """The state of one wait shared by the sync and async drivers."""

    def __init__(
        self,
        runtime: Runtime,
        keys: tuple[WaitKey, ...],
        deadline: float | None,
        ctx: WorkflowContext | None,
    ) -> None:
        self.runtime = runtime
        self.deadline = deadline
        self.ctx = ctx
        self.own_key = WaitKey(FINAL, ctx.workflow_id) if ctx is not None else None
        self.keys = keys + ((self.own_key,) if self.own_key is not None else ())
        self.retry_delay = _RETRY_FIRST_SEC

    def before_check(self, waiter: Waiter) -> None:
        """Raise if the waiting workflow must stop; forget the fires this check will see."""
        fired = waiter.clear()
        ctx = self.ctx
        if ctx is None:
            if self.runtime.stopped:
                raise DBOSWorkflowCancelledError("DBOS was destroyed while waiting")
            return
        if self.runtime.stopped:
            raise DBOSWorkflowCancelledError("DBOS was destroyed while the workflow waited")
        check_deadline(self.runtime, ctx)
        if self.own_key in fired:
            self._check_own_status(ctx)

    def _check_own_status(self, ctx: WorkflowContext) -> None:
        """Our own row changed in another process: cancelled there, or taken over."""
        row = self.runtime.sysdb.workflows.get_workflow(ctx.workflow_id)
        if row is None or row[W.STATUS] == "PENDING" and row[W.OWNER] == ctx.owner:
            return
        if row[W.STATUS] == "CANCELLED":
            ctx.cancel()
            raise DBOSWorkflowCancelledError(f"Workflow {ctx.workflow_id} was cancelled")
        raise DBOSWorkflowConflictIDError(ctx.workflow_id)

    def timeout(self) -> float | None:
        """Seconds to sleep before the next check; <= 0 once the deadline has passed."""
        limit = SAFETY_RECHECK_SEC
        if self.deadline is not None:
            limit = min(limit, self.deadline - _clock.now())
        if self.ctx is not None and self.ctx.deadline_ms is not None:
            # Wake at the workflow's own deadline too, to end it then.
            limit = min(limit, max(self.ctx.deadline_ms / 1000 - _clock.now(), 0.0) + 0.001)
        return limit

    def until(self) -> float | None:
        """The durable time at which this wait ends at the latest (its timeout, or its
        workflow's deadline), for the durable clock; None when only an event can end it."""
        ends = [] if self.deadline is None else [self.deadline]
        if self.ctx is not None and self.ctx.deadline_ms is not None:
            ends.append(self.ctx.deadline_ms / 1000)
        return min(ends, default=None)

    def sleep(self, waiter: Waiter, timeout: float | None) -> bool:
        """`waiter.wait(timeout)` through the durable clock, which learns the wait's timer;
        True when the waiter was woken (a key fired, or the clock jumped)."""
        owner = None if self.ctx is None else self.ctx.workflow_id
        return _clock.sleep(waiter, timeout, until=self.until(), owner=owner)

    async def sleep_async(self, waiter: Waiter, timeout: float | None) -> None:
        owner = None if self.ctx is None else self.ctx.workflow_id
        await _clock.sleep_async(waiter, timeout, until=self.until(), owner=owner)

    def expired(self) -> bool:
        return self.deadline is not None and _clock.now() >= self.deadline

    def connection_lost(self, exc: Exception) -> float:
        """A check could not reach the database: how long to back off before the next."""
        if not is_connection_error(exc):
            raise exc
        logger.warning("Waiting: system database unreachable (%s); retrying", exc)
        delay = self.retry_delay
        self.retry_delay = min(self.retry_delay * 2, _RETRY_MAX_SEC)
        return delay


def wait_for(
    runtime: Runtime,
    check: Callable[[], Any],
    keys: tuple[WaitKey, ...],
    *,
    deadline: float | None,
    ctx: WorkflowContext | None,
    on_first_miss: Callable[[], float] | None = None,
    park: WorkflowContext | None = None,
    park_in_step: bool = False,
) -> Any:
    """`check()`'s first answer other than NOTHING, or NOTHING once `deadline` passes.

    `on_first_miss`, if given, runs once when the first check finds nothing and returns the
    deadline (a recv records its durable deadline there: not at all when a message waits).

    `park`: the workflow this wait may park (raising `WorkflowParked`, see parking.py) once
    its deadline is durable (recorded, or none) and nothing the caller holds is lost by
    unwinding; `park_in_step` when the wait is a step's whole body (`DBOS.getResult`)."""
    loop = _Loop(runtime, keys, deadline, ctx)
    policy = runtime.park_policy
    may_park = policy.may_park(park, park_in_step)
    started = time.monotonic()
    with runtime.waiters.waiting(*loop.keys) as waiter:
        if ctx is not None:
            ctx.blocked_in(waiter)
        try:
            while True:
                loop.before_check(waiter)
                try:
                    found = check()
                except Exception as exc:
                    waiter.wait(loop.connection_lost(exc))
                    continue
                if found is NOTHING and on_first_miss is not None:
                    loop.deadline, on_first_miss = on_first_miss(), None
                if found is not NOTHING or loop.expired():
                    return found
                if park is not None and policy.due(may_park, started):
                    raise _parked(runtime, park, loop)
                nap, parks_after = policy.sleep_for(may_park, started, loop.timeout())
                if not loop.sleep(waiter, nap) and parks_after and park is not None:
                    # Nothing fired since the check: it still holds, park without another.
                    raise _parked(runtime, park, loop)
        finally:
            if ctx is not None:
                ctx.unblocked(waiter)


def _parked(runtime: Runtime, ctx: WorkflowContext, loop: _Loop) -> WorkflowParked:
    """The park of `ctx`'s wait, registered on its keys before this waiter leaves them (so no
    fire between the two is lost) and on a timer for its deadline."""
    return WorkflowParked(runtime.parked.add(ctx, loop.keys, loop.deadline))


async def wait_for_async(
    runtime: Runtime,
    check: Callable[[], Any],
    keys: tuple[WaitKey, ...],
    *,
    deadline: float | None,
    ctx: WorkflowContext | None,
    on_first_miss: Callable[[], float] | None = None,
) -> Any:
    """`wait_for` for async callers: the checks run on a worker thread, the wait costs none."""
    loop = _Loop(runtime, keys, deadline, ctx)
    with runtime.waiters.waiting(*loop.keys) as waiter:
        if ctx is not None:
            ctx.blocked_in(waiter)
        try:
            while True:
                await off_loop(loop.before_check, waiter)
                try:
                    found = await off_loop(check)
                except Exception as exc:
                    await waiter.wait_async(loop.connection_lost(exc))
                    continue
                if found is NOTHING and on_first_miss is not None:
                    loop.deadline = await off_loop(on_first_miss)
                    on_first_miss = None
                if found is not NOTHING or loop.expired():
                    return found
                await loop.sleep_async(waiter, loop.timeout())
        finally:
            if ctx is not None:
                ctx.unblocked(waiter)


class BlockingCall:
    """One blocking operation (recv, get_event): prepared at call time, so its step numbers
    are taken in call order even when async calls run concurrently, then run to completion.

    Subclasses set `done`/`value` when the answer is known without waiting (a replay);
    `check()` is the wait's test, `first_miss()` (called when the first check finds nothing,
    if `deadline` is None then) records and returns the deadline, and `finish(found)` records
    and returns the outcome."""

    runtime: Runtime
    ctx: WorkflowContext | None
    keys: tuple[WaitKey, ...]
    deadline: float | None
    done: bool = False
    value: Any = None

    def first_miss(self) -> float:
        raise NotImplementedError

    def check(self) -> Any:
        raise NotImplementedError

    def finish(self, found: Any) -> Any:
        return found


def run_call(call: BlockingCall) -> Any:
    if call.done:
        return call.value
    found = wait_for(
        call.runtime,
        call.check,
        call.keys,
        deadline=call.deadline,
        ctx=call.ctx,
        on_first_miss=call.first_miss if call.deadline is None else None,
        park=call.ctx,
    )
    return call.finish(found)


async def run_call_async(call: BlockingCall) -> Any:
    if call.done:
        return call.value
    found = await wait_for_async(
        call.runtime,
        call.check,
        call.keys,
        deadline=call.deadline,
        ctx=call.ctx,
        on_first_miss=call.first_miss if call.deadline is None else None,
    )
    return await off_loop(call.finish, found)

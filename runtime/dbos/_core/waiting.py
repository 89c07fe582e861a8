"""The one wait loop behind recv, get_event, read_stream, get_result and DBOS.sleep.

`wait_for(check, keys, deadline)` registers a waiter on `keys`, then alternates a database check
with a sleep until a key fires, the deadline passes, or (inside a workflow) the workflow is
cancelled: by this process (its context is woken), by another (its own final-status key fires
and its row says CANCELLED), or by its own deadline. Reads ride through a lost database
connection: the waiter retries with backoff instead of failing its caller.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from .. import _clock
from .._db.faults import is_connection_error
from .._db.records import WorkflowRow as W
from .._error import DBOSWorkflowCancelledError, DBOSWorkflowConflictIDError
from .checkpoint import check_deadline
from .context import WorkflowContext
from .offload import off_loop
from .parking import Parked, WorkflowParked, workflow_to_park
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
        park: WorkflowContext | None,
    ) -> None:
        self.runtime = runtime
        self.deadline = deadline
        self.ctx = ctx
        self.own_key = WaitKey(FINAL, ctx.workflow_id) if ctx is not None else None
        self.keys = keys + ((self.own_key,) if self.own_key is not None else ())
        self.retry_delay = _RETRY_FIRST_SEC
        self.policy = runtime.park_policy
        self.park = park = workflow_to_park(park)
        self.may_park = park is not None and self.policy.may_park(park)
        self.park_from = time.monotonic()  # when the policy's threshold counts from

    def parks_now(self, napped_to_it: bool = False) -> bool:
        """The policy's decision (`napped_to_it`: a nap that parks at its end ran out), for a
        body that can unwind here (`WorkflowContext.runs_alone`); for one that cannot yet
        (another task of an async body is mid-step), it is taken again one threshold later."""
        park = self.park
        if park is None:
            return False
        if not napped_to_it and not self.policy.due(self.may_park, self.park_from):
            return False
        if park.runs_alone():
            return True
        self.park_from = time.monotonic()
        return False

    def nap(self) -> tuple[float | None, bool]:
        """How long the next sleep lasts, and whether it parks at its end if nothing fires."""
        return self.policy.sleep_for(self.may_park, self.park_from, self.timeout())

    def parked(self, waiter: Waiter) -> WorkflowParked:
        """The park of this wait, registered on its keys before the waiter leaves them and on a
        timer for its deadline; the workflow is marked parked, so nothing of this execution
        takes a step number after it. A key that fired after the last check, before the park
        was registered, reached only the waiter: the park is fired at once (it resumes as soon
        as its frames have unwound, and checks again)."""
        park = self.park
        assert park is not None
        entry = self.runtime.parked.add(park, self.keys, self.deadline)
        if waiter.is_set():
            entry.fire()
        parked = WorkflowParked(entry)
        park.parked = parked
        return parked

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

    def sleep(self, waiter: Waiter, timeout: float | None, parks_after: bool) -> bool:
        """`waiter.wait(timeout)` through the durable clock, which learns the wait's timer;
        True when the waiter was woken (a key fired, the clock jumped, or, in a nap that
        parks at its end, the pool has work queued: `ParkPolicy.backlog`)."""
        owner = None if self.ctx is None else self.ctx.workflow_id
        with self._napping(waiter, parks_after):
            return _clock.sleep(waiter, timeout, until=self.until(), owner=owner)

    async def sleep_async(self, waiter: Waiter, timeout: float | None, parks_after: bool) -> bool:
        owner = None if self.ctx is None else self.ctx.workflow_id
        with self._napping(waiter, parks_after):
            return await _clock.sleep_async(waiter, timeout, until=self.until(), owner=owner)

    def _napping(self, waiter: Waiter, parks_after: bool) -> AbstractContextManager[None]:
        return self.policy.napping(waiter) if parks_after else nullcontext()

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
) -> Any:
    """`check()`'s first answer other than NOTHING, or NOTHING once `deadline` passes.

    `on_first_miss`, if given, runs once when the first check finds nothing and returns the
    deadline (a recv records its durable deadline there: not at all when a message waits).

    `park`: the workflow this wait may park (raising `WorkflowParked`, see parking.py) once
    its deadline is durable (recorded, or none) and nothing the caller holds is lost by
    unwinding. A wait that is the whole body of a step that waits (`run_step(waits=True)`)
    may park that step's workflow without being told (`workflow_to_park`)."""
    loop = _Loop(runtime, keys, deadline, ctx, park)
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
                if loop.parks_now():
                    raise loop.parked(waiter)
                nap, parks_after = loop.nap()
                woken = loop.sleep(waiter, nap, parks_after)
                if not woken and parks_after and loop.parks_now(napped_to_it=True):
                    # Nothing fired since the check: it still holds, park without another.
                    raise loop.parked(waiter)
        finally:
            if ctx is not None:
                ctx.unblocked(waiter)


async def wait_for_async(
    runtime: Runtime,
    check: Callable[[], Any],
    keys: tuple[WaitKey, ...],
    *,
    deadline: float | None,
    ctx: WorkflowContext | None,
    on_first_miss: Callable[[], float] | None = None,
    park: WorkflowContext | None = None,
) -> Any:
    """`wait_for` for async callers: the checks run on a worker thread, the wait holds none.

    `park` as in `wait_for`, through the same policy: an async body run from a workflow thread
    (recovered, dequeued: `WorkflowContext.parkable`) parks by raising `WorkflowParked` in its
    task, which ends the body's task and gives the thread back (see `_Loop.parks_now`)."""
    loop = _Loop(runtime, keys, deadline, ctx, park)
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
                if loop.parks_now():
                    raise loop.parked(waiter)
                nap, parks_after = loop.nap()
                woken = await loop.sleep_async(waiter, nap, parks_after)
                if not woken and parks_after and loop.parks_now(napped_to_it=True):
                    raise loop.parked(waiter)
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

    def abandon(self) -> None:
        """The wait ended without an outcome (cancelled, stopped, failed); not a park, after
        which the operation is still under way."""

    def parked(self, entry: Parked) -> None:
        """The wait parked: `entry` resumes it."""


@contextmanager
def _telling(call: BlockingCall) -> Iterator[None]:
    """Around a call's wait: tell the call when the wait parks or ends without an outcome."""
    try:
        yield
    except WorkflowParked as parked:
        call.parked(parked.entry)
        raise
    except BaseException:
        call.abandon()
        raise


def _options(call: BlockingCall) -> dict[str, Any]:
    """`wait_for`'s keyword arguments for a call (the sync and async waits take the same)."""
    return {
        "deadline": call.deadline,
        "ctx": call.ctx,
        "on_first_miss": call.first_miss if call.deadline is None else None,
        "park": call.ctx,
    }


def run_call(call: BlockingCall) -> Any:
    if call.done:
        return call.value
    with _telling(call):
        found = wait_for(call.runtime, call.check, call.keys, **_options(call))
    return call.finish(found)


async def run_call_async(call: BlockingCall) -> Any:
    if call.done:
        return call.value
    with _telling(call):
        found = await wait_for_async(call.runtime, call.check, call.keys, **_options(call))
    return await off_loop(call.finish, found)

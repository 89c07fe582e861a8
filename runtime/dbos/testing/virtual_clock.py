"""`time_skipping()`: durable time that jumps to the next timer when nothing else can happen.

Inside the block durable time (`dbos._clock`: what rows record and what durable timers wait
for) is real time plus an offset that only grows. A thread of its own, the skipper, watches the
durable waits (every one sleeps through `_clock.sleep`, naming the durable time it waits for and
who waits) and jumps the offset to the earliest timer when a caller waits on DBOS and every
participant is asleep:

- a caller outside the workflows waits on DBOS: for a result, an event, a workflow it called
  directly, or `SkippedTime.sleep` (the test's own thread, or a web handler's);
- every workflow running in this process is blocked in a durable wait (a `DBOS.sleep`, a recv or
  get_event, a child's result, ...), with nothing of its own to do (its wait's alarm not set);
- no workflow is about to start or just ending (the workflow pool has no task that is not such
  a blocked workflow: a dequeued or just-started workflow counts as busy until it blocks);
- every service with durable timers (the queue dispatcher: delayed and debounced workflows; the
  cron scheduler; the deadline watcher: workflow timeouts) is asleep too.

Then nothing but the passing of time can make progress, so passing it at once changes nothing
but the wait. A step that runs (even a real `time.sleep` in it) keeps its workflow busy and
holds the jump back. The first condition makes a test deterministic (Temporal's test server
does the same): while the test starts workflows, sends messages and sets events, time stands
still, so `start A; start B; send(A, ...)` never has a timer of A fire between the calls; time
moves once the test waits for an outcome. A test that polls with `time.sleep` waits in real
time; `SkippedTime.sleep(seconds)` is the wait in durable time.

Leaving the block puts real time back (the offset returns to 0). A workflow still waiting on a
timer set inside keeps its recorded wake-up time, which real time reaches only later by the
time skipped; the exit logs a warning naming how many such workflows there are.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
import traceback
from datetime import datetime
from types import TracebackType
from typing import Any

from .. import _clock
from .._core.runtime import Runtime, logger, runtime_or_none

# The skipper looks at least this often (some changes, a workflow ending, notify nobody).
_LOOK_EVERY_SEC = 0.005
# A quiet state must stay the same this long before a jump (a thread between two steps of
# its own bookkeeping is then seen busy on the second look).
_SETTLE_SEC = 0.001
# A jump lands this far past its timer, so that every reader rounding to milliseconds sees it due.
_PAST_TIMER_NS = 1_000_000


class TimeSkippingError(RuntimeError):
    """`time_skipping()` entered while a block of it is active (nested, or in another thread)."""


class _Sleep:
    __slots__ = ("alarm", "until", "owner")

    def __init__(self, alarm: _clock.Sleepable, until: float | None, owner: object) -> None:
        self.alarm = alarm
        self.until = until
        self.owner = owner


class _Skipper:
    """The observer installed in `_clock` while a block is active: it keeps the durable waits
    in progress, and its thread jumps durable time when they are all that is left."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._sleeps: set[_Sleep] = set()
        self._generation = 0
        self._closed = False
        self.jumps = 0
        self._thread = threading.Thread(target=self._run, name="dbos-time-skipping", daemon=True)

    # ------------------------------------------------------------------ the observer

    def sleep(
        self, alarm: _clock.Sleepable, timeout: float | None, until: float | None, owner: object
    ) -> bool:
        entry = self._enter(alarm, until, owner)
        try:
            return alarm.wait(_bounded(timeout, until))
        finally:
            self._leave(entry)

    async def sleep_async(
        self,
        alarm: _clock.AsyncSleepable,
        timeout: float | None,
        until: float | None,
        owner: object,
    ) -> bool:
        entry = self._enter(alarm, until, owner)
        try:
            return await alarm.wait_async(_bounded(timeout, until))
        finally:
            self._leave(entry)

    def _enter(self, alarm: _clock.Sleepable, until: float | None, owner: object) -> _Sleep:
        entry = _Sleep(alarm, until, owner)
        with self._lock:
            self._sleeps.add(entry)
            self._generation += 1
            self._changed.notify()
        return entry

    def _leave(self, entry: _Sleep) -> None:
        with self._lock:
            self._sleeps.discard(entry)
            self._generation += 1
            self._changed.notify()

    def waits_on_timer(self, owner: object) -> bool:
        """Whether `owner` (a workflow's ID) is in a durable wait with a timer now: a test that
        leaves the block must first see the wait reach it, not only the step before it."""
        with self._lock:
            return any(s.owner == owner and s.until is not None for s in self._sleeps)

    # ------------------------------------------------------------------ the skipper thread

    def start(self) -> None:
        self._thread.start()

    def close(self) -> list[_Sleep]:
        """Stop jumping; the workflows' waits that still have a timer ahead."""
        with self._lock:
            self._closed = True
            self._changed.notify()
            left = [s for s in self._sleeps if isinstance(s.owner, str) and s.until is not None]
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)
        return [s for s in left if s.until is not None and s.until > _clock.now()]

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                self._changed.wait(_LOOK_EVERY_SEC)
            try:
                first = self._next_jump()
                if first is None:
                    continue
                time.sleep(_SETTLE_SEC)
                if self._next_jump() == first:
                    self._jump(first[1])
            except Exception:  # a bug here must not leave the test hanging silently
                logger.exception("time_skipping: the skipper failed")

    def _next_jump(self) -> tuple[int, float] | None:
        """(generation, timer) when every participant sleeps and a timer is ahead, else None."""
        runtime = runtime_or_none()
        if runtime is None or runtime.stopped:
            return None
        with self._lock:
            if self._closed:
                return None
            generation = self._generation
            sleeps = list(self._sleeps)
        asleep = {s.owner for s in sleeps if not s.alarm.is_set()}
        if not _all_asleep(runtime, asleep):
            return None
        timers = [s.until for s in sleeps if s.until is not None and not s.alarm.is_set()]
        if not timers:
            return None
        earliest = min(timers)
        if earliest <= _clock.now():
            return None  # that sleeper wakes by itself, and is then busy
        return generation, earliest

    def _jump(self, timer: float) -> None:
        with self._lock:  # under the lock close() takes: no jump lands after the block ended
            if self._closed:
                return
            offset = math.ceil(timer * 1e9) + _PAST_TIMER_NS - time.time_ns()
            _clock.advance_to_ns(offset)
            self.jumps += 1
            now = _clock.now()
            due = [s.alarm for s in self._sleeps if s.until is not None and s.until <= now]
        for alarm in due:
            alarm.wake()


def _all_asleep(runtime: Runtime, asleep: set[object]) -> bool:
    """Whether every workflow of this process and every service with timers sleeps, and a
    caller outside the workflows waits on DBOS (`asleep`: the owners of the sleeps)."""
    if any(service not in asleep for service in _timer_services(runtime)):
        return False
    with runtime.active_lock:
        running = list(runtime.active.values())
    if any(ctx.workflow_id not in asleep for ctx in running):
        return False
    outstanding, pool_threads = runtime.pool.load()
    hosting = {ctx.thread for ctx in running if ctx.thread in pool_threads}
    if outstanding > len(hosting):
        return False  # a workflow about to start (or just ending)
    # A waiting caller: a wait made outside any workflow (a result, an event, `SkippedTime.
    # sleep`), or a workflow the caller called directly (it runs on the caller's thread).
    return None in asleep or any(ctx.thread not in pool_threads for ctx in running)


def _bounded(timeout: float | None, until: float | None) -> float | None:
    """The real seconds to sleep: no longer than until the durable timer, read after the sleep
    registered (a jump between the caller's reading of the clock and now is accounted for)."""
    if until is None:
        return timeout
    left = max(until - _clock.now(), 0.0)
    return left if timeout is None else min(timeout, left)


def _wake_everyone() -> None:
    """Make every durable wait in progress look again (and so register with a new observer,
    or recompute its timeout on real time). Jumps wake only the waits that came due."""
    runtime = runtime_or_none()
    if runtime is None:
        return
    runtime.waiters.wake_all()
    for service in _timer_services(runtime):
        service.wake()


def _timer_services(runtime: Runtime) -> list[Any]:
    """The services that wait on durable timers (`keeps_durable_timers`), each with `wake()`,
    and the parked workflows' timer once it runs (their deadlines are timers too)."""
    services = [s for s in runtime.services if getattr(s, "keeps_durable_timers", False)]
    return services + [runtime.parked] if runtime.parked.has_timer else services


_active_lock = threading.Lock()
_active_where: str | None = None


class SkippedTime:
    """`time_skipping()`: a context manager (sync and async) for one block of virtual durable
    time; inside it, the handle tells the durable time and waits in it."""

    def __init__(self) -> None:
        self._skipper: _Skipper | None = None
        self._jumps_before = 0  # of a block that ended

    # ------------------------------------------------------------------ inside the block

    def now(self) -> datetime:
        """Durable time now (UTC), as recorded times inside the block read it."""
        return _clock.utcnow()

    def time(self) -> float:
        """Durable time now, in seconds since the epoch (`time.time()`'s durable twin)."""
        return _clock.now()

    @property
    def jumps(self) -> int:
        """How many times durable time jumped in this block (so far, or in all once it ended)."""
        return self._jumps_before if self._skipper is None else self._skipper.jumps

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` of durable time from the test's thread: the wait is a timer, so time
        jumps to it (or to earlier timers first) whenever every workflow sleeps."""
        until = _clock.now() + max(seconds, 0.0)
        alarm = _clock.Alarm()
        while _clock.now() < until:
            _clock.sleep(alarm, max(until - _clock.now(), 0.0), until=until)

    async def sleep_async(self, seconds: float) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.sleep, seconds)

    # ------------------------------------------------------------------ entering and leaving

    def __enter__(self) -> SkippedTime:
        global _active_where
        where = _caller()
        with _active_lock:
            if _active_where is not None:
                raise TimeSkippingError(
                    f"time_skipping() is already active (entered at {_active_where}); "
                    "blocks of it cannot be nested or used from two threads at once"
                )
            _active_where = where
        skipper = _Skipper()
        self._skipper = skipper
        _clock.install(skipper)
        skipper.start()
        _wake_everyone()  # waits begun before the block sleep again, now registered
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _active_where
        skipper = self._skipper
        assert skipper is not None
        skipped_ns = _clock.offset_ns()
        left = skipper.close()
        _clock.install(None)
        _wake_everyone()  # timeouts computed on virtual time are recomputed on real time
        with _active_lock:
            _active_where = None
        self._skipper = None
        self._jumps_before = skipper.jumps
        if left:
            logger.warning(
                "time_skipping() ended with %d workflow(s) waiting on timers set in virtual "
                "time (%s); real time is back, so they now wait %.0f s longer than they had "
                "left, until their recorded time",
                len(left),
                ", ".join(sorted({str(s.owner) for s in left})[:5]),
                skipped_ns / 1e9,
            )

    async def __aenter__(self) -> SkippedTime:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def time_skipping() -> SkippedTime:
    """Virtual durable time for a test: `with time_skipping():` (or `async with`) around the
    calls the test makes. Whenever every workflow of this process is blocked on a durable timer
    (`DBOS.sleep`, a recv or get_event timeout, a workflow timeout, a delayed enqueue, a
    debouncer period, a cron tick), durable time jumps to the earliest one. Recorded times
    (step completion, `scheduled_time`, created/updated times, deadlines) are the virtual ones.
    Leaving the block restores real time. One block at a time per process
    (`TimeSkippingError` otherwise)."""
    return SkippedTime()


def _caller() -> str:
    """`file:line` of the `with` statement, for the error a second block gets."""
    for frame in reversed(traceback.extract_stack()):
        if frame.filename != __file__ and not frame.filename.endswith("contextlib.py"):
            return f"{frame.filename}:{frame.lineno}"
    return "<unknown>"


__all__ = ["SkippedTime", "TimeSkippingError", "time_skipping"]

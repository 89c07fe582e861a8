"""Parking: a workflow that waits long on a workflow thread gives it back and resumes by replay.

A workflow body that runs on a workflow thread as that thread's outermost workflow (started in
the background, dequeued, recovered: `WorkflowContext.parkable`) and waits in a durable wait
(recv, get_event, DBOS.sleep, a stream read, or a step whose whole body is a wait: a handle's
get_result, wait_first) for longer than `Runtime.park_after_sec`, or at once when the pool has
work queued for a thread (a wait napping toward its park is woken to decide then), parks:
`WorkflowParked` (a `BaseException`, so the body's `except Exception` does not swallow it)
unwinds its frames. Before it is raised, a `Parked` entry takes over the wait's keys in the
waiter registry (so no fire between the two is lost) and a timer for the earliest of the wait's
deadline and the workflow's. The runner (`running.py`) catches it, writes nothing (the row stays
PENDING under the same owner token, and a queued workflow keeps its slot), and arms the entry
with the run's future. When a key fires, the timer expires, or the workflow is cancelled, the
entry submits the resumption to the pool: the workflow runs again from its recorded steps, read
in one query as recovery reads them, and continues past the wait.

An async body run from a workflow thread (`async_bodies.py`) parks the same way: the wait
raises `WorkflowParked` in the body's task, which ends it, and the thread blocked on it gets the
exception as a sync body's frames would. It parks only from the body's own task while no other
task of it is mid-step (`WorkflowContext.runs_alone`), so no step of it can still be running,
its checkpoint unwritten, when the resumed run reads the history; after the park, a task of it
still running stops at its next step number (`WorkflowContext.parked`).

A direct call (`result = my_workflow()`) and a child called inside its parent never park: their
caller's thread holds their frame and waits for the value. Nor does an async workflow started
or awaited by application code on its own event loop (`aio_workflows.py`): it holds no thread.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .. import _clock
from .context import WorkflowContext, current_step
from .replay_mode import replaying
from .waiters import FINAL, Waiter, WaiterRegistry, WaitKey

DEFAULT_PARK_AFTER_SEC = 0.2  # as `_config.park_after_from` defaults


class WorkflowParked(BaseException):
    """Unwinds a parking workflow's frames to its runner; never the workflow's outcome."""

    def __init__(self, entry: Parked) -> None:
        super().__init__(entry.workflow_id)
        self.entry = entry


@dataclass(eq=False)
class Parked:
    """One parked workflow: what it waits for, until when, and how to resume it."""

    workflow_id: str
    keys: tuple[WaitKey, ...]
    wake_at: float | None  # epoch seconds: the earliest of its wait's and its own deadline
    table: ParkedTable
    # The blocking operation it parked in (`WorkflowContext.blocking_since`), for the resume.
    blocking_since: tuple[int, int] | None = None
    resume: Callable[[], None] | None = None  # set when armed
    dropped: Callable[[], None] | None = None  # DBOS destroyed while it was parked
    fired: bool = False
    done: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fire(self, _key: object = None) -> None:
        """A key fired or the deadline passed: resume once armed (at most once)."""
        with self._lock:
            if self.done:
                return
            self.fired = True
            resume = self.resume
            if resume is None or self.table.holding:
                return  # still unwinding: `arm` resumes it; or the process is stopping
            self.done = True
        self.table.forget(self)
        resume()

    def arm(self, resume: Callable[[], None], dropped: Callable[[], None]) -> None:
        """The frames have unwound: `resume` may run now (at once if a key fired meanwhile);
        `dropped` runs instead if DBOS is destroyed first."""
        with self._lock:
            self.resume, self.dropped = resume, dropped
            if not self.fired or self.done or self.table.holding:
                return
            self.done = True
        self.table.forget(self)
        resume()

    def drop(self) -> None:
        with self._lock:
            dropped, self.dropped = self.dropped, None
        if dropped is not None:
            dropped()

    def describe(self) -> str:
        """What it waits for, as recorded for operators (`waiting_for`): its keys but its own
        final status (a cancel), which every parked workflow watches."""
        own = WaitKey(FINAL, self.workflow_id)
        names = [f"{k.kind}:{k.workflow_id}:{k.name}" for k in self.keys if k != own]
        return ",".join(names) if names else "sleep"


class ParkedTable:
    """This process's parked workflows: registered on their wait keys in the waiter registry
    (the notifier fires them like any waiter) and on one timer thread for their deadlines."""

    def __init__(self, waiters: WaiterRegistry) -> None:
        self._waiters = waiters
        self._lock = threading.Lock()
        self._alarm = _clock.Alarm()  # set when the earliest deadline may have changed
        self._by_id: dict[str, Parked] = {}
        self._heap: list[tuple[float, int, Parked]] = []
        self._serial = 0
        self._timer: threading.Thread | None = None
        self._stopped = False
        self.holding = False  # see `hold`

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_id)

    def add(self, ctx: WorkflowContext, keys: tuple[WaitKey, ...], wake_at: float | None) -> Parked:
        if ctx.deadline_ms is not None:
            ends = ctx.deadline_ms / 1000
            wake_at = ends if wake_at is None else min(wake_at, ends)
        own = WaitKey(FINAL, ctx.workflow_id)  # a cancel, here or elsewhere, resumes it
        keys = keys if own in keys else (*keys, own)
        entry = Parked(ctx.workflow_id, keys, wake_at, self, ctx.blocking_since)
        self._waiters.register(entry, keys)
        with self._lock:
            self._by_id[ctx.workflow_id] = entry
            if wake_at is not None:
                self._serial += 1
                heapq.heappush(self._heap, (wake_at, self._serial, entry))
                if self._timer is None and not self._stopped:
                    self._timer = threading.Thread(
                        target=self._run_timer, name="dbos-parked-timer", daemon=True
                    )
                    self._timer.start()
                self._alarm.set()
        return entry

    def forget(self, entry: Parked) -> None:
        self._waiters.unregister(entry, entry.keys)
        with self._lock:
            if self._by_id.get(entry.workflow_id) is entry:
                del self._by_id[entry.workflow_id]

    def get(self, workflow_id: str) -> Parked | None:
        with self._lock:
            return self._by_id.get(workflow_id)

    # A virtual clock (`dbos.testing.time_skipping`) sees the timer thread as a service
    # that waits on durable timers, and jumps to its earliest deadline.
    keeps_durable_timers = True

    @property
    def has_timer(self) -> bool:
        """Whether the timer thread runs (started by the first entry with a deadline)."""
        return self._timer is not None

    def wake(self) -> None:
        """Look at the deadlines again (durable time jumped)."""
        self._alarm.set()

    def _run_timer(self) -> None:
        """Fire each entry at its deadline, in durable time (`_clock`)."""
        while True:
            with self._lock:
                if self._stopped:
                    return
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                due = None
                if self._heap and self._heap[0][0] <= _clock.now():
                    due = heapq.heappop(self._heap)[2]
                until = self._heap[0][0] if due is None and self._heap else None
                self._alarm.clear()
            if due is not None:
                due.fire()
                continue
            timeout = None if until is None else max(until - _clock.now(), 0.0)
            _clock.sleep(self._alarm, timeout, until=until, owner=self)

    def hold(self) -> None:
        """The process stops gracefully: from now on a fire or a deadline resumes nothing (a
        resume would only replay up to its wait and unwind again). The entries stay until
        `stop` drops them; their workflows stay PENDING and resume at recovery."""
        self.holding = True

    def stop(self) -> list[Parked]:
        """Stop the timer and drop every entry (they stay PENDING for recovery); returns them."""
        with self._lock:
            self._stopped = True
            entries = list(self._by_id.values())
            self._by_id.clear()
            self._heap.clear()
        self._alarm.set()
        for entry in entries:
            with entry._lock:
                entry.done = True
            self._waiters.unregister(entry, entry.keys)
        return entries


def workflow_to_park(park: WorkflowContext | None) -> WorkflowContext | None:
    """The workflow a wait may park: `park`, given by a wait in a workflow's body; inside a
    step, the step's workflow when the wait is the step's whole body (`StepContext.parks`: a
    handle's `DBOS.getResult`, `DBOS.waitFirst`, recorded only when the wait returns), else
    none (a step's own code before its wait would run twice)."""
    step = current_step.get()
    return park if step is None else step.parks


@dataclass
class ParkPolicy:
    """When a wait parks (the one place that decides it): after `after_sec` of waiting, or at
    once when the workflow pool has work queued; None disables parking.

    A wait that would park once its nap runs out holds its thread meanwhile, and a burst of
    starts can find every thread napping so: the pool, seeing no thread take its queued work,
    would grow instead (by the core's size). So the pool tells `backlog()` when work queues,
    and the waits napping toward a park are woken to decide again (`napping`)."""

    after_sec: float | None = DEFAULT_PARK_AFTER_SEC
    saturated: Callable[[], bool] = field(default=lambda: False)
    _napping: set[Waiter] = field(default_factory=set)
    _napping_lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def napping(self, waiter: Waiter) -> Iterator[None]:
        """A nap of `waiter`'s wait that parks at its end: `backlog()` may cut it short."""
        with self._napping_lock:
            self._napping.add(waiter)
        try:
            yield
        finally:
            with self._napping_lock:
                self._napping.discard(waiter)

    def backlog(self) -> None:
        """Work was queued for the pool with no thread idle: wake the napping waits, which
        check once more and then park (the pool is `saturated`), giving their threads to it."""
        if not self._napping:
            return
        with self._napping_lock:
            napping, self._napping = self._napping, set()
        for waiter in napping:
            waiter.wake()

    def may_park(self, ctx: WorkflowContext | None) -> bool:
        """Whether a wait that would park `ctx` (`workflow_to_park`) can park at all."""
        return (
            self.after_sec is not None and ctx is not None and ctx.parkable and not replaying(ctx)
        )

    def sleep_for(
        self, may_park: bool, started: float, timeout: float | None
    ) -> tuple[float | None, bool]:
        """How long the wait's next sleep may last (until the park decision at the latest),
        and whether a sleep that runs out with nothing fired parks at its end."""
        if not may_park or self.after_sec is None:
            return timeout, False
        left = max(self.after_sec - (time.monotonic() - started), 0.0)
        if timeout is None or left < timeout:
            return left, True
        return timeout, False

    def due(self, may_park: bool, started: float) -> bool:
        """Whether the wait, begun at `started` (monotonic), parks now."""
        if not may_park or self.after_sec is None:
            return False
        return self.saturated() or time.monotonic() - started >= self.after_sec

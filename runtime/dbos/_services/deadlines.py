"""The deadline watcher: cancels workflows whose deadline passed, even mid-step.

A workflow checks its own deadline at every checkpoint; this service covers the time in between
(a long step, a wait), so callers waiting on the result see CANCELLED on time. Deadlines are
durable time (`_clock`), so a virtual clock's jump brings them due too.
"""

from __future__ import annotations

import heapq
import threading

from .. import _clock
from .._core.runtime import Runtime, logger
from .._db.records import now_ms


class DeadlineWatcher:
    """One thread for all of this process's deadlines, sleeping until the earliest."""

    keeps_durable_timers = True

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._heap: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        self._alarm = _clock.Alarm()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="dbos-deadlines", daemon=True)
        self._thread.start()

    def watch(self, workflow_id: str, deadline_ms: int) -> None:
        with self._lock:
            heapq.heappush(self._heap, (deadline_ms, workflow_id))
        self._alarm.wake()

    def wake(self) -> None:
        self._alarm.wake()

    def stop(self) -> None:
        self._stopped = True
        self._alarm.wake()

    def _run(self) -> None:
        while not self._stopped:
            self._alarm.clear()  # before looking: a watch() during the look is not lost
            for workflow_id in self._take_due():
                self._cancel(workflow_id)
            next_ms = self._earliest_running()
            if next_ms is None:
                _clock.sleep(self._alarm, None, owner=self)
            else:
                timeout = max(next_ms - now_ms(), 0) / 1000
                _clock.sleep(self._alarm, timeout, until=next_ms / 1000, owner=self)

    def _take_due(self) -> list[str]:
        now = now_ms()
        due: list[str] = []
        with self._lock:
            while self._heap and self._heap[0][0] <= now:
                due.append(heapq.heappop(self._heap)[1])
        return due

    def _earliest_running(self) -> int | None:
        """The earliest deadline of a workflow still running here; finished ones are dropped,
        so the timer this thread sleeps on (and advertises to a virtual clock) is a live one."""
        runtime = self._runtime
        with runtime.active_lock, self._lock:  # watch() takes neither inside the other
            while self._heap and self._heap[0][1] not in runtime.active:
                heapq.heappop(self._heap)
            return self._heap[0][0] if self._heap else None

    def _cancel(self, workflow_id: str) -> None:
        with self._runtime.active_lock:
            running_here = workflow_id in self._runtime.active
        if not running_here:
            return  # finished already (or runs in another process, whose watcher acts)
        try:
            self._runtime.cancel(workflow_id, cascade=True)
        except Exception:  # a closed database at shutdown, say; the body checks again
            logger.exception("Could not cancel workflow %s at its deadline", workflow_id)

"""The deadline watcher: cancels workflows whose deadline passed, even mid-step.

A workflow checks its own deadline at every checkpoint; this service covers the time in between
(a long step, a wait), so callers waiting on the result see CANCELLED on time.
"""

from __future__ import annotations

import heapq
import threading

from .._core.runtime import Runtime, logger
from .._db.records import now_ms


class DeadlineWatcher:
    """One thread for all of this process's deadlines, sleeping until the earliest."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._heap: list[tuple[int, str]] = []
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="dbos-deadlines", daemon=True)
        self._thread.start()

    def watch(self, workflow_id: str, deadline_ms: int) -> None:
        with self._cond:
            heapq.heappush(self._heap, (deadline_ms, workflow_id))
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > now_ms()):
                    wait = (self._heap[0][0] - now_ms()) / 1000 if self._heap else None
                    self._cond.wait(timeout=wait)
                if self._stopped:
                    return
                _, workflow_id = heapq.heappop(self._heap)
            with self._runtime.active_lock:
                running_here = workflow_id in self._runtime.active
            if not running_here:
                continue  # finished already (or runs in another process, whose watcher acts)
            try:
                self._runtime.cancel(workflow_id, cascade=True)
            except Exception:  # a closed database at shutdown, say; the body checks again
                logger.exception("Could not cancel workflow %s at its deadline", workflow_id)

"""The launched state of one process: system database, workflow threads, deadline watcher.

`DBOS.launch()` builds one `Runtime`; `DBOS.destroy()` stops it. Everything that needs the
database reaches it through `get_runtime()`, which names the missing call when there is none.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._context import WorkflowContext
from ._error import DBOSDeserializationError, DBOSException
from ._serialization import DEFAULT_SERIALIZER, Serializer, deserialize_exception
from ._sysdb import SystemDatabase, now_ms
from ._threads import DaemonPool

if TYPE_CHECKING:
    from ._app_db import ApplicationDatabase

logger = logging.getLogger("dbos")


class DeadlineWatcher:
    """Cancels workflows whose deadline passed, so waiters see CANCELLED even mid-step."""

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


@dataclass
class Runtime:
    sysdb: SystemDatabase
    serializer: Serializer
    executor_id: str
    app_version: str
    pool: DaemonPool
    app_db: ApplicationDatabase | None = None

    def __post_init__(self) -> None:
        self.active: dict[str, WorkflowContext] = {}
        self.active_lock = threading.Lock()
        self.deadlines = DeadlineWatcher(self)
        self.stopped = False
        self._finish_events: dict[str, threading.Event] = {}

    def finish_event(self, workflow_id: str) -> threading.Event:
        """An event set when this process sees the workflow finish, so a waiter in this
        process wakes at once instead of at its next poll of the database."""
        with self.active_lock:
            event = self._finish_events.get(workflow_id)
            if event is None:
                event = self._finish_events[workflow_id] = threading.Event()
            return event

    def forget_finish_event(self, workflow_id: str) -> None:
        with self.active_lock:
            self._finish_events.pop(workflow_id, None)

    def notify_finished(self, workflow_id: str) -> None:
        with self.active_lock:
            event = self._finish_events.pop(workflow_id, None)
        if event is not None:
            event.set()

    def reader(self, stored_format: str | None) -> Serializer:
        """The serializer for a value stored in `stored_format`.

        JSON rows are always readable; rows in another format only with that serializer
        configured, so a pickled row is never unpickled unless the user opted in to pickle."""
        if stored_format is None or stored_format == self.serializer.name():
            return self.serializer
        if stored_format == DEFAULT_SERIALIZER.name():
            return DEFAULT_SERIALIZER
        raise DBOSDeserializationError(
            f"A stored value is in format {stored_format!r}, but this process is configured "
            f"with serializer {self.serializer.name()!r}: configure the serializer that wrote it"
        )

    def decode(self, text: str | None, stored_format: str | None) -> Any:
        return None if text is None else self.reader(stored_format).deserialize(text)

    def decode_error(self, text: str, stored_format: str | None) -> BaseException:
        return deserialize_exception(self.reader(stored_format), text)

    def register_active(self, ctx: WorkflowContext) -> None:
        with self.active_lock:
            self.active[ctx.workflow_id] = ctx
        if ctx.deadline_ms is not None:
            self.deadlines.watch(ctx.workflow_id, ctx.deadline_ms)

    def unregister_active(self, ctx: WorkflowContext) -> None:
        with self.active_lock:
            if self.active.get(ctx.workflow_id) is ctx:
                del self.active[ctx.workflow_id]

    def cancel(self, workflow_id: str, cascade: bool) -> None:
        """Mark CANCELLED in the database and wake any local execution sleeping or waiting."""
        for wf in self.sysdb.cancel_workflow(workflow_id, cascade):
            with self.active_lock:
                ctx = self.active.get(wf)
            if ctx is not None:
                ctx.cancelled.set()
            self.notify_finished(wf)

    def shutdown(self) -> None:
        self.stopped = True
        self.deadlines.stop()
        self.pool.shutdown()
        with self.active_lock:
            for ctx in self.active.values():
                ctx.cancelled.set()  # wake sleepers so their threads end promptly
        self.sysdb.dispose()
        if self.app_db is not None:
            self.app_db.dispose()


_runtime: Runtime | None = None


def set_runtime(runtime: Runtime | None) -> None:
    global _runtime
    _runtime = runtime


def get_runtime() -> Runtime:
    runtime = _runtime
    if runtime is None:
        raise DBOSException(
            "DBOS is not launched: call DBOS(config=...) and DBOS.launch() before running workflows"
        )
    return runtime


def runtime_or_none() -> Runtime | None:
    return _runtime


def sleep_until(deadline: float, cancelled: threading.Event) -> bool:
    """Sleep to a `time.time()` instant; True if woken early by cancellation."""
    remaining = deadline - time.time()
    if remaining <= 0:
        return cancelled.is_set()
    return cancelled.wait(remaining)

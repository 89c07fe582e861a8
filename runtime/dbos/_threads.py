"""A growable pool of daemon threads for workflow bodies.

`concurrent.futures.ThreadPoolExecutor` joins its threads at interpreter exit, so one workflow
blocked in a long step would keep a finished program alive; durable workflows resume after a
restart anyway, so these threads are daemons. Idle threads are reused; a new one is started
only when none is idle, up to `max_threads`, beyond which work waits.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

R = TypeVar("R")

_STOP = object()


class DaemonPool:
    def __init__(self, max_threads: int = 4096, name: str = "dbos-workflow") -> None:
        self.max_threads = max_threads
        self._name = name
        self._work: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0
        self._closed = False
        # Tasks submitted and not yet returned, and the pool's thread idents: a virtual clock
        # (dbos.testing.time_skipping) tells from them whether some task is not yet (or no
        # longer) a registered workflow, i.e. busy. Both kept under the lock taken anyway.
        self._outstanding = 0
        self._idents: set[int] = set()

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        future: Future[R] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("DBOS has been destroyed: cannot start more work")
            self._work.put((future, fn, args))
            self._outstanding += 1
            if self._idle == 0 and self._threads < self.max_threads:
                self._threads += 1
                threading.Thread(
                    target=self._worker, name=f"{self._name}-{self._threads}", daemon=True
                ).start()
            else:
                self._idle -= 1 if self._idle else 0
        return future

    def _worker(self) -> None:
        with self._lock:
            self._idents.add(threading.get_ident())
        while True:
            item = self._work.get()
            if item is _STOP:
                return
            future, fn, args = item
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:  # the future carries it to whoever waits
                    future.set_exception(exc)
            with self._lock:
                self._idle += 1
                self._outstanding -= 1

    def load(self) -> tuple[int, frozenset[int]]:
        """How many tasks are submitted and not yet returned, and the pool's thread idents."""
        with self._lock:
            return self._outstanding, frozenset(self._idents)

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            for _ in range(self._threads):
                self._work.put(_STOP)

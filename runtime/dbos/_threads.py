"""A growable pool of daemon threads for workflow bodies.

`concurrent.futures.ThreadPoolExecutor` joins its threads at interpreter exit, so one workflow
blocked in a long step would keep a finished program alive; durable workflows resume after a
restart anyway, so these threads are daemons. Idle threads are reused; a new one is started
at once while fewer than `core_threads` run, and beyond that only when queued work has waited
`grow_after_sec` without any thread taking it (every thread busy in a long step), up to
`max_threads`. Parked workflows (`_core/parking.py`) give their thread back within moments, so
a burst of 100,000 starts is served by the core threads instead of thousands of new ones; the
threads started beyond the core end after `idle_exit_sec` without work. A thread waiting on the
system database (`waiting_on_database`: a statement, a commit) is not in a long step: when the
database stalls or is down, every thread waits on it and more threads would only wait too, so
the grower counts only the threads busy elsewhere.

A job may detach from its future (`Detach`): the future stays pending, and a later job given
that future (`submit_to`) completes it. A parked workflow's handle keeps the future of its
first run and sees the outcome of the run that finishes it.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

R = TypeVar("R")

_STOP = object()
_CORE_THREADS = 64
_GROW_AFTER_SEC = 0.1
_IDLE_EXIT_SEC = 10.0


class Detach(BaseException):
    """Raised by a job whose future another job will complete (see `submit_to`)."""


_job = threading.local()


def current_future() -> Future[Any] | None:
    """The future of the pool job running on this thread, if this is a pool thread."""
    return getattr(_job, "future", None)


def current_pool() -> DaemonPool | None:
    """The pool whose job runs on this thread, if any."""
    return getattr(_job, "pool", None)


class _Worker:
    """A pool thread's state the grower reads: how deep it is in database waits (written by
    its own thread only, so without a lock). Entered as a context manager around each wait:
    it runs around every statement, so it is a plain class, not a generator."""

    __slots__ = ("database_waits",)

    def __init__(self) -> None:
        self.database_waits = 0

    def __enter__(self) -> None:
        self.database_waits += 1

    def __exit__(self, *_exc: object) -> None:
        self.database_waits -= 1


_NOT_A_WORKER = nullcontext()


def yield_the_gil() -> None:
    """Give up the GIL once, so that threads ready to run get a turn now. A thread holding it
    keeps it through its own Python until it next blocks (or for the 5 ms switch interval);
    a zero sleep is a blocking call that returns at once when no other thread wants it."""
    time.sleep(0)


def waiting_on_database() -> AbstractContextManager[None]:
    """Mark this pool thread (if it is one) as waiting on the system database meanwhile."""
    worker: _Worker | None = getattr(_job, "worker", None)
    return _NOT_A_WORKER if worker is None else worker


class DaemonPool:
    def __init__(
        self,
        max_threads: int = 4096,
        name: str = "dbos-workflow",
        *,
        core_threads: int = _CORE_THREADS,
        grow_after_sec: float = _GROW_AFTER_SEC,
        idle_exit_sec: float = _IDLE_EXIT_SEC,
    ) -> None:
        self.max_threads = max_threads
        self.core_threads = min(core_threads, max_threads)
        self._grow_after = grow_after_sec
        self._idle_exit = idle_exit_sec
        self._name = name
        self._work: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        # Threads waiting for a job, and jobs queued that no thread has taken yet: a job
        # needs a thread of its own when the second outnumbers the first. (Both counted as
        # they are; a count of idle threads that a thread finishing one job and taking a
        # queued one never decremented grew with every backlog, and the pool then saw idle
        # threads where none were, so it stopped growing for good.)
        self._idle = 0
        self._unclaimed = 0
        self._serial = 0
        self._taken = 0  # jobs taken by a thread so far: the grower's sign of progress
        self._grower: threading.Thread | None = None
        self._closed = False
        # Tasks submitted and not yet returned, and the pool's thread idents: a virtual clock
        # (dbos.testing.time_skipping) tells from them whether some task is not yet (or no
        # longer) a registered workflow, i.e. busy. Both kept under the lock taken anyway.
        self._outstanding = 0
        self._idents: set[int] = set()
        self._workers: set[_Worker] = set()
        # Told (outside the lock) when work is queued with no thread idle to take it: the
        # runtime wakes waits that hold their threads only until they park (see parking.py).
        self.on_backlog: Callable[[], None] | None = None

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        future: Future[R] = Future()
        self._put((future, fn, args, True))
        return future

    def submit_to(self, future: Future[Any], fn: Callable[..., Any], *args: Any) -> None:
        """Run `fn` on a pool thread and complete `future` (one a detached job left running)
        with its outcome."""
        self._put((future, fn, args, False))

    def saturated(self) -> bool:
        """Whether work is queued that no idle thread has taken yet."""
        return not self._work.empty()

    @property
    def thread_count(self) -> int:
        with self._lock:
            return self._threads

    def _put(self, item: tuple[Future[Any], Callable[..., Any], tuple[Any, ...], bool]) -> None:
        new_thread: str | None = None
        grower: threading.Thread | None = None
        with self._lock:
            if self._closed:
                raise RuntimeError("DBOS has been destroyed: cannot start more work")
            self._work.put(item)
            self._outstanding += 1
            self._unclaimed += 1
            backlog = False
            if self._unclaimed <= self._idle:
                pass  # a waiting thread takes it
            elif self._threads < self.core_threads:
                new_thread = self._count_new_thread()
            else:
                backlog = True
                if self._threads < self.max_threads and self._grower is None:
                    self._grower = grower = threading.Thread(
                        target=self._grow, name=f"{self._name}-grower", daemon=True
                    )
        if new_thread is not None:
            self._start_thread(new_thread)
        if grower is not None:
            grower.start()  # (it takes the lock first thing: started with it released)
        if backlog and self.on_backlog is not None:
            self.on_backlog()

    def _count_new_thread(self) -> str:
        """Count a worker about to start (the lock held); its name, for `_start_thread`."""
        self._threads += 1
        self._serial += 1
        return f"{self._name}-{self._serial}"

    def _start_thread(self, name: str) -> None:
        """Start a worker counted by `_count_new_thread`, the lock released: `Thread.start()`
        waits until the new thread runs, which on a busy machine took milliseconds per thread
        (it needs a core and the GIL); holding the lock meanwhile stalled every submission and
        every finishing workflow behind a burst of starts (workload 8: no workflow ran for
        about 150 ms while 64 threads started beside an ANALYZE)."""
        try:
            threading.Thread(target=self._worker, name=name, daemon=True).start()
        except BaseException:
            with self._lock:
                self._threads -= 1  # never started (the interpreter is exiting)
            raise

    def _grow(self) -> None:
        """While work stays queued and no thread takes any for `grow_after_sec` (all busy in
        long steps, not in waits that park), double the threads (at most one per queued job)."""
        while True:
            with self._lock:
                taken = self._taken
            time.sleep(self._grow_after)
            with self._lock:
                if self._closed or self._work.empty() or self._threads >= self.max_threads:
                    self._grower = None
                    return
                if self._taken == taken and self._idle == 0:
                    # Doubling the threads busy in long steps: a pool stuck in them reaches
                    # 4,096 in a few intervals. Those waiting on the database do not count.
                    in_steps = self._threads - self.waiting_on_database()
                    more = min(self._work.qsize(), in_steps, self.max_threads - self._threads)
                    names = [self._count_new_thread() for _ in range(more)]
                else:
                    names = []
            for name in names:
                self._start_thread(name)

    def waiting_on_database(self) -> int:
        """How many of the pool's threads wait on the system database now."""
        return sum(1 for worker in list(self._workers) if worker.database_waits)

    def _worker(self) -> None:
        _job.pool = self
        _job.worker = worker = _Worker()
        with self._lock:
            self._idents.add(threading.get_ident())
            self._workers.add(worker)
            self._idle += 1
        while True:
            try:
                item = self._work.get(timeout=self._idle_exit)
            except queue.Empty:
                with self._lock:
                    if self._threads > self.core_threads and self._work.empty():
                        self._threads -= 1
                        self._idle -= 1
                        self._idents.discard(threading.get_ident())
                        self._workers.discard(worker)
                        return
                continue
            with self._lock:
                self._idle -= 1
                if item is _STOP:
                    return
                self._unclaimed -= 1
                self._taken += 1
            future, fn, args, fresh = item
            if not fresh or future.set_running_or_notify_cancel():
                _job.future = future
                try:
                    future.set_result(fn(*args))
                except Detach:
                    pass  # another job completes this future
                except BaseException as exc:  # the future carries it to whoever waits
                    future.set_exception(exc)
                finally:
                    _job.future = None
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

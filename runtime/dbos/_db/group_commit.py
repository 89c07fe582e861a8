"""Group commit: concurrent single-statement writes share one transaction and one disk flush.

A write that finds no flush under way becomes the leader: it writes itself and everything
queued so far in one transaction, then hands leadership to the oldest writer still waiting.
Alone, a write is one statement in its own transaction, exactly as without this module; under
load, N workflows' checkpoints cost one fsync instead of N. No thread of its own, so nothing to
start or stop.

A write nobody needs to wait for (`submit_unit`: a finished workflow's outcome, whose handle
is completed by a callback) is queued and its thread goes back to work; the flush that commits
it calls back. Leadership passes to a waiting writer when there is one, since it waits anyway;
a thread whose own write was submitted keeps flushing while only submitted writes are queued;
and a waiting writer that leaves only submitted writes behind starts a short-lived thread to
flush them, so its own caller is not held. Without this, a drain's workflow threads all sat in
one flush waiting for their own outcomes, and a flush never held more outcomes than the pool
had threads.

One flush is under way at a time, and a lane's transactions follow one another. Two were
tried on PostgreSQL (so a drain's one-row commit could overlap the full one), but then two
writes of one workflow could be in two transactions at once: an async workflow's gathered
stream writes each took `MAX(seq) + 1` in its own transaction, collided on the same offset,
and read the collision as a lost ownership. In one transaction at a time, the writes of a
workflow commit in the order they were made. Each write is in exactly one transaction and its
writer is woken (or called back) exactly once: by the leader that flushed it, or to lead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._threads import waiting_on_database, yield_the_gil

Statement = tuple[str, Mapping[str, Any]]


class _Write:
    """One caller's write: a single statement, or a unit of statements that commit together."""

    __slots__ = ("statements", "rowcounts", "error", "_wake", "flushed", "promoted", "on_done")

    def __init__(
        self,
        statements: Sequence[Statement],
        on_done: Callable[[list[int], BaseException | None], None] | None = None,
    ) -> None:
        self.statements = list(statements)
        self.on_done = on_done
        self.rowcounts: list[int] = []
        self.error: BaseException | None = None
        # A held lock is the cheapest one-shot wake-up: wait() blocks until wake() releases it.
        self._wake = threading.Lock()
        self._wake.acquire()
        self.flushed = False
        self.promoted = False

    def wait(self) -> None:
        self._wake.acquire()

    def wake(self) -> None:
        self._wake.release()


class GroupCommitter:
    def __init__(
        self,
        execute_one: Callable[[str, Mapping[str, Any]], int],
        execute_batch: Callable[[list[Statement]], list[int]],
        max_batch: int = 256,
    ) -> None:
        self._execute_one = execute_one
        self._execute_batch = execute_batch
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Write] = []  # writes waiting for a leader, oldest first
        self._leading = False  # a flush is under way
        # Set on the leading thread while it calls back the writes it committed: a write made
        # from a callback runs at once (queued, it would wait for the leader: this thread).
        self._calling_back = threading.local()

    def execute(self, sql: str, params: Mapping[str, Any]) -> int:
        """Run one write statement, alone or with others; its row count, or its error."""
        return self.execute_unit([(sql, params)])[0]

    def execute_unit(self, statements: Sequence[Statement]) -> list[int]:
        """Run statements that must commit together (a message and the step that sent it),
        alone or in a batch with other writes; their row counts, or the error of the unit."""
        if getattr(self._calling_back, "active", False):
            # This thread leads, between two flushes: no other transaction is under way.
            return self._run_alone(statements)
        with self._lock:
            alone = not self._leading  # (no flush under way means nobody queued)
            if alone:
                self._leading = True
        if alone:
            # Nobody else is waiting: no queue entry, no wake-up lock, just the statements.
            try:
                return self._run_alone(statements)
            finally:
                self._hand_over()
        write = _Write(statements)
        lead = self._lead_or_queue(write)
        if not lead:
            with waiting_on_database():  # not a long step: the pool does not grow for it
                write.wait()  # flushed by a leader, or handed leadership (then not queued)
            lead = write.promoted
        if lead:
            self._lead(write)
        if write.error is not None:
            raise write.error
        return write.rowcounts

    def submit_unit(
        self,
        statements: Sequence[Statement],
        on_done: Callable[[list[int], BaseException | None], None],
    ) -> None:
        """Queue statements without waiting for their commit: `on_done(rowcounts, error)` runs
        once they committed or failed, on the thread that flushed them. With no flush under
        way, this thread flushes them (and what queues meanwhile) before returning."""
        write = _Write(statements, on_done)
        if self._lead_or_queue(write):
            self._lead(write)

    def _lead_or_queue(self, write: _Write) -> bool:
        """Become the leader when no flush is under way (True), else queue `write`."""
        with self._lock:
            if self._leading:
                self._queue.append(write)
                return False
            self._leading = True
            return True

    def _run_alone(self, statements: Sequence[Statement]) -> list[int]:
        if len(statements) == 1:
            sql, params = statements[0]
            return [self._execute_one(sql, params)]
        return self._execute_batch(list(statements))

    def _lead(self, own: _Write) -> None:
        """Flush our write with the oldest queued ones, then hand leadership on."""
        head: _Write | None = own
        try:
            while head is not None:
                if head.on_done is not None and not self._queue:
                    # A lone write nobody waits on (a workflow's outcome): workflows finishing
                    # together would otherwise commit in two rounds, this one alone and the
                    # rest behind it. The threads already running submit theirs first and
                    # share this flush (workload 8's partitioned drain: 4,372 / 4,591 / 4,449
                    # wf/s without, 5,206 / 5,401 / 5,050 with). A waited-on write is not held.
                    yield_the_gil()
                with self._lock:
                    batch = [head, *self._queue[: self._max_batch - 1]]
                    del self._queue[: self._max_batch - 1]
                self._flush(batch)
                head = self._next_async(own)
        finally:
            self._hand_over()

    def _next_async(self, own: _Write) -> _Write | None:
        """After a flush by a thread whose own write nobody waits on: the next queued write
        to flush too, when no caller waits to lead (async writes only)."""
        if own.on_done is None:
            return None
        with self._lock:
            if not self._queue or any(w.on_done is None for w in self._queue):
                return None
            return self._queue.pop(0)

    def _hand_over(self) -> None:
        """Hand leadership to the oldest queued writer that waits (taken off the queue: it
        leads with its own write first); with only queued writes nobody waits on, a thread
        of their own flushes them; or stand down."""
        with self._lock:
            if not self._queue:
                self._leading = False
                return
            for i, write in enumerate(self._queue):
                if write.on_done is None:
                    del self._queue[i]
                    write.promoted = True
                    write.wake()
                    return
            orphan = self._queue.pop(0)
        try:
            threading.Thread(target=self._lead, args=(orphan,), daemon=True).start()
        except RuntimeError:  # no new thread (the interpreter is exiting): flush them here
            self._lead(orphan)

    def _flush(self, batch: list[_Write]) -> None:
        if len(batch) > 1:
            try:
                counts = self._execute_batch([s for w in batch for s in w.statements])
            except Exception:
                counts = None  # one bad statement spoils the shared transaction: go one by one
            if counts is not None:
                at = 0
                for write in batch:
                    n = len(write.statements)
                    self._finish(write, counts[at : at + n], None)
                    at += n
                return
        for write in batch:
            try:
                self._finish(write, self._run_alone(write.statements), None)
            except BaseException as exc:
                self._finish(write, [], exc)

    def _finish(self, write: _Write, rowcounts: list[int], error: BaseException | None) -> None:
        write.rowcounts = rowcounts
        write.error = error
        write.flushed = True
        if write.on_done is not None:
            self._calling_back.active = True
            try:
                write.on_done(rowcounts, error)
            except Exception:  # noqa: BLE001 - a callback's bug must not stop the flushes
                logging.getLogger("dbos").exception("A commit callback failed")
            finally:
                self._calling_back.active = False
            return
        write.wake()  # a leader's own write: releasing its unused wake-up lock is harmless

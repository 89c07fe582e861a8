"""The queue dispatcher: claims queued workflows for this process and runs them.

One thread for every queue the process serves (declared in its code or registered in the system
database: see `queue_catalog`). It sleeps on the queues' wake-up keys, which
fire when work is enqueued (here directly, elsewhere through the notifier) and when a queued
workflow stops running (a slot frees), and wakes at the latest after a queue's polling
interval, or when its rate limit's window next has room. Each claim is one batch (one
statement on PostgreSQL) bounded by the queue's limits; while batches come back full it keeps
claiming without sleeping. The claim's commit is the dequeued workflows' start. A partitioned
queue's workflow ending here wakes a claim of its partition alone (`_claim_heads`), where that
takes what a claim of the whole queue would.
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
from collections import deque
from concurrent.futures import Future
from typing import Any

from .. import _clock
from .._core.launches import prepare_claimed
from .._core.running import execute_in_fresh_context
from .._core.runtime import Runtime, logger
from .._core.waiters import QUEUE, WaitKey
from .._db.faults import is_connection_error
from .._db.queue_store import ClaimRequest, ClaimResult
from .._db.records import QUEUES_CHANGED, now_ms
from .._db.records import WorkflowRow as W
from .._error import DBOSFormatNotConfiguredError, DBOSWorkflowFunctionNotFoundError
from .._registry import queues as _queues
from .._registry.queues import QueueSpec
from .queue_catalog import QueueCatalog

MAX_BATCH = 100
_RETRY_AFTER_ERROR_SEC = 1.0
# Delayed workflows of other processes (whose own dispatcher died with them) are looked for
# this often; those made here wake the dispatcher when they come due.
_DELAY_SWEEP_SEC = 1.0
_DELAY_KEY = WaitKey("delay", "")
_QUEUES_KEY = WaitKey(*QUEUES_CHANGED)
# Fired when the set of queues served changes: the loop stops waiting on the old set's keys.
_SWITCH_KEY = WaitKey("dispatcher-switch", "")
# Fired (per queue) when a partitioned queue's workflow here has ended: its partition's next
# workflow may be claimable now, and only that partition needs a look (see `_claim_heads`).
_FREED = "partition-freed"


class QueueDispatcher:
    starts_work = True  # stopped first when destroy() lets running workflows finish
    keeps_durable_timers = True  # delayed and debounced workflows (see `_clock`)

    def __init__(
        self, runtime: Runtime, max_in_flight: int, listen: frozenset[str] | None = None
    ) -> None:
        """`listen`: the only queues this process takes work from (with the internal queue);
        None for every declared queue (`DBOS.listen_queues`)."""
        self._runtime = runtime
        self._catalog = QueueCatalog(runtime, listen)
        self._max_in_flight = max_in_flight
        self._lock = threading.Lock()
        self._specs: dict[str, QueueSpec] = {}  # the queues served now
        self._known: dict[str, QueueSpec] = {}  # every queue served since launch (its slots)
        self._running: dict[str, int] = {}
        # Per (queue, partition key): how many this process runs, for partition_worker_concurrency.
        self._partition_running: dict[tuple[str, str], int] = {}
        self._due: dict[str, float] = {}  # monotonic time of each queue's next look
        # Queues that handed work back (this process cannot run it): wake-ups, the hand-back's
        # own among them, do not make them claim again before this time.
        self._held_until: dict[str, float] = {}
        self._dirty: set[str] = set()
        # Per partitioned queue: partitions whose workflow here ended since the last claim.
        self._freed: dict[str, set[str]] = {}
        # Claimed ahead, waiting for a slot (see `_claim`): started the moment one frees.
        self._ready: dict[str, deque[Any]] = {}
        # Queues that may hold ENQUEUED work this process has not claimed: until a claim
        # comes back short, an enqueue here does not jump ahead of it (see `reserve`).
        self._backlog: dict[str, bool] = {}
        self._in_flight = 0
        # Queues whose claim was skipped because this process runs as many workflows as it
        # may: a workflow's end (not its body's, which fires its queue first) wakes them.
        self._starved: set[str] = set()
        self._delay_due = 0.0  # durable time (`_clock.now()`) to promote DELAYED workflows next
        # Durable time the earliest DELAYED workflow known here comes due (the durable timer
        # this loop waits for; `_delay_due` also holds the sweep for other processes' ones).
        self._next_delayed: float | None = None
        self._stopped = False
        self._changed = threading.Event()
        self._catalog.refresh()
        self._sync_specs()
        _queues.on_declare(self.add_queue)
        self._thread = threading.Thread(target=self._run, name="dbos-dispatcher", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ lifecycle

    def add_queue(self, spec: QueueSpec) -> None:
        """A queue declared in code after launch joins the dispatch at once (and the table)."""
        if not self._catalog.serves(spec.name):
            return
        try:
            self._runtime.sysdb.queue_table.record_declared_queue(spec.row())
        except Exception as exc:  # clients cannot see it yet; this process serves it anyway
            logger.warning("Queue %s: cannot record its declaration (%s)", spec.name, exc)
        self._sync_specs()

    def _sync_specs(self) -> None:
        """Serve the catalog's current queues: new ones start, changed settings apply from the
        next claim, and a deleted one is no longer claimed from (what runs finishes)."""
        served = self._catalog.served()
        with self._lock:
            added = set(served) - set(self._specs)
            removed = set(self._specs) - set(served)
            self._specs = dict(served)
            for name, spec in served.items():
                self._known[name] = spec
                self._running.setdefault(name, 0)
                self._ready.setdefault(name, deque())
                self._backlog.setdefault(name, True)
                self._dirty.add(name)
            for name in removed:
                self._due.pop(name, None)
        if added or removed:
            self._changed.set()  # the loop waits on the new set of keys
            self._runtime.waiters.fire(_SWITCH_KEY)  # ... from now, not after its current wait
        for name in added:
            self._runtime.waiters.fire(WaitKey(QUEUE, name))

    def stop(self) -> None:
        _queues.forget_listener(self.add_queue)
        self._stopped = True
        self._changed.set()
        with self._lock:
            names = list(self._specs)
        for name in names:
            self._runtime.waiters.fire(WaitKey(QUEUE, name))
        self._thread.join(timeout=5)

    def wake(self) -> None:
        """Look for due delayed workflows now: the durable clock was replaced (a block of
        `time_skipping()` began or ended), so the next look, kept in durable time, is stale."""
        with self._lock:
            self._delay_due = 0.0
        self._runtime.waiters.fire(_DELAY_KEY)

    def running(self, queue_name: str) -> int:
        with self._lock:
            return self._running.get(queue_name, 0)

    # ------------------------------------------------------------------ the loop

    def _run(self) -> None:
        carried: set[WaitKey] = set()  # fired while the loop switched to a new set of keys
        while not self._stopped:
            self._changed.clear()
            with self._lock:
                keys = tuple(WaitKey(QUEUE, name) for name in self._specs)
                freed = tuple(WaitKey(_FREED, name) for name in self._specs)
            # A key fired between the old set's last look and the new set's registration
            # would be lost: every queue looks once more after a switch (a rare event).
            carried |= set(keys)
            with self._runtime.waiters.waiting(
                *keys, *freed, _DELAY_KEY, _QUEUES_KEY, _SWITCH_KEY
            ) as waiter:
                while not self._stopped and not self._changed.is_set():
                    fired, carried = waiter.clear() | carried, set()
                    try:
                        if _QUEUES_KEY in fired:
                            self._catalog.invalidate()
                        if self._catalog.refresh():
                            self._sync_specs()
                        self._promote_delayed()
                        timeout = self._round({k.workflow_id for k in fired if k.kind == QUEUE})
                        timeout = min(timeout, max(self._catalog.due_in(), 0.0005))
                    except Exception:  # a bug must not stop dispatching for good
                        logger.exception("Queue dispatcher: a round failed")
                        timeout = _RETRY_AFTER_ERROR_SEC
                    if timeout > 0:
                        _clock.sleep(waiter, timeout, until=self._next_delayed, owner=self)
                carried = waiter.clear()

    def _round(self, fired: set[str]) -> float:
        """Claim for every queue that may have work; seconds until the next look is due."""
        now = time.monotonic()
        with self._lock:
            for name in fired:
                if name in self._backlog:
                    self._backlog[name] = True
            self._dirty |= fired
            self._dirty |= {name for name, due in self._due.items() if due <= now}
            held = {name for name, until in self._held_until.items() if until > now}
            todo = sorted((self._dirty & set(self._specs)) - held)
            self._dirty &= held  # a held queue looks again once its hold ends (its `_due`)
        for name in todo:
            if self._stopped:
                return 0.0
            if self._claim(name):
                with self._lock:
                    self._dirty.add(name)  # a full batch: there may be more right away
        with self._lock:
            freed = sorted(n for n, keys in self._freed.items() if keys and n not in held)
        for name in freed:
            if self._stopped:
                return 0.0
            self._claim_heads(name)
        with self._lock:
            if self._dirty:
                return 0.0
            next_due = min(self._due.values(), default=now + 1.0)
            delay_in = self._delay_due - _clock.now()
        return max(min(next_due - time.monotonic(), delay_in), 0.0005)

    # ------------------------------------------------------------------ delayed workflows

    def delay_until(self, epoch_ms: int) -> None:
        """A workflow made here waits until then (delayed, or debounced): wake up for it."""
        due = epoch_ms / 1000
        with self._lock:
            # An earlier timer wakes the loop even when its next look comes sooner anyway:
            # it sleeps again naming this timer (a virtual clock jumps to it).
            earlier_timer = self._next_delayed is None or due < self._next_delayed
            if earlier_timer:
                self._next_delayed = due
            earlier_look = due < self._delay_due
            if earlier_look:
                self._delay_due = due
        if earlier_timer or earlier_look:
            self._runtime.waiters.fire(_DELAY_KEY)

    def _promote_delayed(self) -> None:
        """Put on their queues the DELAYED workflows whose time has come (any process's)."""
        now = _clock.now()
        with self._lock:
            if now < self._delay_due:
                return
            self._delay_due = now + _DELAY_SWEEP_SEC
            self._next_delayed = None  # set again below from what is left
        try:
            self._runtime.sysdb.queues.promote_due()
            next_ms = self._runtime.sysdb.queues.next_due_ms()
        except Exception as exc:
            logger.warning("Delayed workflows: system database unreachable (%s)", exc)
            return
        if next_ms is not None:
            self.delay_until(next_ms)

    def _claim(self, name: str) -> bool:
        """Claim for one queue; True when the batch came back full (more may be waiting).

        A queue bounded only per process (worker_concurrency) claims up to one more slot's
        worth per running workflow ahead of time, so a finishing workflow's successor starts
        without a round trip. Claimed rows count as running for the queue's limits, so a queue
        with a shared budget (global concurrency, a rate limit) claims only what it starts, and
        so does one with `priority_enabled` (work claimed ahead would not yield to a more
        urgent workflow enqueued after it)."""
        now = time.monotonic()
        with self._lock:
            spec = self._specs.get(name)
            if spec is None:
                return False  # no longer served (deleted, or the listen set changed)
            self._freed.pop(name, None)  # this claim looks at every partition
            self._due[name] = now + spec.polling_interval_sec
            ahead = self._ahead(spec)
            room = MAX_BATCH
            if spec.limits.worker_concurrency is not None:
                ready = len(self._ready[name])
                if ahead and ready * 2 > ahead:
                    return False  # enough claimed ahead: refill in bigger, rarer batches
                held = self._running[name] + ready
                room = min(room, spec.limits.worker_concurrency + ahead - held)
            in_flight_room = self._max_in_flight - self._in_flight - len(self._ready[name])
            room = min(room, in_flight_room)
            if room <= 0:
                # Not looked at: it may hold work, so a finishing workflow fires its key.
                self._backlog[name] = True
            if in_flight_room <= 0:
                self._starved.add(name)  # ... once it has ended, not just its body (`_ended`)
        if room <= 0:
            return False  # a finishing workflow fires the queue's key
        request = self._request(spec, room, busy=self._busy_partitions(spec))
        result = self._send_claim(spec, request, now)
        if result is None:
            return False
        if result.next_slot_ms is not None:
            wait = max(result.next_slot_ms / 1000 - _clock.now(), 0.0)
            self._due[name] = min(self._due[name], now + wait)
        full = len(result.rows) == room
        with self._lock:
            self._ready[name].extend(result.rows)
            self._backlog[name] = full
        self._start_ready(spec)
        return full

    def _claim_heads(self, name: str) -> None:
        """Claim the next workflows of the partitions whose workflow here just ended, and only
        those: a statement whose cost follows the partitions named, not the queue, so a
        partition's next workflow starts one short claim after its predecessor's outcome.

        It takes what a claim of the whole queue would: the queue has no shared budget (its
        limits are per partition and per process) and nothing here caps how many run, so a
        full claim would take every claimable row anyway, these among them. Otherwise (a
        `worker_concurrency`, or this process's in-flight bound nearly reached), freed slots
        go to the queue's fair order through a full claim. Other partitions' work becomes
        claimable through wake-ups of their own (an enqueue, another process's workflow
        ending), which claim the whole queue."""
        now = time.monotonic()
        with self._lock:
            spec = self._specs.get(name)
            keys = self._freed.pop(name, set())
            if spec is None or not keys:
                return
            busy = set(self._busy_partitions_locked(spec))
            keys = {k for k in keys if k not in busy}
            if not keys:
                return  # each one at its per-process limit: a workflow's end wakes it
            room = min(MAX_BATCH, self._max_in_flight - self._in_flight - len(self._ready[name]))
            request = self._request(spec, room, keys=tuple(sorted(keys)))
            narrow = (
                spec.partition_queue
                and not spec.has_shared_budget
                and spec.limits.worker_concurrency is None
                and room >= len(keys) * request.ahead_cap
            )
            if not narrow:
                self._dirty.add(name)  # the whole queue, in its fair order
                return
        result = self._send_claim(spec, request, now)
        if result is None:
            return
        with self._lock:
            self._ready[name].extend(result.rows)
        self._start_ready(spec)

    def _request(
        self,
        spec: QueueSpec,
        room: int,
        busy: tuple[str, ...] = (),
        keys: tuple[str, ...] = (),
    ) -> ClaimRequest:
        runtime = self._runtime
        limits = spec.limits
        return ClaimRequest(
            queue_name=spec.name,
            limit=room,
            application_version=runtime.app_version,
            executor_id=runtime.executor_id,
            claim_prefix=f"{runtime.instance_id}.{uuid.uuid4().hex[:8]}.",
            concurrency=limits.global_concurrency,
            rate_limit=limits.limit,
            rate_period_sec=limits.period,
            partitioned=spec.partition_queue,
            partition_concurrency=limits.partition_concurrency,
            partition_worker_concurrency=limits.partition_worker_concurrency,
            partition_rate_limit=limits.partition_limit,
            partition_rate_period_sec=limits.partition_period,
            busy_partitions=busy,
            partition_keys=keys,
        )

    def _send_claim(self, spec: QueueSpec, request: ClaimRequest, now: float) -> ClaimResult | None:
        """The claim's result, or None when it failed (logged; the queue looks again later)."""
        runtime = self._runtime
        try:
            result = runtime.sysdb.queues.claim(request)
            runtime.sysdb.queue_statistics.claimed(request.queue_name)
            return result
        except Exception as exc:
            if runtime.stopped:
                return None
            if not is_connection_error(exc):
                logger.exception("Queue %s: claiming work failed", spec.name)
            else:
                logger.warning("Queue %s: system database unreachable (%s)", spec.name, exc)
            with self._lock:
                self._due[spec.name] = now + _RETRY_AFTER_ERROR_SEC
            return None

    def _busy_partitions(self, spec: QueueSpec) -> tuple[str, ...]:
        """This queue's partitions at their per-process limit here (left out of the claim)."""
        with self._lock:
            return self._busy_partitions_locked(spec)

    def _busy_partitions_locked(self, spec: QueueSpec) -> tuple[str, ...]:
        cap = spec.limits.partition_worker_concurrency
        if cap is None:
            return ()
        return tuple(
            key
            for (queue, key), n in self._partition_running.items()
            if queue == spec.name and n >= cap
        )

    @staticmethod
    def _ahead(spec: QueueSpec) -> int:
        """How many workflows a queue claims ahead of its free slots (see `_claim`)."""
        if spec.has_shared_budget or spec.priority_enabled or spec.partition_queue:
            return 0
        return spec.limits.worker_concurrency or 0

    # ------------------------------------------------------------------ direct starts

    def reserve(self, queue_name: str) -> _Slot | None:
        """A slot for a workflow enqueued here to start at once, or None to enqueue it.

        Only on a queue this process serves whose limits are its own (no shared budget, no
        priorities), with a free slot, nothing claimed ahead and no backlog seen: then no
        other workflow of the queue should run first, and a claim's round trip is saved."""
        with self._lock:
            spec = self._specs.get(queue_name)
            if spec is None or self._stopped or spec.has_shared_budget or spec.priority_enabled:
                return None
            if self._backlog.get(queue_name, True) or self._ready[queue_name]:
                return None
            if spec.limits.worker_concurrency is not None:
                if self._running[queue_name] >= spec.limits.worker_concurrency:
                    return None
            if self._in_flight >= self._max_in_flight:
                return None
            self._running[queue_name] += 1
            self._in_flight += 1
        return _Slot(self, queue_name)

    def run_reserved(self, slot: Any, launch: Any) -> Future[Any]:
        launch.body_done = slot.release
        launch.holds_thread = slot.holds_thread
        try:
            future = self._runtime.pool.submit(execute_in_fresh_context, launch)
        except RuntimeError:  # DBOS is being destroyed: the row stays PENDING for recovery
            slot.release()
            self._finished()
            raise
        future.add_done_callback(functools.partial(self._ended, slot))
        return future

    def _start_ready(self, spec: QueueSpec) -> None:
        """Start claimed workflows while the queue has free slots in this process (a row of a
        partition at its per-process limit here waits for that partition's slot)."""
        while True:
            with self._lock:
                ready = self._ready[spec.name]
                full = (
                    spec.limits.worker_concurrency is not None
                    and self._running[spec.name] >= spec.limits.worker_concurrency
                )
                if not ready or full or self._stopped:
                    return
                row = self._next_startable(spec, ready)
                if row is None:
                    return
            self._start(spec, row)

    def _next_startable(self, spec: QueueSpec, ready: deque[Any]) -> Any:
        cap = spec.limits.partition_worker_concurrency
        if cap is None:
            return ready.popleft()
        for i, row in enumerate(ready):
            key = row[W.PARTITION]
            if key is None or self._partition_running.get((spec.name, key), 0) < cap:
                del ready[i]
                return row
        return None

    def _start(self, spec: QueueSpec, row: Any) -> None:
        runtime = self._runtime
        owner = str(row[W.OWNER])
        try:
            launch = prepare_claimed(runtime, row, owner, first_run=int(row[W.ATTEMPTS]) <= 1)
        except (DBOSWorkflowFunctionNotFoundError, DBOSFormatNotConfiguredError) as exc:
            # Another process may have its code, or be configured to read its values: hand it
            # back (its attempt given back too), and look again later.
            logger.error("%s; handed back to queue %s", exc, spec.name)
            hold = time.monotonic() + max(spec.polling_interval_sec, 1.0)
            with self._lock:
                self._held_until[spec.name] = hold
                self._due[spec.name] = hold
            runtime.sysdb.queues.requeue_one(row[W.ID], owner, spec.name, give_back_attempt=True)
            return
        if launch is None:
            return
        timeout_ms = row[W.TIMEOUT_MS]
        if timeout_ms is not None:
            # Claimed ahead of a free slot: the timeout counts from the start, not the claim.
            launch.deadline_ms = now_ms() + int(timeout_ms)
        partition = row[W.PARTITION]
        with self._lock:
            self._running[spec.name] += 1
            self._in_flight += 1
            if partition is not None:
                key = (spec.name, str(partition))
                self._partition_running[key] = self._partition_running.get(key, 0) + 1
        slot = _Slot(self, spec.name, None if partition is None else str(partition))
        launch.body_done = slot.release
        launch.holds_thread = slot.holds_thread
        try:
            future = runtime.pool.submit(execute_in_fresh_context, launch)
        except RuntimeError:  # DBOS is being destroyed: the row stays PENDING for recovery
            slot.release()
            self._finished()
            return
        future.add_done_callback(functools.partial(self._ended, slot))

    def _ended(self, slot: _Slot, _future: Future[Any]) -> None:
        slot.release()  # in case the body never ran (it failed before it began)
        self._finished()
        if slot.partition is not None:
            # A partition's next workflow becomes claimable when this one's outcome has
            # committed (the claim counts its PENDING row), not when its body ended.
            with self._lock:
                self._freed.setdefault(slot.queue_name, set()).add(slot.partition)
            self._runtime.waiters.fire(WaitKey(_FREED, slot.queue_name))

    def _finished(self) -> None:
        with self._lock:
            self._in_flight -= 1
            starved, self._starved = self._starved, set()
        for name in starved:
            self._runtime.waiters.fire(WaitKey(QUEUE, name))

    def _thread_use(self, change: int) -> None:
        """A queued workflow parked (-1) or resumed (+1): room for claims changed."""
        with self._lock:
            self._in_flight += change
            if change < 0:
                self._dirty |= set(self._specs)
        if change < 0:
            self._runtime.waiters.fire(_DELAY_KEY)  # wakes the loop to claim into the room

    def _slot_released(self, name: str, partition: str | None) -> None:
        with self._lock:
            self._running[name] -= 1
            if partition is not None:
                left = self._partition_running.pop((name, partition), 1) - 1
                if left > 0:
                    self._partition_running[(name, partition)] = left
            spec = self._specs.get(name) or self._known[name]
        self._start_ready(spec)  # the successor, claimed ahead, starts at once
        with self._lock:
            ahead = self._ahead(spec)
            plenty = bool(ahead) and len(self._ready[name]) * 2 > ahead
            # No limit of its own bounds its claims and the last came back short: a claim now
            # finds nothing (one per finished workflow at a drain's end). New work fires it.
            drained = not self._backlog.get(name, True) and spec.limits.worker_concurrency is None
            drained = drained and not (spec.has_shared_budget or spec.partition_queue)
        # The dispatcher refills only below the low-water mark anyway; a partition's row wakes
        # it once its outcome has committed (see `_ended`).
        if not plenty and partition is None and not drained:
            self._runtime.waiters.fire(WaitKey(QUEUE, name))


class _Slot:
    """A running workflow's place in its queue's worker_concurrency: freed exactly once, when
    its body ends (not when its outcome has been written)."""

    def __init__(
        self, dispatcher: QueueDispatcher, queue_name: str, partition: str | None = None
    ) -> None:
        self._dispatcher = dispatcher
        self.queue_name = queue_name
        self.partition = partition
        self._lock = threading.Lock()
        self._held = True

    def release(self) -> None:
        with self._lock:
            if not self._held:
                return
            self._held = False
        self._dispatcher._slot_released(self.queue_name, self.partition)

    def holds_thread(self, holds: bool) -> None:
        """Its workflow parked (False: it keeps this slot but no thread, so it no longer counts
        against the process's workflows in flight) or resumed (True)."""
        self._dispatcher._thread_use(1 if holds else -1)

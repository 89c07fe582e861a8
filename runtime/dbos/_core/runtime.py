"""The launched state of one process: system database, workflow threads, the services.

`DBOS.launch()` builds one `Runtime`; `DBOS.destroy()` stops it. Everything that needs the
database reaches it through `get_runtime()`, which names the missing call when there is none.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from asyncio import events as asyncio_events
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .._db.system import SystemDatabase
from .._error import DBOSException
from .._serialization import Serializer, deserialize_exception, reader_for
from .._threads import DaemonPool
from .context import WorkflowContext
from .parking import ParkedTable, ParkPolicy
from .waiters import WaiterRegistry

if TYPE_CHECKING:
    from .._db.application import ApplicationDatabase

logger = logging.getLogger("dbos")

ASYNC_IO_THREADS = 16


class Service(Protocol):
    """A background job started by `DBOS.launch()` (deadline watcher, notifier, dispatcher...);
    the runtime stops every one of them, in reverse order, at `DBOS.destroy()`."""

    def stop(self) -> None: ...


class DeadlineSink(Protocol):
    def watch(self, workflow_id: str, deadline_ms: int) -> None: ...


class QueueSlot(Protocol):
    def release(self) -> None: ...


class DirectStart(Protocol):
    """The dispatcher, as the enqueue path sees it: a workflow enqueued on an idle queue that
    this process serves, with a free slot, starts here at once (its row written as already
    claimed), skipping the claim's round trip."""

    def reserve(self, queue_name: str) -> QueueSlot | None: ...

    def run_reserved(self, slot: QueueSlot, launch: Any) -> Future[Any]: ...

    def delay_until(self, epoch_ms: int) -> None: ...


@dataclass
class Runtime:
    sysdb: SystemDatabase
    serializer: Serializer
    executor_id: str
    app_version: str
    pool: DaemonPool
    app_db: ApplicationDatabase | None = None
    patching: bool = False  # DBOS.patch allowed (config `enable_patching`)

    def __post_init__(self) -> None:
        # Blocking work handed off by async code (checkpoints, reads of waiters): a bounded
        # pool, so a thousand async waiters cost a few threads, not one each.
        self.io_pool = DaemonPool(ASYNC_IO_THREADS, name="dbos-async-io")
        # The event loop DBOS.launch() was called on, if any (a server's, an async main's):
        # recovered and dequeued async workflows run on it while it runs (`running.py`).
        self.app_loop: asyncio.AbstractEventLoop | None = None
        self.active: dict[str, WorkflowContext] = {}
        self.active_lock = threading.Lock()
        # Outcomes of bodies that ended, handed to the group commit and not yet committed
        # (running.record_success): a graceful stop waits for them as for running workflows.
        self.committing = 0
        self.deadlines: DeadlineSink | None = None
        self.direct_start: DirectStart | None = None
        self.scheduler: Any = None  # the cron scheduler service: its settings, wake()
        # Queues registered in the system database, by name, as last read (see
        # `_core.queue_lookup`): enqueues check their queue without a query.
        self.registered_queues: dict[str, Any] = {}
        self.services: list[Service] = []
        self.stopped = False
        # A graceful stop (SIGTERM, a server's shutdown) is under way: workflows stop at their
        # next durable boundary (`_core/checkpoint.check_deadline`), see `unwind_workflows`.
        self.unwinding = False
        self._services_stopped: set[int] = set()
        self.waiters = WaiterRegistry()
        # Workflows that gave their thread back while they wait (parking.py); `launch()`
        # sets the policy's threshold from the config (`park_waits_after_sec`).
        self.parked = ParkedTable(self.waiters)
        self.park_policy = ParkPolicy(saturated=self.pool.saturated)
        self.pool.on_backlog = self.park_policy.backlog
        self.abandoned: dict[str, str] = {}  # workflow ID -> owner token, see `abandon`
        # This process's incarnation: the prefix of every owner token it hands out, so that
        # survivors can tell which process held a workflow that was left PENDING.
        self.instance_id = uuid.uuid4().hex[:16]
        self.sysdb.wake = self.waiters.fire

    def running_app_loop(self) -> asyncio.AbstractEventLoop | None:
        """The application's event loop while it runs and is not this thread's (a body sent
        to it from its own thread would wait on itself)."""
        loop = self.app_loop
        if loop is None or loop.is_closed() or not loop.is_running():
            return None
        if asyncio_events._get_running_loop() is loop:
            return None
        return loop

    def abandon(self, workflow_id: str, owner: str, reason: str) -> None:
        """This execution stopped because the database was unreachable: it stays PENDING under
        our owner token, and the heartbeat service resumes it once the database is back."""
        logger.warning(
            "Workflow %s stopped, system database unreachable (%s); it resumes from its last "
            "checkpoint once the database is back",
            workflow_id,
            reason,
        )
        with self.active_lock:
            self.abandoned[workflow_id] = owner

    def outcome_committing(self, change: int) -> None:
        """An ended workflow's outcome was handed to the group commit (+1) or committed (-1)."""
        with self.active_lock:
            self.committing += change

    def take_abandoned(self) -> dict[str, str]:
        with self.active_lock:
            taken, self.abandoned = self.abandoned, {}
        return taken

    def new_owner(self) -> str:
        """A fresh owner token for one execution of one workflow by this process."""
        return f"{self.instance_id}.{uuid.uuid4().hex[:16]}"

    def reader(self, stored_format: str | None) -> Serializer:
        """The serializer for a value stored in `stored_format`.

        JSON rows (ours and the portable format) are always readable; rows in another format
        only with that serializer configured, so a pickled row is never unpickled unless the
        user opted in to pickle."""
        return reader_for(stored_format, self.serializer)

    def writer(self, stored_format: str | None) -> Serializer:
        """The serializer for a workflow's outcome: the format of its row, as upstream does, so
        the row's one label describes its inputs, output and error alike (a workflow enqueued
        by a client in JSON and finished by a worker configured with pickle stays readable)."""
        return self.reader(stored_format)

    def decode(self, text: str | None, stored_format: str | None) -> Any:
        return None if text is None else self.reader(stored_format).deserialize(text)

    def decode_error(self, text: str, stored_format: str | None) -> BaseException:
        return deserialize_exception(self.reader(stored_format), text)

    def register_active(self, ctx: WorkflowContext) -> None:
        with self.active_lock:
            self.active[ctx.workflow_id] = ctx
        if ctx.deadline_ms is not None and self.deadlines is not None:
            self.deadlines.watch(ctx.workflow_id, ctx.deadline_ms)

    def unregister_active(self, ctx: WorkflowContext) -> None:
        with self.active_lock:
            if self.active.get(ctx.workflow_id) is ctx:
                del self.active[ctx.workflow_id]

    def cancel(self, workflow_id: str, cascade: bool) -> None:
        """Mark CANCELLED in the database and wake any local execution sleeping or waiting."""
        for wf in self.sysdb.workflows.cancel_workflow(workflow_id, cascade):
            with self.active_lock:
                ctx = self.active.get(wf)
            if ctx is not None:
                ctx.cancel()

    def shutdown(self, drain_sec: float = 0.0) -> None:
        """Stop everything. With `drain_sec`, the services that start work stop first and the
        workflows running here get that long to finish (a rolling deploy's grace period);
        whatever still runs then is left PENDING to recovery, as after a crash."""
        if drain_sec > 0:
            self.stop_starting_work()
            self.wait_for_active_to_end(drain_sec)
        self.stopped = True
        for service in reversed(self.services):
            self._stop_service(service)
        self.pool.shutdown()
        self.io_pool.shutdown()
        for entry in self.parked.stop():
            entry.drop()  # stays PENDING: the next launch's recovery resumes it
        with self.active_lock:
            for ctx in self.active.values():
                ctx.cancel()  # wake sleepers and waiters so their threads end promptly
        self.sysdb.dispose()
        if self.app_db is not None:
            self.app_db.dispose()

    def stop_starting_work(self) -> None:
        """Stop the services that start workflows (the queue dispatcher, the scheduler)."""
        for service in reversed(self.services):
            if getattr(service, "starts_work", False):
                self._stop_service(service)

    def unwind_workflows(self) -> None:
        """The graceful stop: from now on every workflow of this process stops at its next
        durable boundary (a new step, transaction, sleep or wait) with
        `DBOSExecutorShutdownError`, recording nothing, so it stays PENDING and resumes from
        its checkpoints at recovery. A step already running is not interrupted: it finishes
        and its output is recorded. Waiting workflows are woken to stop at once; parked ones
        are not resumed any more, whatever fires."""
        self.unwinding = True
        self.parked.hold()
        with self.active_lock:
            running = list(self.active.values())
        for ctx in running:
            ctx.wake()

    def _stop_service(self, service: Service) -> None:
        if id(service) in self._services_stopped:
            return
        self._services_stopped.add(id(service))
        try:
            service.stop()
        except Exception:
            logger.exception("Stopping %s failed", type(service).__name__)

    def wait_for_active_to_end(self, timeout_sec: float) -> int:
        """Wait up to `timeout_sec` for the workflows running here to end (or unwind); the
        number still running then. A workflow started and not yet taken by a workflow thread
        (`start_workflow` returns once its run is queued) counts as running."""
        deadline = time.monotonic() + timeout_sec
        while time.monotonic() < deadline:
            with self.active_lock:
                if not self.active and not self.committing and not self.pool.saturated():
                    return 0
            time.sleep(0.01)
        with self.active_lock:
            left = len(self.active) + self.committing
        logger.info("%d workflows still running at destroy() are left to recovery", left)
        return left


_runtime: Runtime | None = None
# A runtime current in one context only, in front of the process's launched one: a replay's
# throwaway runtime (`dbos.testing.replay`), which must not disturb a DBOS launched here.
_scoped_runtime: ContextVar[Runtime | None] = ContextVar("dbos_scoped_runtime", default=None)


def set_runtime(runtime: Runtime | None) -> None:
    global _runtime
    _runtime = runtime


@contextmanager
def scoped_runtime(runtime: Runtime) -> Iterator[Runtime]:
    """Make `runtime` current for this context (and the tasks and threads it hands work to
    with its context) until the block ends."""
    token = _scoped_runtime.set(runtime)
    try:
        yield runtime
    finally:
        _scoped_runtime.reset(token)


def get_runtime() -> Runtime:
    runtime = _scoped_runtime.get() or _runtime
    if runtime is None:
        raise DBOSException(
            "DBOS is not launched: call DBOS(config=...) and DBOS.launch() before running workflows"
        )
    return runtime


def runtime_or_none() -> Runtime | None:
    return _scoped_runtime.get() or _runtime

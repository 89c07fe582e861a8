"""Queues at run time: register, retrieve, list and delete queues in the system database, on
`DBOS` and `DBOSClient` alike (one definition each, sync and async: see `operations.py`), and
`DBOS.enqueue_workflow` onto any queue by name.

A registered queue is a row of the `queues` table: every process sees it (its dispatcher
serves it within a second, at once on PostgreSQL), and a change of its settings applies
everywhere without a restart. Queues declared in code (`Queue(...)`) are recorded in the same
table when their process launches, so clients and the admin tools see them, but they are not
listed here: like upstream's in-memory queues, their settings belong to their code.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Coroutine
from typing import Any, Literal, ParamSpec, TypeVar, overload

from .. import _clock
from .._core.checkpoint import active_workflow
from .._core.control import cancel_workflow
from .._core.handles import WorkflowHandle, WorkflowHandleAsync
from .._core.offload import off_loop
from .._core.options_enqueue import EnqueueOptions, enqueue_with_options
from .._core.runtime import logger
from .._db.queue_table import QueueBusy
from .._error import DBOSException
from .._registry.queues import QueueRateLimit, make_spec, spec_from_row
from .operations import Caller, operation
from .queue import Queue, enqueue_on

P = ParamSpec("P")
R = TypeVar("R")

QueueConflictResolution = Literal["update_if_latest_version", "always_update", "never_update"]


def _refuse_on_event_loop(caller: Caller, name: str) -> None:
    """`DBOS`'s sync queue calls block on the database: from a running event loop they raise,
    as upstream's do, instead of stalling every task of that loop."""
    if not caller.runs_workflows:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(f"DBOS.{name} blocks on the database: use DBOS.{name}_async in async code")


def _update_existing(caller: Caller, on_conflict: str | None) -> bool:
    """Whether a registration replaces an existing queue's settings."""
    if on_conflict is None:
        on_conflict = "update_if_latest_version" if caller.runs_workflows else "always_update"
    if on_conflict == "always_update":
        return True
    if on_conflict == "never_update":
        return False
    if on_conflict != "update_if_latest_version":
        raise DBOSException(
            f"on_conflict must be 'update_if_latest_version', 'always_update' or "
            f"'never_update', got {on_conflict!r}"
        )
    if not caller.runs_workflows:
        raise DBOSException(
            "DBOSClient.register_queue does not support on_conflict='update_if_latest_version' "
            "because clients are not associated with an application version. Use "
            "'always_update' or 'never_update'."
        )
    # In a rolling deploy an older version must not overwrite the newer one's settings: only
    # the version of the most recently started process updates an existing queue.
    runtime = caller.runtime
    latest = runtime.sysdb.queue_table.latest_application_version()
    return latest is None or latest == runtime.app_version


@operation(None)
def _register_queue(
    caller: Caller,
    name: str,
    *,
    worker_concurrency: int | None = None,
    global_concurrency: int | None = None,
    partition_concurrency: int | None = None,
    partition_worker_concurrency: int | None = None,
    partition_limiter: QueueRateLimit | None = None,
    limiter: QueueRateLimit | None = None,
    polling_interval_sec: float = 1.0,
    on_conflict: QueueConflictResolution | None = None,
    application_name: str | None = None,
    concurrency: int | None = None,
    priority_enabled: bool = False,
    partition_queue: bool = False,
) -> Queue:
    """Register a queue in the system database (or, per `on_conflict`, update the one there)
    and return it; every process serves it from then on. Settings are checked (upstream's
    rules) before anything is written. `on_conflict`: `"update_if_latest_version"` (`DBOS`'s
    default: only the latest application version overwrites), `"always_update"` (a client's
    default) or `"never_update"`. `concurrency`, `priority_enabled` and `partition_queue` are
    upstream's deprecated spellings (see `Queue`)."""
    _refuse_on_event_loop(caller, "register_queue")
    spec = make_spec(
        name,
        concurrency=concurrency,
        global_concurrency=global_concurrency,
        worker_concurrency=worker_concurrency,
        limiter=limiter,
        partition_concurrency=partition_concurrency,
        partition_worker_concurrency=partition_worker_concurrency,
        partition_limiter=partition_limiter,
        priority_enabled=priority_enabled,
        partition_queue=partition_queue,
        polling_interval_sec=polling_interval_sec,
        declared_in_code=False,
    )
    update = _update_existing(caller, on_conflict)
    sysdb = caller.runtime.sysdb
    if sysdb.queue_table.register_queue(
        spec.row(), update_existing=update, application_name=application_name
    ):
        logger.info("Registered queue %s (%s)", name, spec.describe())
    row = sysdb.queue_table.queue_row(name)
    if row is None:  # deleted by another process at this very moment
        raise DBOSException(f"Queue {name} was deleted while it was being registered")
    return Queue._registered(spec_from_row(row), caller)


@operation(None)
def _retrieve_queue(caller: Caller, name: str) -> Queue | None:
    """The registered queue of that name, or None (a queue declared in code is not one)."""
    _refuse_on_event_loop(caller, "retrieve_queue")
    row = caller.runtime.sysdb.queue_table.queue_row(name)
    if row is None:
        return None
    spec = spec_from_row(row)
    return None if spec.declared_in_code else Queue._registered(spec, caller)


@operation(None)
def _list_queues(caller: Caller, *, application_name: str | list[str] | None = None) -> list[Queue]:
    """Every registered queue, by name; with `application_name`, only those of these
    applications (and those of none)."""
    _refuse_on_event_loop(caller, "list_queues")
    wanted = [application_name] if isinstance(application_name, str) else application_name
    queues = []
    for row in caller.runtime.sysdb.queue_table.queue_rows():
        spec = spec_from_row(row)
        owner = row[13]
        if spec.declared_in_code or (
            wanted is not None and owner is not None and owner not in wanted
        ):
            continue
        queues.append(Queue._registered(spec, caller))
    return queues


@operation(None)
def _delete_queue(caller: Caller, name: str, *, force: bool = False) -> None:
    """Delete a registered queue. One that still holds work (queued, delayed or running
    workflows, which it would strand) is refused with the count, unless `force`, which cancels
    that work first. Deleting a queue that does not exist does nothing."""
    _refuse_on_event_loop(caller, "delete_queue")
    runtime = caller.runtime
    sysdb = runtime.sysdb
    row = sysdb.queue_table.queue_row(name)
    if row is not None and spec_from_row(row).declared_in_code:
        raise DBOSException(
            f"Queue {name!r} is declared in code (Queue(...)): remove it there; processes "
            "declaring it record it again when they launch"
        )
    for _attempt in range(3):
        try:
            sysdb.queue_table.delete_idle_queue(name)
            return
        except QueueBusy as busy:
            if not force:
                counts = ", ".join(f"{n} {status}" for status, n in sorted(busy.counts.items()))
                raise DBOSException(
                    f"Queue {name!r} still holds {sum(busy.counts.values())} workflows "
                    f"({counts}); deleting it would strand them. Let them finish, or pass "
                    "force=True to cancel them and delete the queue"
                ) from None
            for workflow_id in sysdb.queue_table.queue_work_ids(name):
                cancel_workflow(workflow_id, False, runtime=runtime)
    raise DBOSException(f"Queue {name!r} kept receiving work while being deleted; try again")


def _delay_target(delay_seconds: float | None, delay_until_epoch_ms: int | None) -> int:
    """When (epoch ms) a delayed workflow should start, from exactly one of the two."""
    if delay_seconds is not None and delay_until_epoch_ms is not None:
        raise DBOSException("Specify either delay_seconds or delay_until_epoch_ms, not both")
    if delay_until_epoch_ms is not None:
        if isinstance(delay_until_epoch_ms, bool) or not isinstance(delay_until_epoch_ms, int):
            raise DBOSException(
                f"delay_until_epoch_ms must be an int (epoch milliseconds), got "
                f"{delay_until_epoch_ms!r}"
            )
        if delay_until_epoch_ms < 0:
            raise DBOSException("delay_until_epoch_ms must be >= 0")
        return delay_until_epoch_ms
    if delay_seconds is None:
        raise DBOSException("Must specify either delay_seconds or delay_until_epoch_ms")
    if (
        isinstance(delay_seconds, bool)
        or not isinstance(delay_seconds, (int, float))
        or not math.isfinite(delay_seconds)
    ):
        raise DBOSException(f"delay_seconds must be a number, got {delay_seconds!r}")
    if delay_seconds < 0:
        raise DBOSException("delay_seconds must be >= 0")
    return int((_clock.now() + delay_seconds) * 1000)


@operation("DBOS.setWorkflowDelay")
def _set_workflow_delay(
    caller: Caller,
    workflow_id: str,
    *,
    delay_seconds: float | None = None,
    delay_until_epoch_ms: int | None = None,
) -> None:
    """Move the start of a workflow waiting DELAYED (enqueued with a delay): `delay_seconds`
    from now, or at `delay_until_epoch_ms`. A workflow no longer waiting is left alone.
    Every dispatcher sees the new time (this process's at once, others within a second)."""
    _refuse_on_event_loop(caller, "set_workflow_delay")
    until = _delay_target(delay_seconds, delay_until_epoch_ms)
    runtime = caller.runtime
    if (
        runtime.sysdb.queues.set_workflow_delay(workflow_id, until)
        and runtime.direct_start is not None
    ):
        runtime.direct_start.delay_until(until)


class QueueAdministration:
    """Registering, retrieving, listing and deleting queues, and moving a delayed workflow's
    start (`DBOS` and `DBOSClient`)."""

    register_queue = _register_queue
    register_queue_async = _register_queue.asynchronous()
    retrieve_queue = _retrieve_queue
    retrieve_queue_async = _retrieve_queue.asynchronous()
    list_queues = _list_queues
    list_queues_async = _list_queues.asynchronous()
    delete_queue = _delete_queue
    delete_queue_async = _delete_queue.asynchronous()
    set_workflow_delay = _set_workflow_delay
    set_workflow_delay_async = _set_workflow_delay.asynchronous()


class QueueEnqueueing:
    """`DBOS.enqueue_workflow`: a workflow (a decorated function, or a registered workflow's
    name) onto a queue named at the call, declared in code or registered."""

    @overload
    @classmethod
    def enqueue_workflow(
        cls,
        queue_name: str,
        func: Callable[P, Coroutine[Any, Any, R]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> WorkflowHandle[R]: ...

    @overload
    @classmethod
    def enqueue_workflow(
        cls, queue_name: str, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs
    ) -> WorkflowHandle[R]: ...

    @overload
    @classmethod
    def enqueue_workflow(
        cls, queue_name: str, func: str, *args: Any, **kwargs: Any
    ) -> WorkflowHandle[Any]: ...

    @classmethod
    def enqueue_workflow(
        cls, queue_name: str, func: Callable[..., Any] | str, *args: Any, **kwargs: Any
    ) -> WorkflowHandle[Any]:
        """Enqueue `func(*args, **kwargs)` on the queue named `queue_name` and return its
        handle at once. An unknown queue or workflow name is refused before anything is
        written. `SetEnqueueOptions`, `SetWorkflowID` and `SetWorkflowTimeout` apply as to
        `Queue.enqueue`; inside a workflow the enqueue is recorded (a recovered workflow
        does not enqueue again)."""
        return enqueue_on(queue_name, func, args, kwargs)

    @overload
    @classmethod
    async def enqueue_workflow_async(
        cls,
        queue_name: str,
        func: Callable[P, Coroutine[Any, Any, R]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> WorkflowHandleAsync[R]: ...

    @overload
    @classmethod
    async def enqueue_workflow_async(
        cls, queue_name: str, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs
    ) -> WorkflowHandleAsync[R]: ...

    @overload
    @classmethod
    async def enqueue_workflow_async(
        cls, queue_name: str, func: str, *args: Any, **kwargs: Any
    ) -> WorkflowHandleAsync[Any]: ...

    @classmethod
    async def enqueue_workflow_async(
        cls, queue_name: str, func: Callable[..., Any] | str, *args: Any, **kwargs: Any
    ) -> WorkflowHandleAsync[Any]:
        """`enqueue_workflow` for async code: the insert runs off the event loop."""
        if active_workflow() is not None:
            # In a workflow the step number is taken now, in call order.
            return WorkflowHandleAsync(enqueue_on(queue_name, func, args, kwargs))
        handle = await off_loop(lambda: enqueue_on(queue_name, func, args, kwargs))
        return WorkflowHandleAsync(handle)

    @classmethod
    def enqueue_workflow_with_options(
        cls, options: EnqueueOptions, *args: Any, **kwargs: Any
    ) -> WorkflowHandle[Any]:
        """Enqueue a workflow by its registered name, from the same options as
        `DBOSClient.enqueue` (so the same row): the workflow may be implemented only by
        other processes sharing this system database, so an unknown name is not refused,
        and `app_version` stays unset unless given (the latest version runs it). The queue
        must exist. What the options leave unset comes from the caller's context
        (`SetWorkflowID`, `SetEnqueueOptions`, `SetWorkflowTimeout`, attributes,
        `DBOSContextSetAuth`); inside a
        workflow it is recorded as a child of the caller."""
        return WorkflowHandle(enqueue_with_options(options, args, kwargs))

    @classmethod
    async def enqueue_workflow_with_options_async(
        cls, options: EnqueueOptions, *args: Any, **kwargs: Any
    ) -> WorkflowHandleAsync[Any]:
        """`enqueue_workflow_with_options` for async code: in a workflow its step number is
        taken at call time; the insert runs off the event loop."""
        parent = active_workflow()
        step_id = parent.take_step_id() if parent is not None else None
        workflow_id = await off_loop(enqueue_with_options, options, args, kwargs, step_id)
        return WorkflowHandleAsync(WorkflowHandle(workflow_id))

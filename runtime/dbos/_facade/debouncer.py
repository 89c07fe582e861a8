"""`Debouncer` and `DebouncerClient`: collapse bursts of calls with one key into one run of a
workflow, with the arguments of the last call (see `_core/debounce.py` for how)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from .._core.context import assigned_enqueue_options
from .._core.debounce import (
    Window,
    check_debounce_call,
    check_debounce_timeout,
    debounce,
    refuse_conflicting_options,
)
from .._core.debounce import debounce_into as _debounce_into
from .._core.handles import WorkflowHandle, WorkflowHandleAsync
from .._core.offload import off_loop
from .._core.options_enqueue import EnqueueOptions
from .._error import DBOSException
from .._registry.queues import INTERNAL_QUEUE
from .._registry.registry import FunctionInfo, info_of
from .client import DBOSClient
from .queue import Queue

R = TypeVar("R")


class Debouncer(Generic[R]):
    """Made with `Debouncer.create(workflow, debounce_timeout_sec=None, queue=None)`.

    `debounce(key, period_sec, *args, **kwargs)` starts the workflow `period_sec` after the
    last call with `key`, with that call's arguments; `debounce_timeout_sec` bounds the total
    delay from the first call of a burst. The run goes through `queue` (default: the internal
    queue), so its limits apply. Arguments that do not fit the workflow are refused at the call,
    not when the run starts."""

    def __init__(
        self, info: FunctionInfo, debounce_timeout_sec: float | None, queue_name: str
    ) -> None:
        self._info = info
        self._timeout = debounce_timeout_sec
        self._queue_name = queue_name

    @classmethod
    def create(
        cls,
        workflow: Callable[..., R],
        *,
        debounce_timeout_sec: float | None = None,
        queue: Queue | str | None = None,
    ) -> Debouncer[R]:
        """`queue`: a `Queue`, or the name of one (declared or registered); default the
        internal queue."""
        info = info_of(workflow)
        if info.kind != "workflow":
            raise DBOSException(
                f"Debouncer.create needs a workflow; {info.name!r} is a {info.kind}"
            )
        if info.takes_self:
            raise DBOSException(
                f"Debouncer.create needs a function workflow; {info.name!r} is a method"
            )
        timeout = check_debounce_timeout(debounce_timeout_sec)
        return cls(info, timeout, _queue_name(queue))

    # Upstream spells it separately for async workflows; one class serves both here.
    create_async = create

    def debounce(
        self, debounce_key: str, debounce_period_sec: float, *args: Any, **kwargs: Any
    ) -> WorkflowHandle[R]:
        options = assigned_enqueue_options()
        if options is not None:
            refuse_conflicting_options(
                deduplication_id=options.deduplication_id,
                delay_seconds=options.delay_seconds,
                priority=options.priority,
                partition_key=options.queue_partition_key,
                duplication_policy=options.duplication_policy,
            )
        workflow_id = debounce(
            self._info,
            debounce_key,
            debounce_period_sec,
            args,
            kwargs,
            self._timeout,
            self._queue_name,
        )
        return WorkflowHandle(workflow_id)

    async def debounce_async(
        self, debounce_key: str, debounce_period_sec: float, *args: Any, **kwargs: Any
    ) -> WorkflowHandleAsync[R]:
        handle = await off_loop(
            lambda: self.debounce(debounce_key, debounce_period_sec, *args, **kwargs)
        )
        return WorkflowHandleAsync(handle)


def _queue_name(queue: Queue | str | None) -> str:
    if queue is None:
        return INTERNAL_QUEUE
    if isinstance(queue, Queue):
        return queue.name
    if not isinstance(queue, str) or not queue:
        raise DBOSException(f"queue must be a Queue or a queue name, got {queue!r}")
    return queue


class DebouncerClient:
    """A debouncer for a process that runs no workflows, through a `DBOSClient`: the workflow
    is named in `workflow_options` (as for `DBOSClient.enqueue`), its queue there or in `queue`
    (default: the internal queue). Windows are shared with `Debouncer` calls in the workers.
    The options are read at each call (as upstream's): a `workflow_id` there names the run a
    call opens a window for, as `SetWorkflowID` does for `Debouncer`."""

    def __init__(
        self,
        client: DBOSClient,
        workflow_options: EnqueueOptions,
        *,
        debounce_timeout_sec: float | None = None,
        queue: Queue | str | None = None,
    ) -> None:
        # Read at each call, as upstream: a change to the dict (a new `workflow_id` for the
        # next window's run) applies to the calls after it.
        self._workflow_options = workflow_options
        self._queue_name = None if queue is None else _queue_name(queue)
        self._client = client
        self._timeout = check_debounce_timeout(debounce_timeout_sec)

    def debounce(
        self, debounce_key: str, debounce_period_sec: float, *args: Any, **kwargs: Any
    ) -> WorkflowHandle[Any]:
        period = check_debounce_call(debounce_key, debounce_period_sec)
        options: EnqueueOptions = dict(self._workflow_options)  # type: ignore[assignment]
        if self._queue_name is not None:
            options["queue_name"] = self._queue_name
        options.setdefault("queue_name", INTERNAL_QUEUE)
        refuse_conflicting_options(
            deduplication_id=options.get("deduplication_id"),
            delay_seconds=options.get("delay_seconds"),
            priority=options.get("priority"),
            partition_key=options.get("queue_partition_key"),
            duplication_policy=options.get("duplication_policy"),
        )
        client = self._client
        _, row = client._prepare(options, args, kwargs)
        window = Window(
            options["workflow_name"],
            debounce_key,
            options["queue_name"],
            row["inputs"],
            row["serialization"],
            row["application_version"],
            period,
            self._timeout,
        )

        workflow_id = _debounce_into(client._runtime, window, lambda: dict(row))
        return WorkflowHandle(workflow_id, runtime=client._runtime)

    async def debounce_async(
        self, debounce_key: str, debounce_period_sec: float, *args: Any, **kwargs: Any
    ) -> WorkflowHandleAsync[Any]:
        handle = await off_loop(
            lambda: self.debounce(debounce_key, debounce_period_sec, *args, **kwargs)
        )
        return WorkflowHandleAsync(handle)

"""`Debouncer` and `DebouncerClient`: collapse bursts of calls with one key into one run of a
workflow, with the arguments of the last call (see `_core/debounce.py` for how)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from .._core.debounce import Window, check_debounce_call, check_debounce_timeout, debounce
from .._core.debounce import debounce_into as _debounce_into
from .._core.handles import WorkflowHandle, WorkflowHandleAsync
from .._core.offload import off_loop
from .._error import DBOSException
from .._registry import decorators as _decorators
from .._registry.queues import INTERNAL_QUEUE
from .._registry.registry import FunctionInfo
from .client import DBOSClient, EnqueueOptions
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
        queue: Queue | None = None,
    ) -> Debouncer[R]:
        info = _decorators.info_of(workflow)
        if info.kind != "workflow":
            raise DBOSException(
                f"Debouncer.create needs a workflow; {info.name!r} is a {info.kind}"
            )
        if info.takes_self:
            raise DBOSException(
                f"Debouncer.create needs a function workflow; {info.name!r} is a method"
            )
        timeout = check_debounce_timeout(debounce_timeout_sec)
        return cls(info, timeout, queue.name if queue is not None else INTERNAL_QUEUE)

    # Upstream spells it separately for async workflows; one class serves both here.
    create_async = create

    def debounce(
        self, debounce_key: str, debounce_period_sec: float, *args: Any, **kwargs: Any
    ) -> WorkflowHandle[R]:
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


_NOT_WITH_DEBOUNCE = ("workflow_id", "deduplication_id", "delay_seconds")


class DebouncerClient:
    """A debouncer for a process that runs no workflows, through a `DBOSClient`: the workflow
    is named in `workflow_options` (as for `DBOSClient.enqueue`), its queue there or in `queue`
    (default: the internal queue). Windows are shared with `Debouncer` calls in the workers."""

    def __init__(
        self,
        client: DBOSClient,
        workflow_options: EnqueueOptions,
        *,
        debounce_timeout_sec: float | None = None,
        queue: Queue | str | None = None,
    ) -> None:
        clash = [k for k in _NOT_WITH_DEBOUNCE if workflow_options.get(k) is not None]
        if clash:
            raise DBOSException(
                f"A debounced run chooses its own {', '.join(clash)}: leave it out of "
                "workflow_options"
            )
        options: EnqueueOptions = dict(workflow_options)  # type: ignore[assignment]
        if queue is not None:
            options["queue_name"] = queue.name if isinstance(queue, Queue) else queue
        options.setdefault("queue_name", INTERNAL_QUEUE)
        client._check(options)
        self._client = client
        self._options = options
        self._timeout = check_debounce_timeout(debounce_timeout_sec)

    def debounce(
        self, debounce_key: str, debounce_period_sec: float, *args: Any, **kwargs: Any
    ) -> WorkflowHandle[Any]:
        period = check_debounce_call(debounce_key, debounce_period_sec)
        client = self._client
        row = client._row(self._options, args, kwargs)
        window = Window(
            self._options["workflow_name"],
            debounce_key,
            self._options["queue_name"],
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

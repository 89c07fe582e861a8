"""`Queue`: durable queues of workflows, with global and per-process concurrency, rate limits,
priorities, deduplication and partitions with limits of their own."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from .._core.checkpoint import active_workflow
from .._core.context import EnqueueOptions, assigned_enqueue_options
from .._core.enqueue_rules import check_duplication_policy, check_partition_options
from .._core.handles import WorkflowHandle, WorkflowHandleAsync
from .._core.offload import off_loop
from .._core.queue_lookup import require_queue
from .._core.runtime import get_runtime
from .._core.workflows import QueuedStart, enqueue_workflow
from .._error import DBOSException
from .._registry import queues as _queues
from .._registry import registry as _registry
from .._registry.queues import QueueRateLimit, QueueSpec
from .._registry.registry import FunctionInfo
from .queue_settings import QueueSettings

if TYPE_CHECKING:
    from .operations import Caller

R = TypeVar("R")
P = ParamSpec("P")


def workflow_to_enqueue(func_or_name: Callable[..., Any] | str) -> FunctionInfo:
    """The workflow a decorated function (or a step or transaction, run as a workflow of its
    own) or a registered workflow name stands for; an unknown name is refused."""
    if isinstance(func_or_name, str):
        info = _registry.get_function(func_or_name)
        if info is None or info.kind != "workflow":
            raise DBOSException(
                f"No workflow named {func_or_name!r} is registered in this process; nothing "
                "was enqueued (enqueue_workflow_with_options enqueues a workflow that only "
                "other processes implement)"
            )
        return info
    return _registry.startable(_registry.info_of(func_or_name))


def enqueue_on(
    queue_name: str,
    func: Callable[..., Any] | str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    partition_key: str | None = None,
    declared: bool = False,
) -> WorkflowHandle[Any]:
    """Enqueue on the named queue: `declared` when it is known to be declared in this
    process's code, else it must be registered (checked before anything is written, unless
    a recovered workflow replays this enqueue: its record stands)."""
    info = workflow_to_enqueue(func)
    bound = _registry.bound_args(func, args) if not isinstance(func, str) else args
    options = assigned_enqueue_options() or EnqueueOptions()
    if partition_key is not None:
        if not isinstance(partition_key, str) or not partition_key:
            raise ValueError(f"partition_key must be a non-empty string, got {partition_key!r}")
        options = replace(options, queue_partition_key=partition_key)

    def check() -> QueueSpec:
        spec = _queues.get_queue(queue_name) if declared else None
        if spec is None:
            spec = require_queue(get_runtime(), queue_name)
        check_duplication_policy(options.duplication_policy, options.deduplication_id)
        check_partition_options(
            spec,
            options.queue_partition_key,
            options.deduplication_id,
            seed_key=partition_key is not None,
        )
        return spec

    return enqueue_workflow(info, bound, kwargs, QueuedStart(queue_name, options, check))


class Queue(QueueSettings):
    """A queue of workflows. Declared in code (`Queue(name, ...)` at import time, in every
    process that runs its work) or registered at run time (`DBOS.register_queue`, which
    returns one); both enqueue and dispatch alike.

    `concurrency` (or `global_concurrency`) bounds the workflows of this queue running at once
    across all processes, `worker_concurrency` those running in one process, and `limiter`
    (`{"limit": n, "period": seconds}`) the starts in any window of `period` seconds, across all
    processes. `partition_concurrency`, `partition_worker_concurrency` and `partition_limiter`
    bound each partition (the `queue_partition_key` of SetEnqueueOptions) alike, and make the
    queue partitioned: every enqueue then names its partition. Lower `priority` (set with
    SetEnqueueOptions) runs first. The deprecated `partition_queue=True` applies every limit
    per partition instead (upstream's meaning: `concurrency=2` is two per partition).
    """

    def __init__(
        self,
        name: str,
        concurrency: int | None = None,
        limiter: QueueRateLimit | None = None,
        *,
        worker_concurrency: int | None = None,
        global_concurrency: int | None = None,
        partition_concurrency: int | None = None,
        partition_worker_concurrency: int | None = None,
        partition_limiter: QueueRateLimit | None = None,
        polling_interval_sec: float = 1.0,
        priority_enabled: bool = False,
        partition_queue: bool = False,
    ) -> None:
        self._spec = _queues.make_spec(
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
        )
        self._caller = None
        _queues.register_queue(self._spec)

    @classmethod
    def _registered(cls, spec: QueueSpec, caller: Caller) -> Queue:
        """A registered queue, read from `caller`'s system database (not declared in code)."""
        queue = cls.__new__(cls)
        queue._spec = spec
        queue._caller = caller
        return queue

    @property
    def name(self) -> str:
        return self._spec.name

    # Typed like the function enqueued (its arguments checked, the handle's result its return
    # type, awaited for an `async def`); with `partition_key=` only the result type is kept,
    # because a keyword of the queue's own cannot sit between `P.args` and `P.kwargs`.
    @overload
    def enqueue(
        self,
        func: Callable[..., Coroutine[Any, Any, R]],
        *args: Any,
        partition_key: str,
        **kwargs: Any,
    ) -> WorkflowHandle[R]: ...

    @overload
    def enqueue(
        self, func: Callable[..., R], *args: Any, partition_key: str, **kwargs: Any
    ) -> WorkflowHandle[R]: ...

    @overload
    def enqueue(
        self, func: Callable[P, Coroutine[Any, Any, R]], *args: P.args, **kwargs: P.kwargs
    ) -> WorkflowHandle[R]: ...

    @overload
    def enqueue(
        self, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs
    ) -> WorkflowHandle[R]: ...

    def enqueue(  # type: ignore[misc]  # a workflow's own `partition_key` would be the queue's
        self,
        func: Callable[..., Any],
        *args: Any,
        partition_key: str | None = None,
        **kwargs: Any,
    ) -> WorkflowHandle[Any]:
        """Record `func(*args, **kwargs)` on this queue and return its handle at once.

        `partition_key` (the seed's spelling; also `SetEnqueueOptions(queue_partition_key=)`)
        is the queue's business and never reaches the workflow."""
        if self._caller is not None and not self._caller.runs_workflows:
            raise DBOSException(
                f"Cannot enqueue on queue {self.name} from a client-bound Queue object. "
                "Use DBOSClient.enqueue instead."
            )
        return enqueue_on(
            self.name,
            func,
            args,
            kwargs,
            partition_key=partition_key,
            declared=self._caller is None,
        )

    @overload
    async def enqueue_async(
        self,
        func: Callable[..., Coroutine[Any, Any, R]],
        *args: Any,
        partition_key: str,
        **kwargs: Any,
    ) -> WorkflowHandleAsync[R]: ...

    @overload
    async def enqueue_async(
        self, func: Callable[..., R], *args: Any, partition_key: str, **kwargs: Any
    ) -> WorkflowHandleAsync[R]: ...

    @overload
    async def enqueue_async(
        self, func: Callable[P, Coroutine[Any, Any, R]], *args: P.args, **kwargs: P.kwargs
    ) -> WorkflowHandleAsync[R]: ...

    @overload
    async def enqueue_async(
        self, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs
    ) -> WorkflowHandleAsync[R]: ...

    async def enqueue_async(  # type: ignore[misc]  # as enqueue
        self,
        func: Callable[..., Any],
        *args: Any,
        partition_key: str | None = None,
        **kwargs: Any,
    ) -> WorkflowHandleAsync[Any]:
        if active_workflow() is not None:
            # In a workflow the step number is taken now, in call order (its own event loop
            # may block for the one insert).
            return WorkflowHandleAsync(
                self.enqueue(func, *args, partition_key=partition_key, **kwargs)
            )
        handle = await off_loop(
            lambda: self.enqueue(func, *args, partition_key=partition_key, **kwargs)
        )
        return WorkflowHandleAsync(handle)

    def __repr__(self) -> str:
        return f"Queue({self.name!r})"

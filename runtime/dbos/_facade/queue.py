"""`Queue`: durable queues of workflows, with global and per-process concurrency, a global rate
limit, priorities, deduplication and partitions (one at a time per key, in order)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any, ParamSpec, TypeVar, overload

from .._core.checkpoint import active_workflow
from .._core.context import EnqueueOptions, assigned_enqueue_options
from .._core.handles import WorkflowHandle, WorkflowHandleAsync
from .._core.offload import off_loop
from .._core.workflows import QueuedStart, enqueue_workflow
from .._registry import decorators as _decorators
from .._registry import queues as _queues
from .._registry import registry as _registry
from .._registry.queues import QueueRateLimit

R = TypeVar("R")
P = ParamSpec("P")


class Queue:
    """A queue of workflows; declare it at import time, in every process that runs its work.

    `concurrency` bounds the workflows of this queue running at once across all processes,
    `worker_concurrency` those running in one process, and `limiter` (`{"limit": n, "period":
    seconds}`) the starts in any window of `period` seconds, across all processes. Lower
    `priority` (set with SetEnqueueOptions) runs first. Workflows enqueued with one
    `partition_key` run one at a time, in enqueue order; different keys run side by side.
    """

    def __init__(
        self,
        name: str,
        concurrency: int | None = None,
        limiter: QueueRateLimit | None = None,
        *,
        worker_concurrency: int | None = None,
        priority_enabled: bool = False,
        partition_queue: bool = False,
        polling_interval_sec: float = 1.0,
    ) -> None:
        self._spec = _queues.make_spec(
            name,
            concurrency,
            limiter,
            worker_concurrency,
            priority_enabled,
            partition_queue,
            polling_interval_sec,
        )
        _queues.register_queue(self._spec)

    @property
    def name(self) -> str:
        return self._spec.name

    @property
    def concurrency(self) -> int | None:
        return self._spec.concurrency

    @property
    def worker_concurrency(self) -> int | None:
        return self._spec.worker_concurrency

    @property
    def limiter(self) -> QueueRateLimit | None:
        spec = self._spec
        if spec.limit is None or spec.period is None:
            return None
        return {"limit": spec.limit, "period": spec.period}

    @property
    def priority_enabled(self) -> bool:
        return self._spec.priority_enabled

    @property
    def partition_queue(self) -> bool:
        return self._spec.partition_queue

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
        info = _registry.startable(_decorators.info_of(func))
        options = assigned_enqueue_options() or EnqueueOptions()
        if partition_key is not None:
            if not isinstance(partition_key, str) or not partition_key:
                raise ValueError(f"partition_key must be a non-empty string, got {partition_key!r}")
            options = replace(options, queue_partition_key=partition_key)
        handle = enqueue_workflow(
            info, _decorators.bound_args(func, args), kwargs, QueuedStart(self.name, options)
        )
        return handle

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

"""The durable calls a generated workflow makes explicitly, one per kind of boundary.

Decorated code reaches the checkpoint core through a wrapper per function. Generated code calls
a module-level step, transaction or child workflow through :func:`direct_call`, bound once when
the function is defined (the call site packs the arguments; no wrapper frame, no lookup); the
other boundaries (a method through ``self``, a call spread over several lines, ``DBOS.sleep``
and the like) through the functions below, which read the registration (``__dbos_info__``: the
registered name, the user's function, its options) off the function they are given. Names,
step numbers and records are the core's, so decorated and generated code recover each other's
workflows.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Protocol, cast

from .._core import events as _events
from .._core import messages as _messages
from .._core import streams as _streams
from .._core.aio import run_step_async
from .._core.aio_workflows import call_workflow_async
from .._core.checkpoint import StepOptions, run_step
from .._core.sleeping import durable_sleep, durable_sleep_async
from .._core.transactions import run_transaction
from .._core.waiting import run_call
from .._core.workflows import call_workflow
from .._core.workflows import start_workflow as _start_workflow
from .._registry.registry import FunctionInfo, bound_args, info_of, startable


class Queue(Protocol):
    """What :func:`enqueue` needs of the ``Queue`` a generated call site passes (the facade's
    ``dbos.Queue``): named here, not imported, so that ``_compiled`` stays below the facade."""

    def enqueue(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...

    async def enqueue_async(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...


def _info(func: Callable[..., Any], kind: str) -> tuple[FunctionInfo, tuple[Any, ...]]:
    """The registration behind ``func`` and, for a bound method, its ``self``."""
    info = info_of(func)
    if info.kind != kind:
        raise TypeError(f"{info.name!r} is a {info.kind}, not a {kind}")
    owner = getattr(func, "__self__", None)
    return info, (owner,) if owner is not None else ()


Packed = Callable[[tuple[Any, ...], dict[str, Any]], Any]


def direct_call(decorated: Callable[..., Any]) -> Packed:
    """What a generated call site of a module-level decorated function calls, with the
    arguments already packed: the core's entry point with the registration bound in (closed
    over, so nothing is looked up per call and no ``*args`` are re-packed)."""
    info = info_of(decorated)
    name, func = info.name, info.func
    if info.kind == "step":
        options = cast(StepOptions, info.step_options)
        if info.is_async:

            def step_async_call(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
                return run_step_async(name, func, args, kwargs, options)

            return step_async_call

        def step_call(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            return run_step(name, func, args, kwargs, options)

        return step_call
    if info.kind == "transaction":
        level = info.isolation_level or "SERIALIZABLE"

        def transaction_call(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            return run_transaction(name, func, args, kwargs, level)

        return transaction_call
    return partial(call_workflow_async if info.is_async else call_workflow, info)


def step(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``func(*args, **kwargs)`` as the next step of the running workflow."""
    info, owner = _info(func, "step")
    return run_step(info.name, info.func, owner + args, kwargs, info.step_options)  # type: ignore[arg-type]


async def step_async(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    info, owner = _info(func, "step")
    return await run_step_async(info.name, info.func, owner + args, kwargs, info.step_options)  # type: ignore[arg-type]


def transaction(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``func`` in one database transaction that commits with its checkpoint."""
    info, owner = _info(func, "transaction")
    level = info.isolation_level or "SERIALIZABLE"
    return run_transaction(info.name, info.func, owner + args, kwargs, level)


def child(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A child workflow, run to completion (its ID derived from the parent's step)."""
    info, owner = _info(func, "workflow")
    return call_workflow(info, owner + args, kwargs)


async def child_async(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    info, owner = _info(func, "workflow")
    return await call_workflow_async(info, owner + args, kwargs)


def start_workflow(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A child workflow started in the background (as ``DBOS.start_workflow``); its handle."""
    info = startable(info_of(func))  # a step or transaction: its one-operation workflow
    return _start_workflow(info, bound_args(func, args), kwargs)


def enqueue(queue: Queue, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``func`` recorded on ``queue`` (the queue's own checks and options apply)."""
    return queue.enqueue(func, *args, **kwargs)


async def enqueue_async(queue: Queue, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await queue.enqueue_async(func, *args, **kwargs)


def sleep(seconds: float) -> None:
    durable_sleep(seconds)


async def sleep_async(seconds: float) -> None:
    await durable_sleep_async(seconds)


def send(destination_id: str, message: Any, topic: str | None = None, **options: Any) -> None:
    _messages.send(
        [_messages.SendMessage(destination_id, message, topic, options.get("idempotency_key"))],
        serialization_type=options.get("serialization_type"),
        send_to_forks=bool(options.get("send_to_forks")),
    )


def recv(topic: str | None = None, timeout_seconds: float = 60) -> Any:
    return run_call(_messages.Receive(topic, timeout_seconds))


def set_event(key: str, value: Any, serialization_type: Any = None) -> None:
    _events.set_event(key, value, serialization_type)


def get_event(workflow_id: str, key: str, timeout_seconds: float = 60) -> Any:
    return run_call(_events.GetEvent(workflow_id, key, timeout_seconds))


def write_stream(key: str, value: Any, serialization_type: Any = None) -> None:
    _streams.write_stream(key, value, serialization_type)


def close_stream(key: str) -> None:
    _streams.close_stream(key)

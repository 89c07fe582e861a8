"""`@DBOS.workflow()`, `@DBOS.step()` and `@DBOS.dbos_class()`: registration plus thin wrappers
that hand each call to the checkpoint core."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

from .._core.checkpoint import StepOptions, run_step
from .._core.workflows import call_workflow
from . import registry as _registry
from .queues import INTERNAL_QUEUE
from .registry import FunctionInfo
from .schedules import ScheduleSpec, register_schedule, validate_cron

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T", bound=type)


def _takes_self(func: Callable[..., Any]) -> bool:
    try:
        params = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return False
    return bool(params) and params[0] in ("self", "cls")


def _unwrap(func: Any) -> Callable[..., Any]:
    if isinstance(func, (staticmethod, classmethod)):
        raise TypeError(
            "Put @DBOS.workflow()/@DBOS.step() below @staticmethod/@classmethod, "
            "directly on the function"
        )
    if not callable(func):
        raise TypeError(f"DBOS decorators apply to functions, not {type(func).__name__}")
    return cast(Callable[..., Any], func)


def workflow(name: str | None = None, max_recovery_attempts: int | None = 100) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        target = _unwrap(func)
        is_async = inspect.iscoroutinefunction(target)
        info = FunctionInfo(
            name=name or target.__qualname__,
            kind="workflow",
            func=target,
            is_async=is_async,
            takes_self=_takes_self(target),
            max_recovery_attempts=max_recovery_attempts,
        )
        _registry.register_function(info)
        wrapper: Callable[..., Any]
        if is_async:

            @functools.wraps(target)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                from .._core.aio import call_workflow_async

                return await call_workflow_async(info, args, kwargs)

            wrapper = async_wrapper
        else:

            @functools.wraps(target)
            def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
                return call_workflow(info, args, kwargs)

            wrapper = sync_wrapper
        setattr(wrapper, "__dbos_info__", info)  # noqa: B010 - read back by info_of()
        info.wrapper = wrapper
        return cast(F, wrapper)

    return decorate


def step(
    name: str | None = None,
    *,
    retries_allowed: bool = False,
    interval_seconds: float = 1.0,
    max_attempts: int = 3,
    backoff_rate: float = 2.0,
) -> Callable[[F], F]:
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    if interval_seconds < 0 or backoff_rate <= 0:
        raise ValueError("interval_seconds must be >= 0 and backoff_rate > 0")
    options: StepOptions = {
        "retries_allowed": retries_allowed,
        "interval_seconds": interval_seconds,
        "max_attempts": max_attempts,
        "backoff_rate": backoff_rate,
    }

    def decorate(func: F) -> F:
        target = _unwrap(func)
        is_async = inspect.iscoroutinefunction(target)
        info = FunctionInfo(
            name=name or target.__qualname__,
            kind="step",
            func=target,
            is_async=is_async,
            takes_self=_takes_self(target),
            step_options=dict(options),
        )
        _registry.register_function(info)
        step_name = info.name
        wrapper: Callable[..., Any]
        if is_async:

            @functools.wraps(target)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                from .._core.aio import run_step_async

                return await run_step_async(step_name, target, args, kwargs, options)

            wrapper = async_wrapper
        else:

            @functools.wraps(target)
            def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
                return run_step(step_name, target, args, kwargs, options)

            wrapper = sync_wrapper
        setattr(wrapper, "__dbos_info__", info)  # noqa: B010 - read back by info_of()
        info.wrapper = wrapper
        return cast(F, wrapper)

    return decorate


def transaction(isolation_level: str = "SERIALIZABLE", name: str | None = None) -> Callable[[F], F]:
    from .._db.application import ISOLATION_LEVELS

    if isolation_level not in ISOLATION_LEVELS:
        raise ValueError(
            f"isolation_level must be one of {', '.join(ISOLATION_LEVELS)}, got {isolation_level!r}"
        )

    def decorate(func: F) -> F:
        from .._core.transactions import run_transaction

        target = _unwrap(func)
        if inspect.iscoroutinefunction(target):
            raise TypeError("@DBOS.transaction() functions must be synchronous")
        info = FunctionInfo(
            name=name or target.__qualname__,
            kind="transaction",
            func=target,
            is_async=False,
            takes_self=_takes_self(target),
        )
        _registry.register_function(info)
        tx_name = info.name

        @functools.wraps(target)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return run_transaction(tx_name, target, args, kwargs, isolation_level)

        setattr(wrapper, "__dbos_info__", info)  # noqa: B010 - read back by info_of()
        info.wrapper = wrapper
        return cast(F, wrapper)

    return decorate


def dbos_class(class_name: str | None = None) -> Callable[[T], T]:
    """Give a class a stable registered name, so recovery can find its methods' `self`/`cls`."""

    def decorate(cls: T) -> T:
        name = class_name or cls.__qualname__
        _registry.register_class(name, cls)
        cls._dbos_class_name = name  # type: ignore[attr-defined]
        return cls

    return decorate


def scheduled(cron: str, queue: Any = None, catch_up: int = 0) -> Callable[[F], F]:
    """`@DBOS.scheduled(cron)` above `@DBOS.workflow()`: run the workflow at every tick, with
    `(scheduled_time, actual_time)`. An invalid expression is refused here, at import time."""
    expression = validate_cron(cron)
    if isinstance(catch_up, bool) or not isinstance(catch_up, int) or catch_up < 0:
        raise ValueError(f"catch_up must be a number of ticks >= 0, got {catch_up!r}")
    queue_name = INTERNAL_QUEUE if queue is None else str(getattr(queue, "name", queue))

    def decorate(func: F) -> F:
        info = getattr(func, "__dbos_info__", None)
        if not isinstance(info, FunctionInfo) or info.kind != "workflow":
            raise TypeError(
                f"@DBOS.scheduled({cron!r}) goes above @DBOS.workflow(), on a workflow; "
                f"{getattr(func, '__qualname__', func)!r} is not one"
            )
        try:
            inspect.signature(info.func).bind(*([None] * (3 if info.takes_self else 2)))
        except TypeError:
            raise TypeError(
                f"Scheduled workflow {info.name!r} must take (scheduled_time, actual_time)"
            ) from None
        register_schedule(ScheduleSpec(info.name, expression, queue_name, catch_up))
        return func

    return decorate


def info_of(func: Callable[..., Any]) -> FunctionInfo:
    """The registration behind a decorated function (bound methods included)."""
    target = getattr(func, "__func__", func)
    info = getattr(target, "__dbos_info__", None)
    if not isinstance(info, FunctionInfo):
        raise TypeError(
            f"{getattr(func, '__qualname__', func)!r} is not decorated with "
            "@DBOS.workflow() or @DBOS.step()"
        )
    return info


def bound_args(func: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Prepend `self`/`cls` when a bound method is passed to start_workflow."""
    owner = getattr(func, "__self__", None)
    return (owner, *args) if owner is not None else args


__all__ = [
    "transaction",
    "bound_args",
    "dbos_class",
    "info_of",
    "scheduled",
    "step",
    "workflow",
]

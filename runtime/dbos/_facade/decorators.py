"""`@DBOS.workflow()`, `@DBOS.step()`, `@DBOS.transaction()`, `@DBOS.scheduled()` and
`@DBOS.dbos_class()`: registration in `_registry` plus thin wrappers that hand each call to the
checkpoint core. They live in the facade, above `_core`, because they call into it; `_registry`
below `_core` holds only the names they register."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .._core.auth import authorized, needs_roles
from .._core.checkpoint import (
    StepOptions,
    active_workflow,
    check_step_options,
    check_timeout_value,
    run_step,
)
from .._core.formats import check_serialization_type
from .._core.workflows import call_workflow
from .._error import DBOSWorkflowFunctionNotFoundError
from .._registry import registry as _registry
from .._registry.cron import CronError, check_expression
from .._registry.queues import INTERNAL_QUEUE
from .._registry.registry import FunctionInfo
from .._registry.roles import roles_set_below
from .._registry.schedules import ScheduleSpec, register_schedule

if TYPE_CHECKING:
    from .._db.application import ApplicationDatabase
    from .._db.async_application import AsyncDatabase

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T", bound=type)


def _takes_self(func: Callable[..., Any]) -> bool:
    try:
        params = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return False
    return bool(params) and params[0] in ("self", "cls")


def _unwrap(func: Any) -> tuple[Callable[..., Any], Callable[[Any], Any]]:
    """The function under a decorator, and how to wrap the result back: a decorator placed
    above `@staticmethod` or `@classmethod` decorates the function inside and returns the same
    kind of method, so either order works."""
    if isinstance(func, staticmethod):
        return func.__func__, staticmethod
    if isinstance(func, classmethod):
        return cast(Callable[..., Any], func.__func__), classmethod
    if not callable(func):
        raise TypeError(f"DBOS decorators apply to functions, not {type(func).__name__}")
    return cast(Callable[..., Any], func), _as_is


def _as_is(wrapper: Any) -> Any:
    return wrapper


def _bind(info: FunctionInfo, wrapper: Callable[..., Any], rewrap: Callable[[Any], Any]) -> Any:
    """The decorated function: its registration readable from it (`info_of`), a step or
    transaction also startable as a workflow of its own, the method kind restored."""
    setattr(wrapper, "__dbos_info__", info)  # noqa: B010 - read back by info_of()
    setattr(wrapper, "dbos_function_name", info.name)  # noqa: B010 - upstream's public attribute
    info.wrapper = wrapper
    info.required_roles = roles_set_below(info.func)
    if info.kind != "workflow":
        _register_temporary_workflow(info, wrapper)
    return rewrap(wrapper)


def _check_isolation(isolation_level: str) -> None:
    from .._db.application import ISOLATION_LEVELS

    if isolation_level not in ISOLATION_LEVELS:
        raise ValueError(
            f"isolation_level must be one of {', '.join(ISOLATION_LEVELS)}, got {isolation_level!r}"
        )


def _register_transaction(
    target: Callable[..., Any],
    rewrap: Callable[[Any], Any],
    name: str | None,
    isolation_level: str,
    is_async: bool,
) -> FunctionInfo:
    info = FunctionInfo(
        name=name or target.__qualname__,
        kind="transaction",
        func=target,
        is_async=is_async,
        takes_self=_takes_self(target) or rewrap is classmethod,
        isolation_level=isolation_level,
    )
    _registry.register_function(info)
    return info


def _register_temporary_workflow(operation: FunctionInfo, call: Callable[..., Any]) -> None:
    """A step or transaction started on its own runs as a workflow of one operation, registered
    under a name of its own so that recovery in another process finds it too."""
    run: Callable[..., Any]
    if operation.is_async:

        async def run_async(*args: Any, **kwargs: Any) -> Any:
            return await call(*args, **kwargs)

        run = run_async
    else:

        def run_sync(*args: Any, **kwargs: Any) -> Any:
            return call(*args, **kwargs)

        run = run_sync
    setattr(run, "__signature__", inspect.signature(operation.func))  # noqa: B010 - for check_arguments
    temporary = FunctionInfo(
        name=_registry.temporary_workflow_name(operation.name),
        kind="workflow",
        func=run,
        is_async=operation.is_async,
        takes_self=operation.takes_self,
    )
    _registry.register_function(temporary)
    temporary.wrapper = run


def workflow(
    name: str | None = None,
    max_recovery_attempts: int | None = 100,
    serialization_type: Any = None,
) -> Callable[[F], F]:
    chosen = check_serialization_type(serialization_type)  # refused here, where it is written

    def decorate(func: F) -> F:
        target, rewrap = _unwrap(func)
        is_async = inspect.iscoroutinefunction(target)
        info = FunctionInfo(
            name=name or target.__qualname__,
            kind="workflow",
            func=target,
            is_async=is_async,
            takes_self=_takes_self(target) or rewrap is classmethod,
            max_recovery_attempts=max_recovery_attempts,
            serialization_type=None if chosen is None else chosen.value,
        )
        _registry.register_function(info)
        wrapper: Callable[..., Any]
        if is_async:

            @functools.wraps(target)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                from .._core.aio_workflows import call_workflow_async

                return await call_workflow_async(info, args, kwargs)

            wrapper = async_wrapper
        else:

            @functools.wraps(target)
            def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
                return call_workflow(info, args, kwargs)

            wrapper = sync_wrapper
        return cast(F, _bind(info, wrapper, rewrap))

    return decorate


def step(
    name: str | None = None,
    *,
    retries_allowed: bool = False,
    interval_seconds: float = 1.0,
    max_attempts: int = 3,
    backoff_rate: float = 2.0,
    should_retry: Callable[[Exception], Any] | None = None,
    timeout_seconds: float | None = None,
    preemptible: bool = False,
) -> Callable[[F], F]:
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    if interval_seconds < 0 or backoff_rate <= 0:
        raise ValueError("interval_seconds must be >= 0 and backoff_rate > 0")
    if should_retry is not None and not callable(should_retry):
        raise TypeError(f"should_retry must be a function of the exception, got {should_retry!r}")
    if timeout_seconds is not None:
        check_timeout_value(timeout_seconds, "@DBOS.step()")
    options: StepOptions = {
        "retries_allowed": retries_allowed,
        "interval_seconds": interval_seconds,
        "max_attempts": max_attempts,
        "backoff_rate": backoff_rate,
        "should_retry": should_retry,
        "timeout_seconds": timeout_seconds,
        "preemptible": preemptible,
    }

    def decorate(func: F) -> F:
        target, rewrap = _unwrap(func)
        is_async = inspect.iscoroutinefunction(target)
        info = FunctionInfo(
            name=name or target.__qualname__,
            kind="step",
            func=target,
            is_async=is_async,
            takes_self=_takes_self(target) or rewrap is classmethod,
            step_options=dict(options),
        )
        check_step_options(info.name, options, is_async)
        _registry.register_function(info)
        step_name = info.name
        wrapper: Callable[..., Any]
        if is_async:

            @functools.wraps(target)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                from .._core.aio import run_step_async

                if needs_roles(info) and active_workflow() is not None:
                    with authorized(info):
                        return await run_step_async(step_name, target, args, kwargs, options)
                return await run_step_async(step_name, target, args, kwargs, options)

            wrapper = async_wrapper
        else:

            @functools.wraps(target)
            def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
                if needs_roles(info) and active_workflow() is not None:
                    with authorized(info):  # in a workflow; a plain call elsewhere
                        return run_step(step_name, target, args, kwargs, options)
                return run_step(step_name, target, args, kwargs, options)

            wrapper = sync_wrapper
        return cast(F, _bind(info, wrapper, rewrap))

    return decorate


def transaction(
    isolation_level: str = "SERIALIZABLE",
    name: str | None = None,
    database: ApplicationDatabase | None = None,
) -> Callable[[F], F]:
    """`database`: a datasource's, else the application database."""
    _check_isolation(isolation_level)

    def decorate(func: F) -> F:
        from .._core.transactions import run_transaction

        target, rewrap = _unwrap(func)
        if inspect.iscoroutinefunction(target):
            raise TypeError("@DBOS.transaction() functions must be synchronous")
        info = _register_transaction(target, rewrap, name, isolation_level, is_async=False)
        tx_name = info.name

        @functools.wraps(target)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if needs_roles(info):
                with authorized(info):
                    return run_transaction(tx_name, target, args, kwargs, isolation_level, database)
            return run_transaction(tx_name, target, args, kwargs, isolation_level, database)

        return cast(F, _bind(info, wrapper, rewrap))

    return decorate


def async_transaction(
    isolation_level: str, name: str | None, database: AsyncDatabase
) -> Callable[[F], F]:
    """A transaction of an `AsyncSQLAlchemyDatasource`: an `async def` function."""
    _check_isolation(isolation_level)

    def decorate(func: F) -> F:
        from .._core.async_transactions import run_transaction_async

        target, rewrap = _unwrap(func)
        if not inspect.iscoroutinefunction(target):
            raise TypeError("Transactions of an AsyncSQLAlchemyDatasource must be `async def`")
        info = _register_transaction(target, rewrap, name, isolation_level, is_async=True)
        tx_name = info.name

        @functools.wraps(target)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            if needs_roles(info):
                with authorized(info):
                    return await run_transaction_async(
                        tx_name, target, args, kwargs, isolation_level, database
                    )
            return await run_transaction_async(
                tx_name, target, args, kwargs, isolation_level, database
            )

        return cast(F, _bind(info, wrapper, rewrap))

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
    """`@DBOS.scheduled(cron)` above `@DBOS.workflow()` (or `@DBOS.step()`, `@DBOS.transaction()`:
    each tick then runs it as a workflow of its own): run the function at every tick, with
    `(scheduled_time, actual_time)`. A bad expression, or a function that is not registered, is
    refused here, at import time."""
    if isinstance(catch_up, bool) or not isinstance(catch_up, int) or catch_up < 0:
        raise ValueError(f"catch_up must be a number of ticks >= 0, got {catch_up!r}")
    queue_name = INTERNAL_QUEUE if queue is None else str(getattr(queue, "name", queue))

    def decorate(func: F) -> F:
        info = getattr(getattr(func, "__func__", func), "__dbos_info__", None)
        if not isinstance(info, FunctionInfo):
            name = getattr(func, "__qualname__", repr(func))
            raise DBOSWorkflowFunctionNotFoundError(
                "<NONE>",
                f"{name} is not a registered workflow function: @DBOS.scheduled goes above "
                "@DBOS.workflow() (or @DBOS.step(), @DBOS.transaction())",
            )
        try:
            expression = check_expression(cron)
        except CronError as exc:
            raise ValueError(
                f'Invalid crontab "{cron}" for scheduled function {info.name}: {exc}'
            ) from None
        if info.takes_self:
            raise TypeError(
                f"@DBOS.scheduled applies to functions, and {info.name!r} is a method; "
                "schedule a class method with DBOS.create_schedule instead"
            )
        try:
            inspect.signature(info.func).bind(None, None)
        except TypeError:
            raise TypeError(
                f"Scheduled function {info.name!r} must take (scheduled_time, actual_time)"
            ) from None
        workflow = _registry.startable(info)
        register_schedule(ScheduleSpec(info.name, workflow.name, expression, queue_name, catch_up))
        return func

    return decorate


__all__ = [
    "transaction",
    "dbos_class",
    "scheduled",
    "step",
    "workflow",
]

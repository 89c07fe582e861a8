"""Operations defined once and served four ways: by `DBOS` and by `DBOSClient`, sync and async.

An operation is a function whose first parameter is a `Caller`: who runs it. `DBOS`'s caller is
the process's launched runtime, and a call from inside a workflow is recorded as a step (so a
replay gets the recorded answer); a `DBOSClient`'s caller is the client's own connection and
records nothing. The `operation(...)` descriptor binds the function to the caller of the class it
is read from, with the function's signature minus the caller (mypy sees it, and so does `help`);
`.asynchronous()` derives the `_async` variant, which runs the blocking part on the runtime's
I/O threads, never on the event loop, and inside a workflow takes its step number at call time.

Operations that wait (a result, an event, a stream) are not written this way: their async
variants wait on the notifier without holding a thread, so they have bodies of their own.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from .._core.aio import run_step_async
from .._core.checkpoint import active_workflow, run_step
from .._core.context import current_step
from .._core.offload import off_loop, refuse_on_loop
from .._core.runtime import Runtime, get_runtime
from .._error import DBOSException

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")


class Caller:
    """Who runs an operation. Subclasses say where the runtime comes from."""

    records_steps = False  # a call from inside a workflow is recorded as a step
    runs_workflows = False  # resumed and forked workflows may run on this process's threads
    # A sync call made on a running event loop is refused (it would stall the loop), naming
    # its `_async` variant, as upstream's `DBOS` does (its client does not).
    refuses_running_loop = False

    @property
    def runtime(self) -> Runtime:
        raise NotImplementedError

    def handle_runtime(self) -> Runtime | None:
        """What a handle this caller returns reads: None for the launched runtime (whose
        handles record their reads as steps in a workflow), else this caller's own."""
        return self.runtime

    def app_databases(self) -> list[Any]:
        """The application databases whose transaction outputs belong to workflows."""
        app_db = self.runtime.app_db
        return [app_db] if app_db is not None else []

    async def off_loop(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """`fn(...)` on the runtime's I/O threads with this task's context, off the loop."""
        runtime = self.runtime
        call = functools.partial(fn, *args, **kwargs)
        context = contextvars.copy_context()
        return await asyncio.wrap_future(runtime.io_pool.submit(context.run, call))


class LaunchedCaller(Caller):
    """The `DBOS` of this process: its launched runtime, read at call time."""

    records_steps = True
    runs_workflows = True
    refuses_running_loop = True

    @property
    def runtime(self) -> Runtime:
        return get_runtime()

    def handle_runtime(self) -> Runtime | None:
        return None

    async def off_loop(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        return await off_loop(fn, *args, **kwargs)


LAUNCHED = LaunchedCaller()


class ClientCaller(Caller):
    """A `DBOSClient`'s connection, opened by `connect` on first use when the client is lazy."""

    def __init__(self, connect: Callable[[], Runtime]) -> None:
        self._connect = connect
        self._runtime: Runtime | None = None
        self._lock = threading.Lock()

    @property
    def runtime(self) -> Runtime:
        runtime = self._runtime
        if runtime is None:
            with self._lock:
                if self._runtime is None:
                    self._runtime = self._connect()
                runtime = self._runtime
        return runtime

    @property
    def connected(self) -> Runtime | None:
        """The runtime if the client has connected, without connecting."""
        return self._runtime

    def app_databases(self) -> list[Any]:
        return []  # a client knows no application database


def refuse_in_transaction(step_name: str) -> None:
    """A `DBOS` call recorded as a step is refused inside a transaction's body, whose only
    durable effect is its own commit (as upstream refuses it)."""
    step = current_step.get()
    if step is not None and step.in_transaction:
        raise DBOSException(f"Invalid call to `{step_name}` inside a transaction")


def caller_for(owner: type, instance: object | None) -> Caller | None:
    """The caller of `owner` (a class serving operations) for `instance` (None: the class);
    None when only an instance has one (a `DBOSClient`'s connection)."""
    caller_of: Callable[[object | None], Caller | None] = owner._caller_of  # type: ignore[attr-defined]
    return caller_of(instance)


def _unbound(op: Operation[Any, Any] | AsyncOperation[Any, Any]) -> Callable[..., Any]:
    """Read from a class whose instances call (`DBOSClient.list_workflows`): a function taking
    the instance first, as a plain method would be."""

    def unbound(instance: Any, *args: Any, **kwargs: Any) -> Any:
        caller = caller_for(type(instance), instance)
        if caller is None:
            raise TypeError(f"{op.name} needs an instance of the class it was read from")
        return op.bind(caller)(*args, **kwargs)

    unbound.__name__ = unbound.__qualname__ = op.name
    unbound.__doc__ = op.func.__doc__
    return unbound


@functools.cache
def _public_signature(
    func: Callable[..., Any], present: Callable[..., Any] | None
) -> inspect.Signature | None:
    """The signature a caller sees: `func`'s without the caller, returning what `present`
    makes of its result. Computed once per operation: every `DBOS.send` binds anew, and
    `inspect.signature` was about half of a send's Python work (16 of 35 us)."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    params = list(signature.parameters.values())[1:]  # without the caller
    signature = signature.replace(parameters=params)
    if present is not None:  # what the caller gets is what `present` makes of the result
        returned = inspect.signature(present).return_annotation
        signature = signature.replace(return_annotation=returned)
    return signature


def _dress(
    bound: Callable[..., Any],
    func: Callable[..., Any],
    name: str,
    present: Callable[..., Any] | None = None,
) -> None:
    bound.__name__ = name
    bound.__qualname__ = name
    bound.__doc__ = func.__doc__
    bound.__wrapped__ = func  # type: ignore[attr-defined]
    signature = _public_signature(func, present)
    if signature is not None:
        bound.__signature__ = signature  # type: ignore[attr-defined]


class Operation(Generic[P, R]):
    """A synchronous operation; see the module docstring. `present(caller, result, *args,
    **kwargs)` turns what the function returned (and a step recorded) into what the caller gets,
    e.g. an ID into a handle."""

    def __init__(
        self,
        step_name: str | None,
        func: Callable[Concatenate[Caller, P], Any],
        present: Callable[..., R] | None = None,
        *,
        blocking: bool = True,
        waits: bool = False,
    ) -> None:
        self.step_name = step_name
        self.func = func
        self.present = present
        self.blocking = blocking  # False: returns at once (an async iterator, say)
        self.waits = waits  # its whole body is a durable wait: see `operation`
        self.name = func.__name__.lstrip("_")

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: object | None, owner: type) -> Callable[P, R]:
        caller = caller_for(owner, instance)
        return _unbound(self) if caller is None else self.bind(caller)

    def bind(self, caller: Caller) -> Callable[P, R]:
        func, step_name, present, name = self.func, self.step_name, self.present, self.name
        refuses_running_loop = caller.refuses_running_loop and self.blocking
        waits = self.waits

        def bound(*args: P.args, **kwargs: P.kwargs) -> R:
            if refuses_running_loop:
                refuse_on_loop(name)
            if step_name is not None and caller.records_steps:
                refuse_in_transaction(step_name)
            if step_name is not None and caller.records_steps and active_workflow() is not None:
                result = run_step(step_name, func, (caller, *args), kwargs, waits=waits)
            else:
                result = func(caller, *args, **kwargs)
            return result if present is None else present(caller, result, *args, **kwargs)

        _dress(bound, func, self.name, present)
        return bound

    @overload
    def asynchronous(self) -> AsyncOperation[P, R]: ...

    @overload
    def asynchronous(self, present: Callable[..., S]) -> AsyncOperation[P, S]: ...

    def asynchronous(self, present: Callable[..., Any] | None = None) -> AsyncOperation[P, Any]:
        """The `_async` variant: the same function on the runtime's I/O threads; `present`
        replaces this operation's own (an async handle instead of a sync one)."""
        func = self.func

        async def off_the_loop(caller: Caller, /, *args: P.args, **kwargs: P.kwargs) -> Any:
            return await caller.off_loop(func, caller, *args, **kwargs)

        off_the_loop.__name__ = func.__name__
        off_the_loop.__doc__ = func.__doc__
        return AsyncOperation(
            self.step_name,
            off_the_loop,
            present or self.present,
            signature_of=func,
            waits=self.waits,
        )


class AsyncOperation(Generic[P, R]):
    """An async operation: a coroutine function run on the caller's event loop (which awaits
    the blocking parts elsewhere). Inside a workflow its step number is taken when the call
    starts, so calls gathered in a workflow are numbered in the order they were made."""

    def __init__(
        self,
        step_name: str | None,
        func: Callable[Concatenate[Caller, P], Awaitable[Any]],
        present: Callable[..., R] | None = None,
        *,
        signature_of: Callable[..., Any] | None = None,
        waits: bool = False,
    ) -> None:
        self.step_name = step_name
        self.func = func
        self.present = present
        self.signature_of = signature_of or func
        self.waits = waits
        self.name = func.__name__.lstrip("_") + "_async"

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: object | None, owner: type) -> Callable[P, Coroutine[Any, Any, R]]:
        caller = caller_for(owner, instance)
        return _unbound(self) if caller is None else self.bind(caller)

    def bind(self, caller: Caller) -> Callable[P, Coroutine[Any, Any, R]]:
        func, step_name, present, waits = self.func, self.step_name, self.present, self.waits

        async def bound(*args: P.args, **kwargs: P.kwargs) -> R:
            if step_name is not None and caller.records_steps:
                refuse_in_transaction(step_name)
            if step_name is not None and caller.records_steps and active_workflow() is not None:
                result = await run_step_async(
                    step_name, func, (caller, *args), kwargs, {}, waits=waits
                )
            else:
                result = await func(caller, *args, **kwargs)
            return result if present is None else present(caller, result, *args, **kwargs)

        _dress(bound, self.signature_of, self.name, present)
        return bound


@overload
def operation(
    step_name: str | None, *, blocking: bool = True, waits: bool = False
) -> Callable[[Callable[Concatenate[Caller, P], R]], Operation[P, R]]: ...


@overload
def operation(
    step_name: str | None,
    present: Callable[..., R],
    *,
    blocking: bool = True,
    waits: bool = False,
) -> Callable[[Callable[Concatenate[Caller, P], Any]], Operation[P, R]]: ...


def operation(
    step_name: str | None,
    present: Callable[..., Any] | None = None,
    *,
    blocking: bool = True,
    waits: bool = False,
) -> Callable[[Callable[Concatenate[Caller, P], Any]], Operation[P, Any]]:
    """Declare an operation; `step_name` is the step it is recorded as when `DBOS` calls it
    from a workflow (None: never recorded, e.g. an operation that records its own steps).
    `blocking=False`: it returns at once (an async iterator), so `DBOS` may call it on a
    running event loop; every other sync operation there is refused (it would stall it).
    `waits=True`: its body is a durable wait and nothing before it that may not run twice,
    so in a workflow its step may park the workflow (`run_step(waits=True)`, parking.py)."""

    def declare(func: Callable[Concatenate[Caller, P], Any]) -> Operation[P, Any]:
        return Operation(step_name, func, present, blocking=blocking, waits=waits)

    return declare


@overload
def async_operation(
    step_name: str | None, *, waits: bool = False
) -> Callable[[Callable[Concatenate[Caller, P], Awaitable[R]]], AsyncOperation[P, R]]: ...


@overload
def async_operation(
    step_name: str | None, present: Callable[..., R], *, waits: bool = False
) -> Callable[[Callable[Concatenate[Caller, P], Awaitable[Any]]], AsyncOperation[P, R]]: ...


def async_operation(
    step_name: str | None, present: Callable[..., Any] | None = None, *, waits: bool = False
) -> Callable[[Callable[Concatenate[Caller, P], Awaitable[Any]]], AsyncOperation[P, Any]]:
    """Declare an async operation with a body of its own (one that waits without a thread;
    `waits` as for `operation`)."""

    def declare(func: Callable[Concatenate[Caller, P], Awaitable[Any]]) -> AsyncOperation[P, Any]:
        return AsyncOperation(step_name, func, present, waits=waits)

    return declare

"""A queue's settings as properties of `Queue`, and their setters for registered queues.

A queue declared in code answers from its declaration; its settings change in code. A queue
registered in the system database (`DBOS.register_queue`, `DBOSClient.register_queue`) answers
from its row, read at each access, so every process sees the same settings; its setters change
the row, checked against the others in one transaction (a stale copy in this process cannot let
a contradictory setting through), and every dispatcher applies them from its next claim.

Each setting has upstream's four spellings: `queue.x`, `await queue.get_x_async()`,
`queue.set_x(v)` and `await queue.set_x_async(v)`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from .._error import DBOSException
from .._registry.queues import (
    QueueRateLimit,
    QueueSpec,
    make_spec,
    polling_interval,
    spec_from_row,
)

if TYPE_CHECKING:
    from .operations import Caller

T = TypeVar("T")


def _settings(spec: QueueSpec, **changes: Any) -> dict[str, Any]:
    """`make_spec`'s arguments for `spec` with `changes` (by argument name)."""
    limits = {
        "concurrency": spec.concurrency,
        "worker_concurrency": spec.worker_concurrency,
        "limiter": None if spec.limit is None else {"limit": spec.limit, "period": spec.period},
        "partition_concurrency": spec.partition_concurrency,
        "partition_worker_concurrency": spec.partition_worker_concurrency,
        "partition_limiter": (
            None
            if spec.partition_limit is None
            else {"limit": spec.partition_limit, "period": spec.partition_period}
        ),
        "priority_enabled": spec.priority_enabled,
        "partition_queue": spec.legacy_partitioned,
        "polling_interval_sec": spec.polling_interval_sec,
        "declared_in_code": spec.declared_in_code,
    }
    return limits | changes


def changed_spec(spec: QueueSpec, field: str, value: Any) -> QueueSpec:
    """`spec` with one setting changed, validated as a whole (upstream's rules and messages)."""
    if field in ("global_concurrency", "concurrency"):
        return make_spec(spec.name, **_settings(spec, concurrency=value))
    if field == "polling_interval_sec":
        return replace(spec, polling_interval_sec=polling_interval(value))
    if field == "priority_enabled":
        return replace(spec, priority_enabled=bool(value))
    if field == "partition_queue":
        if spec.has_partition_limits:
            raise DBOSException(
                f"Cannot set partition_queue on queue {spec.name}: it is partitioned by its "
                "partition_* limits. Clear those instead."
            )
        return make_spec(spec.name, **_settings(spec, partition_queue=bool(value)))
    return make_spec(spec.name, **_settings(spec, **{field: value}))


# Settings whose setters a queue registered with the deprecated `partition_queue=True` refuses:
# there every queue-wide limit applies per partition, so writing one would re-scope the others.
_RESCOPING = {
    "global_concurrency",
    "worker_concurrency",
    "limiter",
    "partition_concurrency",
    "partition_worker_concurrency",
    "partition_limiter",
}


def _reader(field: str) -> Callable[[QueueSpec], Any]:
    def read(spec: QueueSpec) -> Any:
        if field == "concurrency":
            return spec.concurrency
        if field in ("priority_enabled", "partition_queue", "polling_interval_sec"):
            return getattr(spec, field)
        return getattr(spec.limits, field)

    return read


class _Setting(Generic[T]):
    """`queue.x`: the setting, read from the database for a registered queue."""

    def __init__(self, field: str) -> None:
        self._read = _reader(field)

    @overload
    def __get__(self, obj: None, owner: type) -> _Setting[T]: ...

    @overload
    def __get__(self, obj: QueueSettings, owner: type) -> T: ...

    def __get__(self, obj: QueueSettings | None, owner: type) -> Any:
        if obj is None:
            return self
        return self._read(obj._current())


class _AsyncGetter(Generic[T]):
    """`await queue.get_x_async()`: the setting, read off the event loop."""

    def __init__(self, field: str) -> None:
        self._read = _reader(field)

    def __get__(
        self, obj: QueueSettings | None, owner: type
    ) -> Callable[[], Coroutine[Any, Any, T]]:
        read = self._read

        async def get_async() -> T:
            assert obj is not None
            return read(await obj._current_async())  # type: ignore[no-any-return]

        return get_async


class _Setter(Generic[T]):
    """`queue.set_x(value)`: change a registered queue's setting, in every process."""

    def __init__(self, field: str) -> None:
        self._field = field

    def __get__(self, obj: QueueSettings | None, owner: type) -> Callable[[T], None]:
        field = self._field

        def set_value(value: T) -> None:
            assert obj is not None
            obj._set(field, value)

        return set_value


class _AsyncSetter(Generic[T]):
    """`await queue.set_x_async(value)`: `set_x` off the event loop."""

    def __init__(self, field: str) -> None:
        self._field = field

    def __get__(
        self, obj: QueueSettings | None, owner: type
    ) -> Callable[[T], Coroutine[Any, Any, None]]:
        field = self._field

        async def set_async(value: T) -> None:
            assert obj is not None
            await obj._set_async(field, value)

        return set_async


class QueueSettings:
    """The settings half of `Queue` (see the module docstring)."""

    _spec: QueueSpec
    _caller: Caller | None  # set for a registered queue: whose database it lives in

    @property
    def database_backed_queue(self) -> bool:
        """True for a queue registered in the system database (its settings live there)."""
        return self._caller is not None

    def _current(self) -> QueueSpec:
        caller = self._caller
        if caller is None:
            return self._spec
        row = caller.runtime.sysdb.queue_table.queue_row(self._spec.name)
        if row is None:
            raise DBOSException(f"Queue {self._spec.name} not found in the database")
        self._spec = spec_from_row(row)
        return self._spec

    async def _current_async(self) -> QueueSpec:
        caller = self._caller
        if caller is None:
            return self._spec
        return await caller.off_loop(self._current)

    def _set(self, field: str, value: Any) -> None:
        caller = self._caller
        name = self._spec.name
        if caller is None:
            raise DBOSException(
                f"Cannot configure queue {name}: it is declared in code (Queue(...)); change "
                "its settings there, or register it with DBOS.register_queue to change them "
                "at run time"
            )

        def change(row: Any) -> dict[str, Any]:
            current = spec_from_row(row)
            if field in _RESCOPING and current.legacy_partitioned:
                raise DBOSException(
                    f"Cannot set {field} on queue {name}: it is registered with the deprecated "
                    "partition_queue option, under which concurrency, worker_concurrency, and "
                    "limiter apply per partition. Re-register the queue with the partition_* "
                    "limits instead."
                )
            return changed_spec(current, field, value).row()

        if caller.runtime.sysdb.queue_table.modify_queue(name, change) is None:
            raise DBOSException(f"Queue {name} not found in the database")
        self._current()

    async def _set_async(self, field: str, value: Any) -> None:
        caller = self._caller
        if caller is None:
            self._set(field, value)  # raises: nothing to write
            return
        await caller.off_loop(self._set, field, value)

    # concurrency and partition_queue are deprecated spellings (upstream's), kept working.
    concurrency: _Setting[int | None] = _Setting("concurrency")
    get_concurrency_async: _AsyncGetter[int | None] = _AsyncGetter("concurrency")
    set_concurrency: _Setter[int | None] = _Setter("concurrency")
    set_concurrency_async: _AsyncSetter[int | None] = _AsyncSetter("concurrency")
    global_concurrency: _Setting[int | None] = _Setting("global_concurrency")
    get_global_concurrency_async: _AsyncGetter[int | None] = _AsyncGetter("global_concurrency")
    set_global_concurrency: _Setter[int | None] = _Setter("global_concurrency")
    set_global_concurrency_async: _AsyncSetter[int | None] = _AsyncSetter("global_concurrency")
    worker_concurrency: _Setting[int | None] = _Setting("worker_concurrency")
    get_worker_concurrency_async: _AsyncGetter[int | None] = _AsyncGetter("worker_concurrency")
    set_worker_concurrency: _Setter[int | None] = _Setter("worker_concurrency")
    set_worker_concurrency_async: _AsyncSetter[int | None] = _AsyncSetter("worker_concurrency")
    limiter: _Setting[QueueRateLimit | None] = _Setting("limiter")
    get_limiter_async: _AsyncGetter[QueueRateLimit | None] = _AsyncGetter("limiter")
    set_limiter: _Setter[QueueRateLimit | None] = _Setter("limiter")
    set_limiter_async: _AsyncSetter[QueueRateLimit | None] = _AsyncSetter("limiter")
    partition_concurrency: _Setting[int | None] = _Setting("partition_concurrency")
    get_partition_concurrency_async: _AsyncGetter[int | None] = _AsyncGetter(
        "partition_concurrency"
    )
    set_partition_concurrency: _Setter[int | None] = _Setter("partition_concurrency")
    set_partition_concurrency_async: _AsyncSetter[int | None] = _AsyncSetter(
        "partition_concurrency"
    )
    partition_worker_concurrency: _Setting[int | None] = _Setting("partition_worker_concurrency")
    get_partition_worker_concurrency_async: _AsyncGetter[int | None] = _AsyncGetter(
        "partition_worker_concurrency"
    )
    set_partition_worker_concurrency: _Setter[int | None] = _Setter("partition_worker_concurrency")
    set_partition_worker_concurrency_async: _AsyncSetter[int | None] = _AsyncSetter(
        "partition_worker_concurrency"
    )
    partition_limiter: _Setting[QueueRateLimit | None] = _Setting("partition_limiter")
    get_partition_limiter_async: _AsyncGetter[QueueRateLimit | None] = _AsyncGetter(
        "partition_limiter"
    )
    set_partition_limiter: _Setter[QueueRateLimit | None] = _Setter("partition_limiter")
    set_partition_limiter_async: _AsyncSetter[QueueRateLimit | None] = _AsyncSetter(
        "partition_limiter"
    )
    priority_enabled: _Setting[bool] = _Setting("priority_enabled")
    get_priority_enabled_async: _AsyncGetter[bool] = _AsyncGetter("priority_enabled")
    set_priority_enabled: _Setter[bool] = _Setter("priority_enabled")
    set_priority_enabled_async: _AsyncSetter[bool] = _AsyncSetter("priority_enabled")
    partition_queue: _Setting[bool] = _Setting("partition_queue")
    get_partition_queue_async: _AsyncGetter[bool] = _AsyncGetter("partition_queue")
    set_partition_queue: _Setter[bool] = _Setter("partition_queue")
    set_partition_queue_async: _AsyncSetter[bool] = _AsyncSetter("partition_queue")
    polling_interval_sec: _Setting[float] = _Setting("polling_interval_sec")
    get_polling_interval_sec_async: _AsyncGetter[float] = _AsyncGetter("polling_interval_sec")
    set_polling_interval_sec: _Setter[float] = _Setter("polling_interval_sec")
    set_polling_interval_sec_async: _AsyncSetter[float] = _AsyncSetter("polling_interval_sec")

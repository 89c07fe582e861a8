"""Queues by name: their settings, the rules those settings obey, and the queues this process
declares in code.

A queue's settings are one `QueueSpec`, whether it was declared in code (`Queue(...)`, at
import time, outliving `DBOS.destroy()`) or registered at run time (`DBOS.register_queue`, a
row of the system database that every process reads). Both are validated here, with upstream
DBOS's rules and messages, before anything is written.

Scopes: `concurrency` (also spelled `global_concurrency`) and `limiter` bound the whole queue
across processes, `worker_concurrency` one process; `partition_concurrency`,
`partition_limiter` and `partition_worker_concurrency` bound each partition alike. Any
partition limit makes the queue partitioned. The deprecated `partition_queue=True` without
partition limits keeps the meaning upstream 2.x gave it: every limit of the queue applies per
partition instead (`concurrency=2` is two per partition), and none to the queue as a whole.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypedDict

from .._storable_text import require_storable

INTERNAL_QUEUE = "_dbos_internal_queue"
# A limit "not set", as the claim statements take it (a number no count reaches).
UNLIMITED = 2**31 - 1


class QueueRateLimit(TypedDict):
    """At most `limit` workflow starts in any `period` seconds (across all processes)."""

    limit: int
    period: float


@dataclass(frozen=True)
class QueueLimits:
    """A queue's limits, each at the scope it is enforced at (see the module docstring)."""

    global_concurrency: int | None
    worker_concurrency: int | None
    limit: int | None
    period: float | None
    partition_concurrency: int | None
    partition_worker_concurrency: int | None
    partition_limit: int | None
    partition_period: float | None

    @property
    def limiter(self) -> QueueRateLimit | None:
        return _limiter(self.limit, self.period)

    @property
    def partition_limiter(self) -> QueueRateLimit | None:
        return _limiter(self.partition_limit, self.partition_period)


def _limiter(limit: int | None, period: float | None) -> QueueRateLimit | None:
    if limit is None or period is None:
        return None
    return {"limit": limit, "period": period}


@dataclass(frozen=True)
class QueueSpec:
    """A queue's settings as stored (the columns of the `queues` table)."""

    name: str
    concurrency: int | None = None
    worker_concurrency: int | None = None
    limit: int | None = None
    period: float | None = None
    priority_enabled: bool = False
    partition_queue: bool = False  # partitioned: the deprecated flag, or any partition limit
    polling_interval_sec: float = 1.0
    partition_concurrency: int | None = None
    partition_worker_concurrency: int | None = None
    partition_limit: int | None = None
    partition_period: float | None = None
    declared_in_code: bool = True

    @property
    def has_partition_limits(self) -> bool:
        return (
            self.partition_concurrency is not None
            or self.partition_worker_concurrency is not None
            or self.partition_limit is not None
        )

    @property
    def legacy_partitioned(self) -> bool:
        """Registered with the deprecated `partition_queue=True`: every limit is per partition."""
        return self.partition_queue and not self.has_partition_limits

    @cached_property
    def limits(self) -> QueueLimits:
        if self.legacy_partitioned:
            return QueueLimits(
                None,
                None,
                None,
                None,
                self.concurrency,
                self.worker_concurrency,
                self.limit,
                self.period,
            )
        return QueueLimits(
            self.concurrency,
            self.worker_concurrency,
            self.limit,
            self.period,
            self.partition_concurrency,
            self.partition_worker_concurrency,
            self.partition_limit,
            self.partition_period,
        )

    @property
    def has_shared_budget(self) -> bool:
        """Claims must take turns across processes (a queue-wide concurrency or rate limit,
        or a partition's rate limit)."""
        limits = self.limits
        return (
            limits.global_concurrency is not None
            or limits.limit is not None
            or limits.partition_limit is not None
        )

    def row(self) -> dict[str, Any]:
        """The spec as the `queues` table's columns."""
        return {
            "name": self.name,
            "concurrency": self.concurrency,
            "worker_concurrency": self.worker_concurrency,
            "rate_limit_max": self.limit,
            "rate_limit_period_sec": self.period,
            "priority_enabled": self.priority_enabled,
            "partition_queue": self.partition_queue,
            "partition_concurrency": self.partition_concurrency,
            "partition_worker_concurrency": self.partition_worker_concurrency,
            "partition_rate_limit_max": self.partition_limit,
            "partition_rate_limit_period_sec": self.partition_period,
            "polling_interval_sec": self.polling_interval_sec,
            "declared_in_code": self.declared_in_code,
        }

    def describe(self) -> str:
        """The settings that are set, for messages and logs."""
        limits = self.limits
        parts = []
        for label, value in (
            ("global_concurrency", limits.global_concurrency),
            ("worker_concurrency", limits.worker_concurrency),
            ("limiter", limits.limiter),
            ("partition_concurrency", limits.partition_concurrency),
            ("partition_worker_concurrency", limits.partition_worker_concurrency),
            ("partition_limiter", limits.partition_limiter),
        ):
            if value is not None:
                parts.append(f"{label}={value}")
        if self.partition_queue:
            parts.append("partitioned")
        return ", ".join(parts) or "no limits"


def spec_from_row(row: Any) -> QueueSpec:
    """A spec from a `queues` row read with `sql.queue_definitions._QUEUE_COLUMNS`."""
    return QueueSpec(
        name=str(row[0]),
        concurrency=_int_or_none(row[1]),
        worker_concurrency=_int_or_none(row[2]),
        limit=_int_or_none(row[3]),
        period=None if row[4] is None else float(row[4]),
        priority_enabled=bool(row[5]),
        partition_queue=bool(row[6]),
        partition_concurrency=_int_or_none(row[7]),
        partition_worker_concurrency=_int_or_none(row[8]),
        partition_limit=_int_or_none(row[9]),
        partition_period=None if row[10] is None else float(row[10]),
        polling_interval_sec=float(row[11]) if row[11] is not None else 1.0,
        declared_in_code=bool(row[12]),
    )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


# ------------------------------------------------------------------ validation


def _count(field: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{field} must be an int or None, got {value!r}")
    if value < 1:
        raise ValueError(f"{field} must be at least 1, got {value}")
    return value


def _rate(field: str, limiter: Any) -> tuple[int | None, float | None]:
    if limiter is None:
        return None, None
    if (
        not isinstance(limiter, dict)
        or limiter.get("limit") is None
        or (limiter.get("period") is None)
    ):
        raise ValueError(f"{field} must specify both 'limit' and 'period', got {limiter!r}")
    unknown = set(limiter) - {"limit", "period"}
    if unknown:
        raise ValueError(f"{field} takes only 'limit' and 'period', got {sorted(unknown)}")
    limit = _count(f"{field}['limit']", limiter["limit"])
    period = limiter["period"]
    if isinstance(period, bool) or not isinstance(period, (int, float)):
        raise TypeError(f"{field}['period'] must be seconds, got {period!r}")
    if not math.isfinite(period) or period <= 0:
        raise ValueError(f"{field}['period'] must be > 0, got {period}")
    return limit, float(period)


def polling_interval(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"polling_interval_sec must be seconds, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"polling_interval_sec must be positive, got {value}")
    return float(value)


def make_spec(
    name: str,
    *,
    concurrency: Any = None,
    global_concurrency: Any = None,
    worker_concurrency: Any = None,
    limiter: Any = None,
    partition_concurrency: Any = None,
    partition_worker_concurrency: Any = None,
    partition_limiter: Any = None,
    priority_enabled: bool = False,
    partition_queue: bool = False,
    polling_interval_sec: Any = 1.0,
    declared_in_code: bool = True,
) -> QueueSpec:
    """Validate settings (upstream's rules, with its messages), naming the first bad one;
    nothing is declared or written before this passes."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"A queue needs a non-empty name, got {name!r}")
    require_storable(name, "A queue name")
    try:
        return _make_spec(
            name,
            concurrency,
            global_concurrency,
            worker_concurrency,
            limiter,
            partition_concurrency,
            partition_worker_concurrency,
            partition_limiter,
            bool(priority_enabled),
            bool(partition_queue),
            polling_interval_sec,
            declared_in_code,
        )
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"Queue {name!r}: {exc}") from None


def _make_spec(
    name: str,
    concurrency: Any,
    global_concurrency: Any,
    worker_concurrency: Any,
    limiter: Any,
    partition_concurrency: Any,
    partition_worker_concurrency: Any,
    partition_limiter: Any,
    priority_enabled: bool,
    partition_queue: bool,
    polling_interval_sec: Any,
    declared_in_code: bool,
) -> QueueSpec:
    if concurrency is not None and global_concurrency is not None:
        raise ValueError(
            "concurrency is deprecated in favor of global_concurrency; set only one of them"
        )
    partition_limits = (partition_concurrency, partition_worker_concurrency, partition_limiter)
    if partition_queue and any(v is not None for v in partition_limits):
        raise ValueError(
            "partition_queue is deprecated in favor of the partition_* limits; set only one of them"
        )
    if partition_queue and global_concurrency is not None:
        raise ValueError(
            "partition_queue applies every limit per partition, so it cannot be combined "
            "with global_concurrency; use partition_concurrency instead"
        )
    queue_concurrency = _count(
        "global_concurrency" if global_concurrency is not None else "concurrency",
        global_concurrency if global_concurrency is not None else concurrency,
    )
    worker = _count("worker_concurrency", worker_concurrency)
    p_conc = _count("partition_concurrency", partition_concurrency)
    p_worker = _count("partition_worker_concurrency", partition_worker_concurrency)
    limit, period = _rate("limiter", limiter)
    p_limit, p_period = _rate("partition_limiter", partition_limiter)
    _check_bounds(queue_concurrency, worker, p_conc, p_worker)
    return QueueSpec(
        name,
        concurrency=queue_concurrency,
        worker_concurrency=worker,
        limit=limit,
        period=period,
        priority_enabled=priority_enabled,
        partition_queue=partition_queue or any(v is not None for v in partition_limits),
        polling_interval_sec=polling_interval(polling_interval_sec),
        partition_concurrency=p_conc,
        partition_worker_concurrency=p_worker,
        partition_limit=p_limit,
        partition_period=p_period,
        declared_in_code=declared_in_code,
    )


def _check_bounds(
    concurrency: int | None, worker: int | None, p_conc: int | None, p_worker: int | None
) -> None:
    """A narrower limit above the wider one it sits inside could never bind."""

    def above(a: int | None, b: int | None) -> bool:
        return a is not None and b is not None and a > b

    if above(p_worker, p_conc):
        raise ValueError(
            "partition_concurrency must be greater than or equal to partition_worker_concurrency"
        )
    if above(p_worker, worker):
        raise ValueError(
            "worker_concurrency must be greater than or equal to partition_worker_concurrency"
        )
    if above(worker, concurrency):
        raise ValueError("concurrency must be greater than or equal to worker_concurrency")
    if above(p_conc, concurrency):
        raise ValueError(
            "global_concurrency must be greater than or equal to partition_concurrency"
        )
    if above(p_worker, concurrency):
        raise ValueError(
            "concurrency must be greater than or equal to partition_worker_concurrency"
        )


# ------------------------------------------------------------------ declared in code

_lock = threading.Lock()
_queues: dict[str, QueueSpec] = {INTERNAL_QUEUE: QueueSpec(INTERNAL_QUEUE)}
_listeners: list[Callable[[QueueSpec], None]] = []


class QueueRedeclared(ValueError):
    """A queue declared in code a second time (as upstream, even with the same settings: two
    declarations of one name are two owners of one queue, and one of them is a mistake)."""


def register_queue(spec: QueueSpec) -> None:
    """Declare a queue in code, once per name (until `forget_declared`)."""
    with _lock:
        existing = _queues.get(spec.name)
        if existing is not None:
            raise QueueRedeclared(
                f"Queue {spec.name} has already been declared ({existing.describe()}); "
                "declare each queue once, at module level"
            )
        _queues[spec.name] = spec
        listeners = list(_listeners)
    for listener in listeners:
        listener(spec)


def forget_declared(name: str | None = None) -> None:
    """Forget the queue declared in code by that name, or every one but the internal queue
    (`DBOS.destroy(destroy_registry=True)`, as upstream's test fixtures use between tests):
    it may be declared again."""
    with _lock:
        if name is not None:
            if name != INTERNAL_QUEUE:
                _queues.pop(name, None)
            return
        internal = _queues[INTERNAL_QUEUE]
        _queues.clear()
        _queues[INTERNAL_QUEUE] = internal


def on_declare(listener: Callable[[QueueSpec], None]) -> None:
    """Call `listener` with every queue declared from now on (a running dispatcher)."""
    with _lock:
        _listeners.append(listener)


def forget_listener(listener: Callable[[QueueSpec], None]) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def get_queue(name: str) -> QueueSpec | None:
    return _queues.get(name)


def all_queues() -> list[QueueSpec]:
    with _lock:
        return list(_queues.values())

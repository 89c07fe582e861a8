"""Declared queues by name. Like functions, queues are declared at import time and outlive
`DBOS.destroy()`; a queue declared twice must be declared the same way both times."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict

INTERNAL_QUEUE = "_dbos_internal_queue"


class QueueRateLimit(TypedDict):
    """At most `limit` workflow starts in any `period` seconds, across all processes."""

    limit: int
    period: float


@dataclass(frozen=True)
class QueueSpec:
    name: str
    concurrency: int | None = None
    worker_concurrency: int | None = None
    limit: int | None = None
    period: float | None = None
    priority_enabled: bool = False
    partition_queue: bool = False
    polling_interval_sec: float = 1.0

    @property
    def has_shared_budget(self) -> bool:
        """Claims must take turns across processes (global concurrency or a rate limit)."""
        return self.concurrency is not None or self.limit is not None


def _count(name: str, field: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"Queue {name!r}: {field} must be an int or None, got {value!r}")
    if value < 1:
        raise ValueError(f"Queue {name!r}: {field} must be at least 1, got {value}")
    return value


def make_spec(
    name: str,
    concurrency: Any,
    limiter: Any,
    worker_concurrency: Any,
    priority_enabled: bool,
    partition_queue: bool,
    polling_interval_sec: Any,
) -> QueueSpec:
    """Validate a declaration, naming the first bad setting."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"A queue needs a non-empty name, got {name!r}")
    concurrency = _count(name, "concurrency", concurrency)
    worker_concurrency = _count(name, "worker_concurrency", worker_concurrency)
    if concurrency is not None and worker_concurrency is not None:
        if worker_concurrency > concurrency:
            raise ValueError(
                f"Queue {name!r}: worker_concurrency ({worker_concurrency}) cannot exceed "
                f"concurrency ({concurrency})"
            )
    limit: int | None = None
    period: float | None = None
    if limiter is not None:
        if not isinstance(limiter, dict) or set(limiter) != {"limit", "period"}:
            raise ValueError(
                f"Queue {name!r}: limiter must be {{'limit': n, 'period': seconds}}, "
                f"got {limiter!r}"
            )
        limit = _count(name, "limiter['limit']", limiter["limit"])
        period = limiter["period"]
        if isinstance(period, bool) or not isinstance(period, (int, float)):
            raise TypeError(f"Queue {name!r}: limiter['period'] must be seconds, got {period!r}")
        if not math.isfinite(period) or period <= 0:
            raise ValueError(f"Queue {name!r}: limiter['period'] must be > 0, got {period}")
        period = float(period)
    if isinstance(polling_interval_sec, bool) or not isinstance(polling_interval_sec, (int, float)):
        raise TypeError(f"Queue {name!r}: polling_interval_sec must be seconds")
    if not polling_interval_sec > 0:
        raise ValueError(f"Queue {name!r}: polling_interval_sec must be > 0")
    return QueueSpec(
        name,
        concurrency,
        worker_concurrency,
        limit,
        period,
        bool(priority_enabled),
        bool(partition_queue),
        float(polling_interval_sec),
    )


_lock = threading.Lock()
_queues: dict[str, QueueSpec] = {INTERNAL_QUEUE: QueueSpec(INTERNAL_QUEUE)}


_listeners: list[Callable[[QueueSpec], None]] = []


def register_queue(spec: QueueSpec) -> None:
    """Declare a queue; the same declaration again is fine, a different one is refused."""
    with _lock:
        existing = _queues.get(spec.name)
        if existing is not None and existing != spec:
            raise ValueError(
                f"Queue {spec.name!r} is already declared with other settings "
                f"({_describe(existing)}); declare each queue once"
            )
        _queues[spec.name] = spec
        listeners = list(_listeners) if existing is None else []
    for listener in listeners:
        listener(spec)


def on_declare(listener: Callable[[QueueSpec], None]) -> None:
    """Call `listener` with every queue declared from now on (a running dispatcher)."""
    with _lock:
        _listeners.append(listener)


def forget_listener(listener: Callable[[QueueSpec], None]) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def _describe(spec: QueueSpec) -> str:
    parts = []
    for field in ("concurrency", "worker_concurrency", "limit", "period"):
        value = getattr(spec, field)
        if value is not None:
            parts.append(f"{field}={value}")
    return ", ".join(parts) or "no limits"


def get_queue(name: str) -> QueueSpec | None:
    return _queues.get(name)


def all_queues() -> list[QueueSpec]:
    with _lock:
        return list(_queues.values())

"""`@DBOS.scheduled` declarations. Like functions, they are made at import time and outlive
`DBOS.destroy()`, so a new launch fires them again; one declared after launch is handed to the
running scheduler at once (`on_declare`). The schedules themselves live in the system database
with those created at run time (see `_services/scheduler.py`): this is what the code declares."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ScheduleSpec:
    schedule_name: str  # the decorated function's registered name: ticks are sched-<name>-<time>
    workflow_name: str  # the workflow a tick starts (a step's or transaction's own workflow)
    cron: str  # checked by cron.check_expression
    queue_name: str
    catch_up: int  # after downtime, run at most this many of the ticks missed (0: none)


_lock = threading.Lock()
_schedules: dict[str, ScheduleSpec] = {}
_listeners: list[Callable[[ScheduleSpec], None]] = []


def register_schedule(spec: ScheduleSpec) -> None:
    with _lock:
        _schedules[spec.schedule_name] = spec
        listeners = list(_listeners)
    for listener in listeners:
        listener(spec)


def all_schedules() -> list[ScheduleSpec]:
    with _lock:
        return list(_schedules.values())


def unregister_schedule(name: str) -> None:
    """Stop firing a schedule from the next launch on (tests declare and drop their own)."""
    with _lock:
        _schedules.pop(name, None)


def on_declare(listener: Callable[[ScheduleSpec], None]) -> None:
    """Call `listener` with every schedule declared from now on (the running scheduler)."""
    with _lock:
        _listeners.append(listener)


def forget_listener(listener: Callable[[ScheduleSpec], None]) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)

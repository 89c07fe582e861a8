"""Cron schedules by workflow name. Like functions, schedules are declared at import time
(`@DBOS.scheduled`) and outlive `DBOS.destroy()`, so a new launch fires them again."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from croniter import croniter


@dataclass(frozen=True)
class ScheduleSpec:
    name: str  # the scheduled workflow's registered name
    cron: str
    queue_name: str
    catch_up: int  # after downtime, run at most this many of the ticks missed (0: none)

    @property
    def seconds_field(self) -> bool:
        return len(self.cron.split()) == 6

    def next_after(self, moment: datetime) -> datetime:
        """The first tick strictly after `moment` (timezone-aware UTC in and out)."""
        it = croniter(self.cron, moment, second_at_beginning=self.seconds_field)
        nxt: datetime = it.get_next(datetime)
        return nxt.replace(fold=0)

    def ticks_between(self, start: datetime, end: datetime, limit: int) -> list[datetime]:
        """The last `limit` ticks in (start, end]."""
        ticks: list[datetime] = []
        it = croniter(self.cron, end, second_at_beginning=self.seconds_field)
        if croniter.match(self.cron, end, second_at_beginning=self.seconds_field):
            ticks.append(end.replace(microsecond=0))
        while len(ticks) < limit:
            prev: datetime = it.get_prev(datetime)
            if prev <= start:
                break
            ticks.append(prev.replace(fold=0))
        return sorted(t for t in ticks if start < t <= end)


def validate_cron(cron: object) -> str:
    """The expression, or a ValueError naming it: 5 fields (minute first) or 6 (second first)."""
    if not isinstance(cron, str) or not cron.strip():
        raise ValueError(f"A cron schedule must be a non-empty string, got {cron!r}")
    fields = cron.split()
    if len(fields) not in (5, 6):
        raise ValueError(
            f"Invalid cron schedule {cron!r}: expected 5 fields (minute hour day month weekday) "
            "or 6 (second first)"
        )
    if not croniter.is_valid(cron, second_at_beginning=len(fields) == 6):
        raise ValueError(f"Invalid cron schedule {cron!r}")
    return " ".join(fields)


_lock = threading.Lock()
_schedules: dict[str, ScheduleSpec] = {}


def register_schedule(spec: ScheduleSpec) -> None:
    with _lock:
        _schedules[spec.name] = spec


def all_schedules() -> list[ScheduleSpec]:
    with _lock:
        return list(_schedules.values())


def unregister_schedule(name: str) -> None:
    """Stop firing a schedule from the next launch on (tests declare and drop their own)."""
    with _lock:
        _schedules.pop(name, None)

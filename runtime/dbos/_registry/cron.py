"""Cron expressions: what is a valid one, and when a schedule's ticks fall, in its timezone.

One definition for `@DBOS.scheduled`, schedules created at run time, the scheduler, backfills
and the admin tools. An expression has 5 fields (minute first) or 6 (second first); ticks are
timezone-aware datetimes in the schedule's zone (UTC unless it names one), so a daily schedule
in `America/New_York` fires at local midnight across daylight-saving changes, and each tick's
ISO form (the tail of its workflow ID) is a distinct instant even when a wall-clock time repeats.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from croniter import croniter


class CronError(ValueError):
    """An expression or a timezone that cannot define a schedule."""


def check_expression(expression: object) -> str:
    """The expression with its fields separated by single spaces, or a CronError naming it."""
    if not isinstance(expression, str) or not expression.strip():
        raise CronError(f"Invalid cron schedule: {expression!r} (expected a non-empty string)")
    normalized = " ".join(expression.split())
    if not croniter.is_valid(normalized, second_at_beginning=True):
        raise CronError(
            f"Invalid cron schedule: '{expression}' (expected 5 fields, minute hour day month "
            "weekday, or 6 with seconds first)"
        )
    return normalized


@functools.lru_cache(maxsize=256)
def zone(name: str | None) -> tzinfo:
    """The timezone of an IANA name (None: UTC), or a CronError naming it."""
    if name is None:
        return timezone.utc
    if not isinstance(name, str) or not name:
        raise CronError(f"Invalid timezone: {name!r}")
    try:
        return ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, or a malformed key (ValueError)
        raise CronError(f"Invalid timezone: '{name}'") from None


def as_aware(moment: datetime) -> datetime:
    """A naive datetime is read as UTC (upstream's rule for backfill windows)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Cron:
    """A checked expression in a timezone."""

    expression: str
    tz: tzinfo

    @classmethod
    def parse(cls, expression: object, timezone_name: str | None = None) -> Cron:
        return cls(check_expression(expression), zone(timezone_name))

    def _iter(self, start: datetime) -> croniter:
        return croniter(
            self.expression, as_aware(start).astimezone(self.tz), second_at_beginning=True
        )

    def _canonical(self, tick: datetime) -> datetime:
        """The tick as its instant in the zone (croniter may mark a tick `fold=1` whatever
        it is): equal instants give equal datetimes, hence equal workflow IDs."""
        return datetime.fromtimestamp(tick.timestamp(), self.tz)

    def next_after(self, moment: datetime) -> datetime:
        """The first tick strictly after `moment`."""
        return self._canonical(self._iter(moment).get_next(datetime))

    def ticks(self, after: datetime, until: datetime, limit: int) -> list[datetime]:
        """Ticks in (after, until], oldest first; at most `limit` + 1 of them, so a caller
        can tell a window that holds more than `limit` without walking all of it."""
        out: list[datetime] = []
        it = self._iter(after)
        end = as_aware(until)
        while len(out) <= limit:
            tick = self._canonical(it.get_next(datetime))
            if tick > end:
                break
            out.append(tick)
        return out

    def latest(self, after: datetime, until: datetime, count: int) -> list[datetime]:
        """The last `count` ticks in (after, until], oldest first: a long outage's catch-up
        walks back from its end, never through all of it."""
        out: list[datetime] = []
        if count <= 0:
            return out
        start = as_aware(after)
        # Ticks fall on whole seconds: walking back from the second after `until` (floored)
        # yields exactly the ticks at or before `until`.
        end = as_aware(until).replace(microsecond=0) + timedelta(seconds=1)
        it = self._iter(end)
        while len(out) < count:
            tick = self._canonical(it.get_prev(datetime))
            if tick <= start:
                break
            out.append(tick)
        out.reverse()
        return out

"""Durable time: the one clock that every recorded time and every durable timer reads.

Recorded times (a step's completion, a row's created/updated time, a sleep's wake-up time, a
workflow's deadline, a schedule's next tick) and the timers that wait for them read `now()` /
`now_ms()` here, never `time.time()`. Outside `dbos.testing.time_skipping()` this is the real
clock plus nothing: one module-global read per call, no lock. Inside it, `_offset_ns` moves
durable time ahead of real time in jumps (see `dbos.testing.time_skipping`).

What stays on real time, on purpose: liveness (heartbeats, takeover of silent executors: other
processes judge them by their own real clocks), retry backoff, polling intervals, connection
pools and timeouts of database calls. Those use `real_now_ms()` or `time.monotonic()`.

A durable wait (a workflow's `DBOS.sleep`, a recv or get_event timeout, the dispatcher waiting
for a delayed workflow, the scheduler waiting for a tick, the deadline watcher) sleeps through
`sleep()`/`sleep_async()`, naming the durable time it waits for (`until`) and who waits
(`owner`: a workflow ID or a service), so that a virtual clock can tell when every participant
is blocked and which timer is the earliest, and can wake them after a jump.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Protocol

# Durable time minus real time, in nanoseconds: 0 except inside time_skipping().
_offset_ns = 0


def now() -> float:
    """Durable time, in seconds since the epoch."""
    return time.time() + _offset_ns / 1e9


def now_ms() -> int:
    """Durable time, in milliseconds since the epoch (what rows record)."""
    return (time.time_ns() + _offset_ns) // 1_000_000


def utcnow() -> datetime:
    """Durable time as an aware UTC datetime (cron schedules)."""
    return datetime.fromtimestamp(now(), timezone.utc)


def real_now_ms() -> int:
    """Wall-clock time, for liveness that other processes judge by their own clocks."""
    return time.time_ns() // 1_000_000


class Sleepable(Protocol):
    """What a durable wait sleeps on: an `Alarm`, or a `Waiter` (which can be awaited too).
    Waking it ends the sleep early; the sleeper then looks again."""

    def wait(self, timeout: float | None) -> bool: ...

    def wake(self) -> None: ...

    def is_set(self) -> bool: ...


class AsyncSleepable(Sleepable, Protocol):
    async def wait_async(self, timeout: float | None) -> bool: ...


class Alarm(threading.Event):
    """A `threading.Event` that a durable wait of a service sleeps on."""

    def wake(self) -> None:
        self.set()


class Observer(Protocol):
    """A virtual clock watching the durable waits (installed by `time_skipping()`)."""

    def sleep(
        self, alarm: Sleepable, timeout: float | None, until: float | None, owner: object
    ) -> bool: ...

    async def sleep_async(
        self, alarm: AsyncSleepable, timeout: float | None, until: float | None, owner: object
    ) -> bool: ...


_observer: Observer | None = None


def sleep(
    alarm: Sleepable, timeout: float | None, *, until: float | None = None, owner: object = None
) -> bool:
    """`alarm.wait(timeout)` for a durable wait that ends by durable time `until` (None: it
    waits for an event only, `timeout` being a re-check interval). True when the alarm was set."""
    observer = _observer
    if observer is None:
        return alarm.wait(timeout)
    return observer.sleep(alarm, timeout, until, owner)


async def sleep_async(
    alarm: AsyncSleepable,
    timeout: float | None,
    *,
    until: float | None = None,
    owner: object = None,
) -> bool:
    """`sleep()` for async waiters."""
    observer = _observer
    if observer is None:
        return await alarm.wait_async(timeout)
    return await observer.sleep_async(alarm, timeout, until, owner)


def install(observer: Observer | None, offset_ns: int = 0) -> None:
    """Install (or with None, remove) the virtual clock; `time_skipping()` only."""
    global _observer, _offset_ns
    _observer = observer
    _offset_ns = offset_ns


def advance_to_ns(offset_ns: int) -> None:
    """Move durable time (the virtual clock's jump; never backwards while one is installed)."""
    global _offset_ns
    _offset_ns = max(offset_ns, _offset_ns)


def offset_ns() -> int:
    return _offset_ns

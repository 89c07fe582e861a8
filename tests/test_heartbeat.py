"""Takeover after a stall: a process that was not heard from itself does not judge the others.

In a database outage every process's heartbeat goes stale at once. The first process back must
not take over the others' live work (their steps would run twice); it waits until it has beaten
steadily for a whole bound, which gives the others the same time to be heard from.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from dbos import DBOS
from dbos._core.runtime import get_runtime
from dbos._db.records import now_ms
from dbos._services.heartbeat import Heartbeat

TIMEOUT_SEC = 2.0


@pytest.fixture
def launched(system_database_url: str) -> Iterator[Heartbeat]:
    DBOS.destroy()
    DBOS(
        config={
            "name": "heartbeat-test",
            "system_database_url": system_database_url,
            "executor_timeout_sec": TIMEOUT_SEC,
        }
    )
    DBOS.launch()
    yield next(s for s in get_runtime().services if isinstance(s, Heartbeat))
    DBOS.destroy()


def _instances() -> set[str]:
    everything = now_ms() + 10**9
    return {instance for instance, _ in get_runtime().sysdb.queues.stale_instances(everything)}


def _stall_next_beat(seconds: float) -> threading.Event:
    """The next heartbeat blocks, as one riding through a database outage does; the returned
    event is set when it has gone through."""
    sysdb = get_runtime().sysdb
    real_beat = sysdb.queues.heartbeat
    through = threading.Event()

    def stalled(*args: Any) -> None:
        sysdb.queues.heartbeat = real_beat  # type: ignore[method-assign]
        time.sleep(seconds)
        real_beat(*args)
        through.set()

    sysdb.queues.heartbeat = stalled  # type: ignore[method-assign]
    return through


def test_a_process_back_from_a_stall_waits_a_bound_before_taking_over(
    launched: Heartbeat,
) -> None:
    runtime = get_runtime()
    # Another process, heard from as our own beat stalls and silent since: stale once we are back.
    runtime.sysdb.queues.heartbeat("ghost.instance", "ghost", runtime.app_version, "elsewhere", 1)
    through = _stall_next_beat(1.5 * TIMEOUT_SEC)
    assert through.wait(5)
    time.sleep(0.5 * TIMEOUT_SEC)
    assert "ghost.instance" in _instances()  # not judged yet: we were silent ourselves
    deadline = time.monotonic() + 3 * TIMEOUT_SEC
    while "ghost.instance" in _instances() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "ghost.instance" not in _instances()  # judged once we had beaten for a bound


def test_a_steady_process_takes_over_a_silent_one_within_the_bound(launched: Heartbeat) -> None:
    runtime = get_runtime()
    runtime.sysdb.queues.heartbeat("ghost.instance", "ghost", runtime.app_version, "elsewhere", 1)
    heard_at = time.monotonic()
    while "ghost.instance" in _instances() and time.monotonic() < heard_at + 10:
        time.sleep(0.05)
    assert "ghost.instance" not in _instances()
    assert time.monotonic() - heard_at < TIMEOUT_SEC + 2.0

"""Many waiting workflows hold no threads: the deadlock of issue #23 is gone.

Before parking, each waiting sync workflow held a workflow thread; with more receivers than the
pool's threads, a sender started after them never got one. Here the receivers outnumber the
pool (1,000 against `max_executor_threads=64`; the slow variant: 20,000 against the default
4,096), all park, the thread count stays bounded, and the sender started last completes them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dbos import DBOS, Queue
from dbos._core.runtime import get_runtime


@DBOS.workflow()
def parks_until_go(i: int) -> str:
    return f"{i}:{DBOS.recv('go', timeout_seconds=3600)}"


@DBOS.workflow()
def releases_parked(workflow_ids: list[str]) -> int:
    for workflow_id in workflow_ids:
        DBOS.send(workflow_id, "go", "go")
    return len(workflow_ids)


def _launch(url: str, max_threads: int | None, park_after: float | None = None) -> None:
    DBOS.destroy()
    config: dict[str, object] = {
        "name": "parking-scale",
        "system_database_url": url,
        "log_level": "WARNING",
    }
    if max_threads is not None:
        config["max_executor_threads"] = max_threads
    if park_after is not None:
        config["park_waits_after_sec"] = park_after
    DBOS(config=config)  # type: ignore[arg-type]
    DBOS.launch()


@pytest.fixture
def cleanup() -> Iterator[None]:
    yield
    DBOS.destroy()


def _receivers_then_sender(count: int, thread_bound: int) -> None:
    threads_before = threading.active_count()
    handles = [DBOS.start_workflow(parks_until_go, i) for i in range(count)]
    parked = get_runtime().parked
    deadline = time.monotonic() + 600
    while len(parked) < count:
        assert time.monotonic() < deadline, f"only {len(parked)} of {count} parked"
        time.sleep(0.05)
    assert threading.active_count() - threads_before < thread_bound
    sender = DBOS.start_workflow(releases_parked, [h.workflow_id for h in handles])
    assert sender.get_result() == count
    assert [h.get_result() for h in handles] == [f"{i}:go" for i in range(count)]
    assert len(parked) == 0


@pytest.mark.timeout(300)
def test_more_receivers_than_threads_do_not_block_a_later_sender(
    system_database_url: str, cleanup: None
) -> None:
    _launch(system_database_url, max_threads=64)
    _receivers_then_sender(1000, thread_bound=64 + 4)
    assert get_runtime().pool.thread_count <= 64


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_twenty_thousand_receivers_do_not_block_a_later_sender(
    tmp_path: Path, cleanup: None
) -> None:
    """The issue's numbers, with the default pool; on SQLite only (a few minutes under load:
    the 1,000-receiver test above covers both backends)."""
    _launch(f"sqlite:///{tmp_path}/twenty_thousand.sqlite", max_threads=None)
    _receivers_then_sender(20_000, thread_bound=100)


@DBOS.workflow()
def trivial() -> str:
    return "done"


@pytest.mark.timeout(120)
def test_work_queued_behind_waits_makes_them_park_before_their_threshold(
    system_database_url: str, cleanup: None
) -> None:
    """Every thread held by a wait that would park only after its threshold: a workflow
    started then does not wait for that threshold (nor make the pool grow); the waits are
    woken and look again, and one parks and gives it its thread."""
    _launch(system_database_url, max_threads=4, park_after=60.0)
    receivers = []
    for i in range(4):  # one at a time: none sees another's start still queued, and parks
        receivers.append(DBOS.start_workflow(parks_until_go, i))
        time.sleep(0.3)  # napping toward a park a minute away
    parked = get_runtime().parked
    assert len(parked) == 0
    began = time.monotonic()
    assert DBOS.start_workflow(trivial).get_result() == "done"
    assert time.monotonic() - began < 10
    assert len(parked) >= 1  # as many as the queued work needed threads, not all of them
    assert get_runtime().pool.thread_count <= 4
    for handle in receivers:
        DBOS.send(handle.workflow_id, "go", "go")
    assert [h.get_result() for h in receivers] == [f"{i}:go" for i in range(4)]


unlimited = Queue("test_parking_scale.unlimited")


@pytest.mark.timeout(300)
def test_queued_receivers_beyond_the_threads_do_not_block_a_later_queued_sender(
    system_database_url: str, cleanup: None
) -> None:
    """A parked queued workflow keeps its queue slot but not its place among the process's
    workflows in flight (bounded by its threads): the queue goes on dequeuing."""
    _launch(system_database_url, max_threads=32)
    handles = [unlimited.enqueue(parks_until_go, i) for i in range(300)]
    sender = unlimited.enqueue(releases_parked, [h.workflow_id for h in handles])
    assert sender.get_result() == 300
    assert [h.get_result() for h in handles] == [f"{i}:go" for i in range(300)]
    assert get_runtime().pool.thread_count <= 32

"""The dispatcher's claims during a drain: a queue whose claims nothing bounds but the work it
holds is not claimed again for each workflow that finishes once a claim came back short (each
such claim found nothing); a queue this process had no room for is claimed again once it has."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from dbos import DBOS, DBOSClient, Queue
from dbos._core.runtime import get_runtime
from dbos._db.queue_store import ClaimRequest, ClaimResult

unbounded = Queue("test_drain_claims.unbounded")
slow_polling = Queue("test_drain_claims.slow_polling", polling_interval_sec=30)


@DBOS.workflow()
def echo(i: int) -> int:
    return i


@pytest.fixture
def client(system_database_url: str) -> Iterator[DBOSClient]:
    c = DBOSClient(system_database_url=system_database_url)
    yield c
    c.destroy()


def _count_claims(monkeypatch: pytest.MonkeyPatch, queue_name: str) -> list[int]:
    """The row count of every claim the dispatcher makes on `queue_name` from now on."""
    queues = get_runtime().sysdb.queues
    original = queues.claim
    sizes: list[int] = []

    def counting(request: ClaimRequest) -> ClaimResult:
        result = original(request)
        if request.queue_name == queue_name:
            sizes.append(len(result.rows))
        return result

    monkeypatch.setattr(queues, "claim", counting)
    return sizes


def test_a_drained_queue_is_not_claimed_again_for_each_finishing_workflow(
    dbos: None, client: DBOSClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = _count_claims(monkeypatch, unbounded.name)
    options: Any = {"workflow_name": "echo", "queue_name": unbounded.name}
    handles = client.enqueue_many(options, [(i,) for i in range(80)])
    assert [h.get_result() for h in handles] == list(range(80))
    time.sleep(0.3)  # any claim a finishing workflow would have set off
    assert sum(sizes) == 80
    # Before: one claim per finishing workflow (coalesced only while a claim ran), all empty.
    assert sizes.count(0) <= 2, sizes


@DBOS.step()
def pause(seconds: float) -> None:
    time.sleep(seconds)


@DBOS.workflow()
def nap(seconds: float) -> float:
    pause(seconds)
    return seconds


def test_work_enqueued_while_the_process_is_full_is_claimed_as_room_frees(
    system_database_url: str,
) -> None:
    """Two workflow threads, both busy when more work arrives: its claim is skipped for want
    of room, and the work still starts as they finish, not at the next poll (30 s here)."""
    DBOS.destroy()
    DBOS(
        config={
            "name": "test-app",
            "system_database_url": system_database_url,
            "max_executor_threads": 2,
        }
    )
    DBOS.launch()
    client = DBOSClient(system_database_url=system_database_url)
    try:
        time.sleep(0.3)  # the launch's first claim found the queue empty
        busy = [slow_polling.enqueue(nap, 0.5) for _ in range(2)]  # started here at once
        options: Any = {"workflow_name": "echo", "queue_name": slow_polling.name}
        started = time.monotonic()
        handles = client.enqueue_many(options, [(i,) for i in range(10)])
        assert [h.get_result() for h in busy] == [0.5, 0.5]
        assert [h.get_result() for h in handles] == list(range(10))
        assert time.monotonic() - started < 10
    finally:
        client.destroy()
        DBOS.destroy()

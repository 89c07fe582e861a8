"""Partitioned queues: per-partition concurrency (anywhere and per process) and rate limits,
upstream's legacy `partition_queue=True` scoping, fair service of a small partition behind a
large backlog, and the enqueue options a partitioned queue requires or refuses."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

import pytest

from dbos import DBOS, Queue, SetEnqueueOptions
from dbos.error import DBOSException

pytestmark = pytest.mark.through_pgbouncer

_lock = threading.Lock()
_now: dict[str, int] = defaultdict(int)
_peak: dict[str, int] = defaultdict(int)
_total_now = 0
_total_peak = 0
_starts: list[tuple[str, float]] = []
_done: list[str] = []


def _reset() -> None:
    global _total_now, _total_peak
    with _lock:
        _now.clear()
        _peak.clear()
        _starts.clear()
        _done.clear()
        _total_now = _total_peak = 0


@DBOS.step()
def part_occupy(key: str, seconds: float) -> None:
    global _total_now, _total_peak
    with _lock:
        _now[key] += 1
        _peak[key] = max(_peak[key], _now[key])
        _total_now += 1
        _total_peak = max(_total_peak, _total_now)
        _starts.append((key, time.monotonic()))
    try:
        time.sleep(seconds)
    finally:
        with _lock:
            _now[key] -= 1
            _total_now -= 1
            _done.append(key)


@DBOS.workflow()
def part_work(key: str, seconds: float) -> str:
    part_occupy(key, seconds)
    return key


def _enqueue(queue: str, key: str, seconds: float) -> object:
    with SetEnqueueOptions(queue_partition_key=key):
        return DBOS.enqueue_workflow(queue, part_work, key, seconds)


def test_partition_concurrency_bounds_each_partition(dbos: None) -> None:
    _reset()
    DBOS.register_queue("part.pc2", partition_concurrency=2, polling_interval_sec=0.1)
    handles = [_enqueue("part.pc2", key, 0.05) for key in "abc" for _ in range(6)]
    for handle in handles:
        handle.get_result()  # type: ignore[attr-defined]
    assert dict(_peak) == {"a": 2, "b": 2, "c": 2}  # two per partition, all side by side
    assert _total_peak > 2


def test_partition_concurrency_one_runs_each_partition_in_order(dbos: None) -> None:
    _reset()
    DBOS.register_queue("part.serial", partition_concurrency=1)
    handles = {key: [_enqueue("part.serial", key, 0.02) for _ in range(5)] for key in "xy"}
    for hs in handles.values():
        for handle in hs:
            handle.get_result()  # type: ignore[attr-defined]
        started = [
            h.get_status().dequeued_at  # type: ignore[attr-defined]
            for h in hs
        ]
        assert started == sorted(started)  # enqueue order within the partition
    assert dict(_peak) == {"x": 1, "y": 1}


def test_a_partitions_next_workflow_starts_when_the_previous_one_has_finished(
    dbos: None,
) -> None:
    """One at a time per partition: the next one is claimable once the previous one's outcome
    has committed, and the dispatcher wakes for it then, not at its next look (10 s here)."""
    _reset()
    DBOS.register_queue("part.chain", partition_concurrency=1, polling_interval_sec=10)
    began = time.monotonic()
    handles = [_enqueue("part.chain", "only", 0.0) for _ in range(8)]
    for handle in handles:
        handle.get_result()  # type: ignore[attr-defined]
    assert time.monotonic() - began < 5


def test_partition_worker_concurrency_bounds_each_partition_here(dbos: None) -> None:
    _reset()
    DBOS.register_queue(
        "part.pwc", worker_concurrency=4, partition_worker_concurrency=1, polling_interval_sec=0.1
    )
    handles = [_enqueue("part.pwc", key, 0.04) for _ in range(4) for key in "pq"]
    for handle in handles:
        handle.get_result()  # type: ignore[attr-defined]
    assert dict(_peak) == {"p": 1, "q": 1}


def test_partition_limiter_bounds_each_partitions_starts(dbos: None) -> None:
    _reset()
    DBOS.register_queue(
        "part.rate", partition_limiter={"limit": 2, "period": 1.0}, polling_interval_sec=0.1
    )
    began = time.monotonic()
    handles = [_enqueue("part.rate", key, 0.0) for _ in range(4) for key in "mn"]
    for handle in handles:
        handle.get_result()  # type: ignore[attr-defined]
    # The limiter bounds dequeues (each row's `dequeued_at`, stamped when it is claimed), not
    # when a body gets a thread, which a loaded machine may delay by any amount.
    rows = DBOS.list_workflows(queue_name="part.rate")
    assert len(rows) == 8
    for key in "mn":
        times = sorted(r.dequeued_at for r in rows if r.queue_partition_key == key)  # type: ignore[type-var]
        assert len(times) == 4
        # At most two starts of a partition in any window of one second.
        for i in range(len(times) - 2):
            assert times[i + 2] - times[i] >= 1000  # type: ignore[operator]
    assert time.monotonic() - began >= 0.95  # 4 per partition at 2 a second


def test_legacy_partition_queue_applies_concurrency_per_partition(dbos: None) -> None:
    """Upstream 2.x's `partition_queue=True, concurrency=2`: two per partition (the queue as
    a whole runs more), not two for the whole queue."""
    _reset()
    legacy = Queue("part.legacy", partition_queue=True, concurrency=2, polling_interval_sec=0.1)
    handles = []
    for key in "uvw":
        with SetEnqueueOptions(queue_partition_key=key):
            handles += [legacy.enqueue(part_work, key, 0.05) for _ in range(5)]
    for handle in handles:
        handle.get_result()
    assert dict(_peak) == {"u": 2, "v": 2, "w": 2}
    assert _total_peak > 2


def test_a_small_partition_is_not_starved_by_a_large_backlog(dbos: None) -> None:
    _reset()
    DBOS.register_queue(
        "part.fair", partition_concurrency=1, worker_concurrency=2, polling_interval_sec=0.1
    )
    busy = [_enqueue("part.fair", f"busy-{i}", 0.005) for i in range(2) for _ in range(60)]
    small = [_enqueue("part.fair", f"small-{i}", 0.005) for i in range(4)]
    for handle in small:
        handle.get_result()  # type: ignore[attr-defined]
    with _lock:
        busy_done = sum(1 for k in _done if k.startswith("busy"))
    # Served within their fair round: most of the earlier backlog still waits.
    assert busy_done < 60
    for handle in busy:
        handle.get_result()  # type: ignore[attr-defined]


def test_enqueue_options_a_partitioned_queue_requires_or_refuses(dbos: None) -> None:
    DBOS.register_queue("part.rules", partition_concurrency=1)
    DBOS.register_queue("part.plain")
    with pytest.raises(DBOSException, match="without a partition key"):
        DBOS.enqueue_workflow("part.rules", part_work, "k", 0.0)
    with pytest.raises(DBOSException, match="only use a partition key on a partition-enabled"):
        with SetEnqueueOptions(queue_partition_key="k"):
            DBOS.enqueue_workflow("part.plain", part_work, "k", 0.0)
    with pytest.raises(DBOSException, match="Deduplication is not supported"):
        with SetEnqueueOptions(queue_partition_key="k", deduplication_id="d"):
            DBOS.enqueue_workflow("part.rules", part_work, "k", 0.0)
    # The seed's spelling on a queue that is not partitioned: a key run one at a time.
    plain = Queue("part.seed_plain")
    assert plain.enqueue(part_work, "k", 0.0, partition_key="k").get_result() == "k"

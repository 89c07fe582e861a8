"""Queues on both backends: the seed's examples, limits, priority, partitions, deduplication,
listing, cancel and resume, enqueues from workflows, and bad declarations."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from conftest import query_system_sql

from dbos import DBOS, Queue, SetEnqueueOptions, SetWorkflowID, SetWorkflowTimeout
from dbos.error import (
    DBOSAwaitedWorkflowCancelledError,
    DBOSException,
    DBOSQueueDeduplicatedError,
)

pytestmark = pytest.mark.through_pgbouncer  # also through a transaction-mode PgBouncer

# The seed's examples, as written.
queue = Queue("task_queue", worker_concurrency=5)
rate_limited_queue = Queue("api_queue", limiter={"limit": 100, "period": 60})
user_queue = Queue("user_queue", worker_concurrency=10)


@DBOS.workflow()
def process_task(task_id: int) -> str:
    return f"Completed task {task_id}"


@DBOS.workflow()
def process_user_action(user_id: str, action: dict) -> str:
    return f"Processed {action} for {user_id}"


def test_the_seeds_queue_examples(dbos: None) -> None:
    handle = queue.enqueue(process_task, 123)
    assert handle.get_result() == "Completed task 123"
    assert rate_limited_queue.enqueue(process_task, 7).get_result() == "Completed task 7"
    # Actions for same user_id processed in order
    handle = user_queue.enqueue(
        process_user_action, "user_123", {"type": "update"}, partition_key="user_123"
    )
    assert handle.get_result() == "Processed {'type': 'update'} for user_123"
    status = DBOS.get_workflow_status(handle.workflow_id)
    assert status is not None and status.queue_partition_key == "user_123"
    assert status.queue_name == "user_queue"


# ------------------------------------------------------------------ limits


class Gauge:
    """How many bodies run at once, and the most seen."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.starts: list[tuple[str, float]] = []

    def enter(self, tag: str) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.starts.append((tag, time.monotonic()))

    def leave(self) -> None:
        with self.lock:
            self.now -= 1


gauge = Gauge()
per_worker = Queue("test_queues.per_worker", worker_concurrency=3)
global_limit = Queue("test_queues.global", concurrency=2)
limited = Queue("test_queues.limited", limiter={"limit": 4, "period": 1.0})
single = Queue("test_queues.single", worker_concurrency=1, priority_enabled=True)
# Claims one workflow ahead of its one slot (no priorities, no shared budget).
single_ahead = Queue("test_queues.single_ahead", worker_concurrency=1)
partitioned = Queue("test_queues.partitioned", worker_concurrency=6)
deduped = Queue("test_queues.deduped")
release = threading.Event()


@DBOS.step()
def occupy(tag: str, seconds: float) -> str:
    gauge.enter(tag)
    try:
        time.sleep(seconds)
    finally:
        gauge.leave()
    return tag


@DBOS.workflow()
def busy(tag: str, seconds: float) -> str:
    return occupy(tag, seconds)


@DBOS.step()
def hold_slot() -> None:
    release.wait(10)


@DBOS.workflow()
def blocker() -> str:
    hold_slot()
    return "released"


@pytest.fixture
def fresh_gauge() -> Iterator[Gauge]:
    global gauge
    gauge = Gauge()
    release.clear()
    yield gauge
    release.set()


def test_worker_concurrency_bounds_bodies_running_here(dbos: None, fresh_gauge: Gauge) -> None:
    handles = [per_worker.enqueue(busy, str(i), 0.05) for i in range(12)]
    assert [h.get_result() for h in handles] == [str(i) for i in range(12)]
    assert gauge.peak == 3


def test_global_concurrency_bounds_running_workflows(dbos: None, fresh_gauge: Gauge) -> None:
    handles = [global_limit.enqueue(busy, str(i), 0.05) for i in range(8)]
    assert [h.get_result() for h in handles] == [str(i) for i in range(8)]
    assert gauge.peak == 2


def test_the_rate_limit_bounds_starts_in_any_window(dbos: None) -> None:
    handles = [limited.enqueue(process_task, i) for i in range(10)]
    for h in handles:
        h.get_result()
    starts = sorted(s.dequeued_at for s in DBOS.list_workflows(queue_name="test_queues.limited"))
    assert len(starts) == 10
    for i, first in enumerate(starts):
        in_window = [t for t in starts[i:] if t < first + 1000]  # type: ignore[operator]
        assert len(in_window) <= 4, starts
    assert starts[-1] - starts[0] >= 1000  # type: ignore[operator]


def test_lower_priority_numbers_run_first_fifo_within_one(dbos: None, fresh_gauge: Gauge) -> None:
    first = single.enqueue(blocker)
    while not DBOS.list_queued_workflows(queue_name="test_queues.single", status="PENDING"):
        time.sleep(0.01)
    order = [("p5", 5), ("p1-a", 1), ("default", None), ("p3", 3), ("p1-b", 1)]
    handles = []
    for tag, priority in order:
        with SetEnqueueOptions(priority=priority):
            handles.append(single.enqueue(busy, tag, 0.0))
    release.set()
    assert first.get_result() == "released"
    for h in handles:
        h.get_result()
    assert [tag for tag, _ in gauge.starts] == ["default", "p1-a", "p1-b", "p3", "p5"]


def test_one_partition_runs_one_at_a_time_in_enqueue_order(dbos: None, fresh_gauge: Gauge) -> None:
    handles = []
    for i in range(4):
        for key in ("a", "b", "c"):
            handles.append(partitioned.enqueue(busy, f"{key}{i}", 0.03, partition_key=key))
    for h in handles:
        h.get_result()
    for key in ("a", "b", "c"):
        started = [tag for tag, _ in gauge.starts if tag[0] == key]
        assert started == [f"{key}{i}" for i in range(4)]
    # Keys ran side by side, each key alone: at most one body per key at a time.
    assert 1 < gauge.peak <= 3
    rows = query_system_sql(
        DBOS_URL[0],
        "SELECT queue_partition_key, started_at_epoch_ms, completed_at FROM "
        "{prefix}workflow_status WHERE queue_name = 'test_queues.partitioned' "
        "ORDER BY started_at_epoch_ms",
    )
    # A key's slot frees when its body ends, while the outcome's commit (`completed_at`) is
    # still under way: the next one may start those few milliseconds before it.
    commit_lag_ms = 200
    for key in ("a", "b", "c"):
        spans = [(r[1], r[2]) for r in rows if r[0] == key]
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert start >= end - commit_lag_ms, spans  # type: ignore[operator]


DBOS_URL: list[str] = [""]


@pytest.fixture(autouse=True)
def _remember_url(system_database_url: str) -> None:
    DBOS_URL[0] = system_database_url


# ------------------------------------------------------------------ deduplication


def test_a_deduplication_id_is_taken_while_queued_or_running(
    dbos: None, system_database_url: str, fresh_gauge: Gauge
) -> None:
    with SetEnqueueOptions(deduplication_id="user-42"):
        first = deduped.enqueue(blocker)
        with pytest.raises(DBOSQueueDeduplicatedError):
            deduped.enqueue(process_task, 1)
    rows = query_system_sql(
        system_database_url,
        "SELECT count(*) FROM {prefix}workflow_status WHERE queue_name = 'test_queues.deduped'",
    )
    assert rows == [(1,)]  # the refused enqueue wrote nothing
    release.set()
    assert first.get_result() == "released"
    with SetEnqueueOptions(deduplication_id="user-42"):
        assert deduped.enqueue(process_task, 2).get_result() == "Completed task 2"


# ------------------------------------------------------------------ listing, cancel, resume


def test_list_cancel_and_resume_queued_workflows(dbos: None, fresh_gauge: Gauge) -> None:
    running = single.enqueue(blocker)
    with SetWorkflowID("waiting-1"):
        waiting = single.enqueue(busy, "w1", 0.0)
    with SetWorkflowID("waiting-2"):
        single.enqueue(busy, "w2", 0.0)
    while not DBOS.list_queued_workflows(queue_name="test_queues.single", status="PENDING"):
        time.sleep(0.01)
    queued = DBOS.list_queued_workflows(queue_name="test_queues.single")
    assert [(w.workflow_id, w.status) for w in queued] == [
        (running.workflow_id, "PENDING"),
        ("waiting-1", "ENQUEUED"),
        ("waiting-2", "ENQUEUED"),
    ]
    DBOS.cancel_workflow("waiting-1")
    assert [w.workflow_id for w in DBOS.list_queued_workflows(status="ENQUEUED")] == ["waiting-2"]
    release.set()
    assert DBOS.retrieve_workflow("waiting-2").get_result() == "w2"
    with pytest.raises(DBOSAwaitedWorkflowCancelledError):
        waiting.get_result()
    assert [tag for tag, _ in gauge.starts] == ["w2"]  # the cancelled one never ran
    resumed = DBOS.resume_workflow("waiting-1")
    assert resumed.get_result() == "w1"
    status = DBOS.get_workflow_status("waiting-1")
    assert status is not None and status.queue_name == "test_queues.single"


# ------------------------------------------------------------------ from workflows


@DBOS.workflow()
def fan_out(n: int) -> list[str]:
    handles = [queue.enqueue(process_task, i) for i in range(n)]
    return [h.get_result() for h in handles]


def test_enqueue_from_a_workflow_is_recorded_and_replayed(dbos: None) -> None:
    with SetWorkflowID("fan"):
        assert fan_out(3) == [f"Completed task {i}" for i in range(3)]
    steps = DBOS.list_workflow_steps("fan")
    assert [(s["function_name"], s["child_workflow_id"]) for s in steps[:3]] == [
        ("process_task", f"fan-{i}") for i in (1, 2, 3)
    ]
    forked = DBOS.fork_workflow("fan", 4)  # replays the enqueues, reads their results again
    assert forked.get_result() == [f"Completed task {i}" for i in range(3)]
    assert len(DBOS.list_workflows(name="process_task")) == 3  # nothing enqueued twice


def test_a_timeout_set_at_enqueue_counts_from_the_dequeue(dbos: None, fresh_gauge: Gauge) -> None:
    # The timed workflow is claimed ahead while the blocker runs; its clock starts later.
    blocking = single_ahead.enqueue(blocker)
    with SetWorkflowTimeout(0.5):
        timed = single_ahead.enqueue(busy, "timed", 0.0)
    time.sleep(0.8)  # longer than its timeout, spent waiting in the queue
    release.set()
    assert blocking.get_result() == "released"
    assert timed.get_result() == "timed"
    with SetWorkflowTimeout(0.2):
        too_slow = single_ahead.enqueue(busy, "slow", 2.0)
    with pytest.raises(DBOSAwaitedWorkflowCancelledError):
        too_slow.get_result()


def test_a_queue_declared_after_launch_is_served(dbos: None) -> None:
    late = Queue("test_queues.declared_late")
    assert late.enqueue(process_task, 5).get_result() == "Completed task 5"


# ------------------------------------------------------------------ bad input


def test_bad_declarations_and_enqueues_are_refused() -> None:
    with pytest.raises(ValueError, match="concurrency must be at least 1"):
        Queue("test_queues.bad1", concurrency=-1)
    with pytest.raises(ValueError, match="limiter"):
        Queue("test_queues.bad2", limiter={"limit": 5})  # type: ignore[typeddict-item]
    with pytest.raises(ValueError, match="greater than or equal to worker_concurrency"):
        Queue("test_queues.bad3", concurrency=2, worker_concurrency=5)
    # A name is declared once, as upstream: the same settings again are refused too.
    with pytest.raises(ValueError, match="task_queue has already been declared"):
        Queue("task_queue", worker_concurrency=6)
    with pytest.raises(ValueError, match="task_queue has already been declared"):
        Queue("task_queue", worker_concurrency=5)
    assert queue.worker_concurrency == 5  # the first declaration stands
    with pytest.raises(ValueError, match="priority"):
        SetEnqueueOptions(priority=-1)


@DBOS.step()
def not_a_workflow() -> str:
    return "ran as a workflow of one step"


def undecorated() -> None:
    pass


def test_a_step_is_enqueued_as_a_workflow_of_one_step(dbos: None) -> None:
    handle = queue.enqueue(not_a_workflow)
    assert handle.get_result() == "ran as a workflow of one step"
    assert handle.get_status().name == "<temp>.not_a_workflow"
    with pytest.raises(TypeError, match="not decorated"):
        queue.enqueue(undecorated)


def test_listen_queues_limits_what_this_process_runs(system_database_url: str) -> None:
    from dbos import DBOSClient

    DBOS.destroy()
    DBOS(config={"name": "test-app", "system_database_url": system_database_url})
    DBOS.listen_queues([])  # enqueue only: another process (here, the next launch) runs it
    DBOS.launch()
    try:
        handle = queue.enqueue(process_task, 9)
        time.sleep(0.3)
        assert DBOS.get_workflow_status(handle.workflow_id).status == "ENQUEUED"  # type: ignore[union-attr]
        with pytest.raises(DBOSException, match="before DBOS.launch"):
            DBOS.listen_queues([queue])
    finally:
        DBOS.destroy()
    DBOS(config={"name": "test-app", "system_database_url": system_database_url})
    DBOS.listen_queues([queue])
    DBOS.launch()
    try:
        client = DBOSClient(system_database_url=system_database_url)
        assert client.retrieve_workflow(handle.workflow_id).get_result() == "Completed task 9"
        client.destroy()
    finally:
        DBOS.destroy()


def test_a_workflow_enqueued_on_an_idle_queue_starts_here_at_once(dbos: None) -> None:
    # Recorded as dequeued by this process in the enqueue itself (no claim round trip), and
    # deduplication still applies to it. The queue must be known idle: one workflow through it
    # first, and its claim (which found nothing more) done.
    assert deduped.enqueue(process_task, 0).get_result() == "Completed task 0"
    time.sleep(0.3)
    with SetEnqueueOptions(deduplication_id="direct-1"):
        handle = deduped.enqueue(busy, "direct", 0.2)
        with pytest.raises(DBOSQueueDeduplicatedError):
            deduped.enqueue(busy, "again", 0.0)
    status = DBOS.get_workflow_status(handle.workflow_id)
    assert status is not None and status.status == "PENDING"
    assert status.queue_name == "test_queues.deduped" and status.dequeued_at is not None
    assert status.executor_id == DBOS.executor_id
    assert handle.get_result() == "direct"

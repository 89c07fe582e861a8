"""A workflow run on a workflow thread hands its outcome to the group commit and gives the
thread back: its handle's result comes once the outcome has committed, a commit under way
holds no thread but the one committing, and a graceful stop waits for outcomes still
committing as it waits for running workflows."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from dbos import DBOS, DBOSClient, EnqueueOptions, Queue
from dbos._core.runtime import get_runtime
from dbos._db.group_commit import GroupCommitter
from dbos._services.heartbeat import Heartbeat
from dbos._services.shutdown import stop_gracefully
from dbos.error import DBOSDatabaseConnectionError, DBOSWorkflowAbandonedError

_bodies_ended = 0
_count_lock = threading.Lock()


queue = Queue("test_outcome_commits.queue")


@DBOS.workflow()
def counted(i: int) -> int:
    global _bodies_ended
    with _count_lock:
        _bodies_ended += 1
    return i * 2


class HeldOutcomes:
    """Once `hold()` is called, every group-commit flush holding a workflow's outcome waits
    until `release()` (a slow disk); other writes (starts, on SQLite's one committer too)
    are not held."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._holding = False
        self._released = threading.Event()
        workflows = get_runtime().sysdb.workflows
        outcome_sql = workflows.sql.COMPLETE_WORKFLOW
        original = GroupCommitter._flush

        def slow_flush(committer: GroupCommitter, batch: Any) -> None:
            if self._holding and any(
                sql == outcome_sql for write in batch for sql, _ in write.statements
            ):
                assert self._released.wait(30)
            original(committer, batch)

        monkeypatch.setattr(GroupCommitter, "_flush", slow_flush)

    def hold(self) -> None:
        self._holding = True

    def release(self) -> None:
        self._released.set()


@pytest.fixture
def held_outcomes(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldOutcomes]:
    held = HeldOutcomes(monkeypatch)
    yield held
    held.release()


def _wait_for_bodies(count: int, within_sec: float) -> int:
    deadline = time.monotonic() + within_sec
    while time.monotonic() < deadline:
        with _count_lock:
            if _bodies_ended >= count:
                break
        time.sleep(0.01)
    with _count_lock:
        return _bodies_ended


def test_a_result_comes_only_once_its_outcome_has_committed(dbos: None) -> None:
    handles = [DBOS.start_workflow(counted, i) for i in range(300)]
    for i, handle in enumerate(handles):
        assert handle.get_result() == i * 2
        status = DBOS.get_workflow_status(handle.workflow_id)
        assert status is not None and status.status == "SUCCESS"


def test_threads_are_not_held_while_outcomes_commit(
    dbos: None, held_outcomes: HeldOutcomes, system_database_url: str
) -> None:
    """With outcome commits stalled, a queue's 200 workflows all run on the pool's 64 core
    threads, none started beyond them: before, each thread sat waiting for its own outcome's
    commit, so 64 bodies ran and the pool grew to run the rest."""
    global _bodies_ended
    with _count_lock:
        _bodies_ended = 0
    held_outcomes.hold()
    client = DBOSClient(system_database_url=system_database_url)
    try:
        options: EnqueueOptions = {"workflow_name": "counted", "queue_name": queue.name}
        handles = client.enqueue_many(options, [(i,) for i in range(200)])
        assert _wait_for_bodies(200, within_sec=30) == 200
        assert get_runtime().pool.thread_count <= 64
        # Nothing has committed, so no outcome is visible yet.
        assert [w.workflow_id for w in DBOS.list_workflows(status="SUCCESS")] == []
        held_outcomes.release()
        assert [h.get_result() for h in handles] == [i * 2 for i in range(200)]
    finally:
        client.destroy()


def test_a_graceful_stop_waits_for_outcomes_still_committing(
    dbos: None, held_outcomes: HeldOutcomes
) -> None:
    global _bodies_ended
    with _count_lock:
        _bodies_ended = 0
    held_outcomes.hold()
    handle = DBOS.start_workflow(counted, 21)
    assert _wait_for_bodies(1, within_sec=30) == 1
    runtime = get_runtime()
    left: list[int] = []
    stopper = threading.Thread(target=lambda: left.append(stop_gracefully(runtime, 20)))
    stopper.start()
    time.sleep(0.3)
    assert stopper.is_alive()  # the body ended, its outcome has not committed: it waits
    held_outcomes.release()
    stopper.join(20)
    assert left == [0]
    assert handle.get_result() == 42
    status = DBOS.get_workflow_status(handle.workflow_id)
    assert status is not None and status.status == "SUCCESS"


def test_an_outcome_the_database_refuses_past_the_retry_bound_is_resumed_once_it_is_back(
    dbos: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not the workflow's failure: it stays PENDING, its handle's run ends abandoned, and the
    heartbeat's resume runs it again from its checkpoints once the database answers."""
    runtime = get_runtime()
    outcome_sql = runtime.sysdb.workflows.sql.COMPLETE_WORKFLOW
    original = GroupCommitter._flush
    refused: list[str] = []

    def unreachable(committer: GroupCommitter, batch: Any) -> None:
        for write in batch:
            if not refused and any(sql == outcome_sql for sql, _ in write.statements):
                refused.append(write.statements[0][1]["workflow_uuid"])
                committer._finish(write, [], DBOSDatabaseConnectionError("connection refused"))
                batch = [w for w in batch if w is not write]
        if batch:
            original(committer, batch)

    monkeypatch.setattr(GroupCommitter, "_flush", unreachable)
    handle = DBOS.start_workflow(counted, 5)
    assert handle._future is not None
    assert isinstance(handle._future.exception(timeout=30), DBOSWorkflowAbandonedError)
    assert refused == [handle.workflow_id]
    status = DBOS.get_workflow_status(handle.workflow_id)
    assert status is not None and status.status == "PENDING"
    assert not runtime.committing  # counted out, whatever the commit's end
    heartbeat = next(s for s in runtime.services if isinstance(s, Heartbeat))
    assert heartbeat.resume_abandoned() == 1
    assert DBOS.retrieve_workflow(handle.workflow_id).get_result() == 10


_steps_done = 0


@DBOS.step()
def checkpointed_step(i: int) -> int:
    return i + 1


@DBOS.workflow()
def one_step(i: int) -> int:
    global _steps_done
    value = checkpointed_step(i)
    with _count_lock:
        _steps_done += 1
    return value


def test_a_stalled_database_does_not_make_the_pool_grow(
    dbos: None, monkeypatch: pytest.MonkeyPatch, system_database_url: str
) -> None:
    """Step checkpoints stalled in the database (a slow disk, a server that stopped answering)
    hold every workflow thread waiting on it. Those are not long steps: more threads would
    wait too, so the pool stays at its 64 core threads (before, it doubled every 0.1 s of the
    stall); once the database answers, every workflow completes."""
    global _steps_done
    with _count_lock:
        _steps_done = 0
    db = get_runtime().sysdb
    step_sql = get_runtime().sysdb.workflows.sql.RECORD_STEP
    released = threading.Event()
    original_one, original_batch = db._execute_once, db._execute_batch_once

    def stalled_one(sql: str, params: Any) -> int:
        if sql == step_sql:
            assert released.wait(30)
        return original_one(sql, params)

    def stalled_batch(statements: list[Any]) -> list[int]:
        if any(sql == step_sql for sql, _ in statements):
            assert released.wait(30)
        return original_batch(statements)

    monkeypatch.setattr(db, "_execute_once", stalled_one)
    monkeypatch.setattr(db, "_execute_batch_once", stalled_batch)
    # Enqueued by a client (its own connection, not the stalled group commit) and claimed by
    # the dispatcher (its own statement): every workflow starts and reaches its step.
    client = DBOSClient(system_database_url=system_database_url)
    try:
        options: EnqueueOptions = {"workflow_name": "one_step", "queue_name": queue.name}
        handles = client.enqueue_many(options, [(i,) for i in range(200)])
        try:
            assert _until_pool_queued(136)
            time.sleep(0.6)  # six of the pool's growth intervals, 136 workflows queued
            assert get_runtime().pool.thread_count == 64
            with _count_lock:
                assert _steps_done == 0
        finally:
            released.set()
        assert [h.get_result() for h in handles] == [i + 1 for i in range(200)]
    finally:
        client.destroy()


def _until_pool_queued(count: int) -> bool:
    """Whether the workflow pool soon holds `count` jobs that no thread has taken."""
    pool = get_runtime().pool
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if pool._work.qsize() >= count:
            return True
        time.sleep(0.01)
    return False

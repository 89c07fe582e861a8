"""The workflow thread pool: core threads at once, more only when queued work makes no progress
(every thread stuck in long work, not waiting on the database), idle extra threads retired,
detached jobs' futures completed by a later job."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import Future
from typing import Any

from dbos._threads import (
    DaemonPool,
    Detach,
    current_future,
    current_pool,
    waiting_on_database,
)


def _until(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


def test_a_pool_stuck_in_long_work_grows_and_shrinks_back_when_idle() -> None:
    pool = DaemonPool(8, "test-pool", core_threads=2, grow_after_sec=0.02, idle_exit_sec=0.2)
    release = threading.Event()
    started: list[int] = []

    def long_work(i: int) -> int:
        started.append(i)
        release.wait(10)
        return i

    try:
        futures = [pool.submit(long_work, i) for i in range(6)]
        assert _until(lambda: len(started) == 6)  # beyond the 2 core threads
        assert 6 <= pool.thread_count <= 8
        release.set()
        assert [f.result(5) for f in futures] == list(range(6))
        assert _until(lambda: pool.thread_count == 2)  # the extra ones retired
    finally:
        release.set()
        pool.shutdown()


def test_quick_work_is_served_by_the_core_threads() -> None:
    pool = DaemonPool(64, "test-pool", core_threads=4, grow_after_sec=0.5)
    try:
        futures = [pool.submit(time.sleep, 0.001) for _ in range(500)]
        for future in futures:
            future.result(10)
        assert pool.thread_count <= 4
    finally:
        pool.shutdown()


def test_a_detached_job_leaves_its_future_to_a_later_job() -> None:
    pool = DaemonPool(4, "test-pool")
    kept: list[Future[Any]] = []

    def detaches() -> None:
        assert current_pool() is pool
        future = current_future()
        assert future is not None
        kept.append(future)
        raise Detach

    try:
        future = pool.submit(detaches)
        assert _until(lambda: bool(kept))
        time.sleep(0.05)
        assert not future.done()  # neither a result nor the Detach
        pool.submit_to(kept[0], lambda: "finished later")
        assert future.result(5) == "finished later"
    finally:
        pool.shutdown()


def test_a_job_queued_for_busy_threads_is_reported_as_a_backlog() -> None:
    """The pool tells its `on_backlog` hook (the runtime wakes waits napping toward a park)
    when work queues with every thread busy, and only then."""
    pool = DaemonPool(1, "test-pool", core_threads=1, grow_after_sec=60.0)
    told: list[bool] = []
    pool.on_backlog = lambda: told.append(True)
    release = threading.Event()
    try:
        busy = pool.submit(release.wait, 10)
        assert _until(lambda: pool._work.empty())
        assert told == []
        queued = pool.submit(lambda: "ran")
        assert told == [True] and pool.saturated()
        release.set()
        assert busy.result(5) and queued.result(5) == "ran"
        assert _until(lambda: pool._idle >= 1)  # its thread is back, waiting for work
        assert pool.submit(lambda: "idle thread").result(5) == "idle thread"
        assert told == [True]
    finally:
        release.set()
        pool.shutdown()


def test_threads_waiting_on_the_database_do_not_make_the_pool_grow() -> None:
    """A database stall (or outage) holds every thread in a commit or a statement: more threads
    would wait too, so the pool does not grow for them; it grows by the threads busy in long
    work only."""
    pool = DaemonPool(64, "test-pool", core_threads=4, grow_after_sec=0.02)
    stall = threading.Event()
    long_work = threading.Event()
    waiting: list[int] = []

    def checkpoint(i: int) -> int:
        with waiting_on_database():
            waiting.append(i)
            stall.wait(10)
        return i

    try:
        futures = [pool.submit(checkpoint, i) for i in range(40)]
        assert _until(lambda: len(waiting) == 4)
        time.sleep(0.3)  # fifteen of the grower's intervals, work queued all along
        assert pool.thread_count == 4 and len(waiting) == 4
        assert pool.waiting_on_database() == 4
        stall.set()
        assert [f.result(5) for f in futures] == list(range(40))
        assert pool.thread_count == 4
        # One thread in long work, three waiting on the database: it grows by one at a time.
        stall.clear()
        waiting.clear()
        held = [pool.submit(checkpoint, i) for i in range(3)]
        assert _until(lambda: len(waiting) == 3)
        busy = pool.submit(long_work.wait, 10)
        queued = [pool.submit(lambda: "ran") for _ in range(5)]
        assert [q.result(5) for q in queued] == ["ran"] * 5
        assert 5 <= pool.thread_count <= 6
    finally:
        stall.set()
        long_work.set()
        pool.shutdown()
    assert busy.result(5) and [h.result(5) for h in held] == [0, 1, 2]


def test_after_a_backlog_a_pool_stuck_in_long_work_still_grows() -> None:
    """A backlog (more jobs than threads, each taken by a thread finishing the one before)
    must not leave the pool counting threads as idle that are not: then a later job queued
    behind long work would wait for it instead of getting a thread of its own."""
    pool = DaemonPool(16, "test-pool", core_threads=2, grow_after_sec=0.02, idle_exit_sec=5)
    release = threading.Event()
    try:
        for future in [pool.submit(time.sleep, 0.005) for _ in range(30)]:
            future.result(5)  # 30 jobs on 2 threads: 28 of them queued
        assert pool.thread_count == 2
        stuck = [pool.submit(release.wait, 10) for _ in range(2)]
        assert _until(lambda: pool._work.empty())
        assert pool.submit(lambda: "ran").result(5) == "ran"
        assert pool.thread_count == 3
    finally:
        release.set()
        pool.shutdown()
    assert all(s.result(5) for s in stuck)


def test_a_thread_not_of_a_pool_may_wait_on_the_database() -> None:
    with waiting_on_database():
        assert current_pool() is None


def test_no_job_is_left_queued_whatever_the_interleaving() -> None:
    """The pool's counts of waiting threads and untaken jobs must never leave a job queued
    with no thread coming for it: four submitters, jobs that submit more jobs, some in
    database waits, threads beyond the core retiring between bursts; every job completes."""
    rnd = random.Random(7)
    pool = DaemonPool(32, "test-pool", core_threads=2, grow_after_sec=0.02, idle_exit_sec=0.01)
    futures: list[Future[Any]] = []
    lock = threading.Lock()

    def job(depth: int) -> int:
        draw = rnd.random()
        if draw < 0.3:
            time.sleep(draw * 0.005)
        elif draw < 0.4:
            with waiting_on_database():
                time.sleep(0.003)
        if depth < 2 and rnd.random() < 0.3:
            child = pool.submit(job, depth + 1)
            with lock:
                futures.append(child)
        return depth

    def submitter() -> None:
        for _ in range(250):
            future = pool.submit(job, 0)
            with lock:
                futures.append(future)
            if rnd.random() < 0.05:
                time.sleep(0.02)  # long enough for the threads beyond the core to retire

    try:
        threads = [threading.Thread(target=submitter) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done = 0
        while True:
            with lock:
                if done == len(futures):
                    break
                future = futures[done]
            assert future.result(10) in (0, 1, 2)
            done += 1
        assert done >= 1000
    finally:
        pool.shutdown()


def test_a_thread_slow_to_start_holds_up_no_other_submission(monkeypatch: Any) -> None:
    """`Thread.start()` waits until the new thread runs, which on a loaded machine takes
    milliseconds; the pool's lock is not held meanwhile, so another caller's job gets a
    thread of its own at once instead of queueing behind the start."""
    pool = DaemonPool(8, "slow-start", core_threads=4)
    original_start = threading.Thread.start
    first = threading.Event()
    let_first_start = threading.Event()

    def start(thread: threading.Thread) -> None:
        if thread.name == "slow-start-1":
            first.set()
            let_first_start.wait(10)  # as a thread that gets no core for a while
        original_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    first_job: Future[int] = Future()
    submitter = threading.Thread(target=lambda: first_job.set_result(pool.submit(int).result()))
    original_start(submitter)
    assert first.wait(5)
    try:
        assert pool.submit(lambda: 7).result(timeout=2) == 7
    finally:
        let_first_start.set()
    assert first_job.result(timeout=5) == 0
    assert _until(lambda: pool.thread_count == 2)

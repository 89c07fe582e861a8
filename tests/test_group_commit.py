"""Group commit: concurrent writes share transactions without mixing up their results."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from dbos import DBOS
from dbos._db.group_commit import GroupCommitter


class FakeDatabase:
    """Counts statements and transactions; statement `fail` raises, as a constraint would."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.batches: list[int] = []
        self.singles = 0
        self.gate = threading.Event()
        self.gate.set()

    def one(self, sql: str, params: Mapping[str, Any]) -> int:
        self.gate.wait()
        with self.lock:
            self.singles += 1
        if sql == "fail":
            raise ValueError(f"constraint violated by {params['n']}")
        return int(params["n"])

    def batch(self, statements: list[tuple[str, Mapping[str, Any]]]) -> list[int]:
        self.gate.wait()
        if any(sql == "fail" for sql, _ in statements):
            raise ValueError("transaction aborted")
        with self.lock:
            self.batches.append(len(statements))
        return [int(p["n"]) for _, p in statements]


def _run_concurrently(committer: GroupCommitter, jobs: list[tuple[str, int]]) -> list[object]:
    results: list[object] = [None] * len(jobs)

    def worker(i: int, sql: str, n: int) -> None:
        try:
            results[i] = committer.execute(sql, {"n": n})
        except ValueError as exc:
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i, sql, n)) for i, (sql, n) in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
        assert not t.is_alive()
    return results


def test_a_lone_write_is_one_plain_statement() -> None:
    db = FakeDatabase()
    committer = GroupCommitter(db.one, db.batch)
    assert committer.execute("ok", {"n": 7}) == 7
    assert (db.singles, db.batches) == (1, [])


def test_concurrent_writes_are_batched_and_each_gets_its_own_result() -> None:
    db = FakeDatabase()
    committer = GroupCommitter(db.one, db.batch, max_batch=16)
    db.gate.clear()  # hold the first leader so the others queue up behind it
    jobs = [("ok", n) for n in range(100)]
    release = threading.Timer(0.2, db.gate.set)
    release.start()
    results = _run_concurrently(committer, jobs)
    assert results == list(range(100))
    assert sum(db.batches) + db.singles == 100
    assert db.batches and max(db.batches) <= 16
    assert len(db.batches) + db.singles < 100  # fewer transactions than writes


def test_one_failing_write_does_not_fail_the_others() -> None:
    db = FakeDatabase()
    committer = GroupCommitter(db.one, db.batch)
    db.gate.clear()
    jobs = [("fail" if n == 13 else "ok", n) for n in range(40)]
    threading.Timer(0.2, db.gate.set).start()
    results = _run_concurrently(committer, jobs)
    for n, result in enumerate(results):
        if n == 13:
            assert isinstance(result, ValueError) and "13" in str(result)
        else:
            assert result == n


def test_a_unit_commits_together_and_a_failing_unit_spoils_only_itself() -> None:
    db = FakeDatabase()
    committer = GroupCommitter(db.one, db.batch)
    assert committer.execute_unit([("ok", {"n": 1}), ("ok", {"n": 2})]) == [1, 2]
    assert db.batches == [2] and db.singles == 0  # one transaction, not two statements
    db.batches.clear()
    db.gate.clear()
    results: dict[int, object] = {}

    def unit(i: int) -> None:
        statements = [("ok", {"n": i}), ("fail" if i == 3 else "ok", {"n": i * 10})]
        try:
            results[i] = committer.execute_unit(statements)
        except ValueError as exc:
            results[i] = exc

    threads = [threading.Thread(target=unit, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    threading.Timer(0.2, db.gate.set).start()
    for t in threads:
        t.join(10)
    for i in range(8):
        if i == 3:
            assert isinstance(results[i], ValueError)
        else:
            assert results[i] == [i, i * 10]
    # The units that ran after the failed batch each ran as one transaction of their own.
    assert all(size % 2 == 0 for size in db.batches)


def test_one_transaction_at_a_time_and_every_write_flushed_exactly_once() -> None:
    """Two writes of one workflow (an async workflow's gathered stream writes) must never be in
    two transactions at once: they would both read the same next offset."""
    flushed: list[int] = []
    lock = threading.Lock()
    under_way = 0
    most_at_once = 0

    def transaction(numbers: list[int]) -> list[int]:
        nonlocal under_way, most_at_once
        with lock:
            under_way += 1
            most_at_once = max(most_at_once, under_way)
        time.sleep(0.001)  # a commit takes a while: writes pile up behind the leader
        with lock:
            under_way -= 1
            flushed.extend(numbers)
        return numbers

    def one(sql: str, params: Mapping[str, Any]) -> int:
        return transaction([int(params["n"])])[0]

    def batch(statements: list[tuple[str, Mapping[str, Any]]]) -> list[int]:
        return transaction([int(p["n"]) for _, p in statements])

    committer = GroupCommitter(one, batch, max_batch=8)
    jobs = [("ok", n) for n in range(300)]
    assert _run_concurrently(committer, jobs) == list(range(300))
    assert sorted(flushed) == list(range(300))
    assert most_at_once == 1


@DBOS.step()
def square(x: int) -> int:
    return x * x


@DBOS.workflow()
def three_squares(x: int) -> list[int]:
    return [square(x), square(x + 1), square(x + 2)]


def test_many_concurrent_workflows_record_every_step(dbos: None) -> None:
    handles = [DBOS.start_workflow(three_squares, i) for i in range(200)]
    assert [h.get_result() for h in handles] == [
        [i * i, (i + 1) ** 2, (i + 2) ** 2] for i in range(200)
    ]
    for h in handles[::37]:
        steps = DBOS.list_workflow_steps(h.workflow_id)
        assert [s["function_id"] for s in steps] == [1, 2, 3]
    assert len(DBOS.list_workflows(status="SUCCESS")) == 200

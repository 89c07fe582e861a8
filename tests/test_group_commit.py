"""Group commit: concurrent writes share transactions without mixing up their results."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest

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

    def release_once_queued() -> None:
        # (not after a fixed time: on a loaded machine the threads may start later than that,
        # each then finding no flush under way and writing alone)
        deadline = time.monotonic() + 10
        while len(committer._queue) < len(jobs) - 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        db.gate.set()

    threading.Thread(target=release_once_queued).start()
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


class SlowCommits:
    """A database whose commits take a while (writes pile up behind the leader): records what
    each transaction held and how many were ever under way at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.flushed: list[int] = []
        self.under_way = 0
        self.most_at_once = 0

    def transaction(self, numbers: list[int]) -> list[int]:
        with self.lock:
            self.under_way += 1
            self.most_at_once = max(self.most_at_once, self.under_way)
        time.sleep(0.001)
        with self.lock:
            self.under_way -= 1
            self.flushed.extend(numbers)
        return numbers

    def committer(self, max_batch: int) -> GroupCommitter:
        return GroupCommitter(
            lambda sql, params: self.transaction([int(params["n"])])[0],
            lambda statements: self.transaction([int(p["n"]) for _, p in statements]),
            max_batch=max_batch,
        )


def test_one_transaction_at_a_time_and_every_write_flushed_exactly_once() -> None:
    """Two writes of one workflow (an async workflow's gathered stream writes) must never be in
    two transactions at once: they would both read the same next offset."""
    db = SlowCommits()
    jobs = [("ok", n) for n in range(300)]
    assert _run_concurrently(db.committer(max_batch=8), jobs) == list(range(300))
    assert sorted(db.flushed) == list(range(300))
    assert db.most_at_once == 1


class Outcomes:
    """What `submit_unit` callbacks received, by write number, and on which thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.got: dict[int, object] = {}
        self.threads: dict[int, str] = {}
        self.all_in = threading.Event()
        self.expected = 0

    def callback(self, n: int) -> Callable[[list[int], BaseException | None], None]:
        def done(counts: list[int], error: BaseException | None) -> None:
            with self.lock:
                assert n not in self.got, f"write {n} reported twice"
                self.got[n] = error if error is not None else counts
                self.threads[n] = threading.current_thread().name
                if len(self.got) == self.expected:
                    self.all_in.set()

        return done


def test_a_submitted_write_with_no_flush_under_way_commits_before_submit_returns() -> None:
    db = FakeDatabase()
    committer = GroupCommitter(db.one, db.batch)
    outcomes = Outcomes()
    outcomes.expected = 1
    committer.submit_unit([("ok", {"n": 3})], outcomes.callback(3))
    assert outcomes.got == {3: [3]}
    assert outcomes.threads[3] == threading.current_thread().name


def test_submitting_behind_a_flush_returns_at_once_and_the_flush_commits_it() -> None:
    """The point of `submit_unit`: a thread whose outcome is queued goes back to work."""
    db = FakeDatabase()
    committer = GroupCommitter(db.one, db.batch)
    db.gate.clear()  # the first write's commit hangs
    first = threading.Thread(target=committer.execute, args=("ok", {"n": 0}), name="first")
    first.start()
    time.sleep(0.05)  # first is flushing
    outcomes = Outcomes()
    outcomes.expected = 50
    began = time.monotonic()
    for n in range(1, 51):
        committer.submit_unit([("ok", {"n": n})], outcomes.callback(n))
    assert time.monotonic() - began < 1  # none of them waited for the hung commit
    assert outcomes.got == {}
    db.gate.set()
    assert outcomes.all_in.wait(10)
    first.join(10)
    assert outcomes.got == {n: [n] for n in range(1, 51)}
    # The waiting writer went back to its caller after its own commit, and the submitter was
    # never held: a thread of their own flushed the 50.
    assert not {"first", threading.current_thread().name} & set(outcomes.threads.values())
    # The 50 were flushed together, not one commit each.
    assert len(db.batches) <= 2 and sum(db.batches) == 50


def test_a_lone_submitted_write_lets_writes_under_way_join_its_flush(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Workflows finishing together: the first outcome submitted does not commit alone ahead
    of the others. Its leader gives the threads under way a turn before it flushes (here the
    turn is taken by a second workflow submitting its outcome), and both share one commit.
    A write whose caller waits is not held for a turn."""
    import dbos._db.group_commit as group_commit

    db = FakeDatabase()
    committer = GroupCommitter(db.one, db.batch)
    outcomes = Outcomes()
    outcomes.expected = 2
    turns: list[str] = []

    def another_finishes() -> None:
        turns.append("turn")
        if len(turns) == 1:
            other = threading.Thread(
                target=committer.submit_unit, args=([("ok", {"n": 2})], outcomes.callback(2))
            )
            other.start()
            other.join(5)

    monkeypatch.setattr(group_commit, "yield_the_gil", another_finishes)
    committer.submit_unit([("ok", {"n": 1})], outcomes.callback(1))
    assert outcomes.all_in.wait(5)
    assert outcomes.got == {1: [1], 2: [2]}
    assert db.batches == [2] and db.singles == 0  # one transaction for both
    assert committer.execute("ok", {"n": 3}) == 3
    assert turns == ["turn"]  # the waiting caller's write took none


def test_a_failing_submitted_write_gets_its_error_and_spoils_no_other() -> None:
    db = FakeDatabase()
    committer = GroupCommitter(db.one, db.batch)
    db.gate.clear()
    first = threading.Thread(target=committer.execute, args=("ok", {"n": 0}))
    first.start()
    time.sleep(0.05)
    outcomes = Outcomes()
    outcomes.expected = 3
    for n, sql in ((1, "ok"), (2, "fail"), (3, "ok")):
        committer.submit_unit([(sql, {"n": n})], outcomes.callback(n))
    db.gate.set()
    assert outcomes.all_in.wait(10)
    first.join(10)
    assert outcomes.got[1] == [1] and outcomes.got[3] == [3]
    assert isinstance(outcomes.got[2], ValueError)


def test_submitted_writes_and_waiting_writes_all_commit_once_one_transaction_at_a_time() -> None:
    """Writes nobody waits on, left queued when a waiting writer's flush ends, are flushed
    too (by another thread), and never two transactions at once."""
    db = SlowCommits()
    committer = db.committer(max_batch=16)
    outcomes = Outcomes()
    outcomes.expected = 200
    waited: dict[int, int] = {}

    def submitter(start: int) -> None:
        for n in range(start, start + 50):
            committer.submit_unit([("ok", {"n": n})], outcomes.callback(n))

    def waiter(start: int) -> None:
        for n in range(start, start + 50):
            waited[n] = committer.execute("ok", {"n": n})

    threads = [threading.Thread(target=submitter, args=(i * 50,)) for i in range(4)]
    threads += [threading.Thread(target=waiter, args=(1000 + i * 50,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
        assert not t.is_alive()
    assert outcomes.all_in.wait(10)
    assert outcomes.got == {n: [n] for n in range(200)}
    assert waited == {n: n for n in range(1000, 1100)}
    assert sorted(db.flushed) == [*range(200), *range(1000, 1100)]
    assert db.most_at_once == 1


def test_a_write_made_from_a_commit_callback_runs_at_once() -> None:
    """A callback runs on the leading thread: a write it makes through the same committer
    must not queue for a leader (itself) and wait forever."""
    db = SlowCommits()
    committer = db.committer(max_batch=16)
    outcomes = Outcomes()
    outcomes.expected = 1
    follow_up: list[int] = []

    def then_write(counts: list[int], error: BaseException | None) -> None:
        follow_up.append(committer.execute("ok", {"n": 99}))
        outcomes.callback(1)(counts, error)

    done = threading.Thread(target=committer.submit_unit, args=([("ok", {"n": 1})], then_write))
    done.start()
    done.join(10)
    assert not done.is_alive()
    assert outcomes.got == {1: [1]} and follow_up == [99]
    assert db.flushed == [1, 99] and db.most_at_once == 1


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

"""The claim of named partitions: when a partitioned queue's workflow ends here, the dispatcher
claims the next workflows of that partition alone (a statement whose cost follows the
partitions named, not the queue). It must take exactly what a claim of the whole queue would
take from those partitions (their limits, their order, other versions' rows ahead), and
nothing of a partition it was not given; and the dispatcher must use it."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from test_stores import _pending_row

from dbos import DBOS, SetEnqueueOptions
from dbos._db.connections import Connections
from dbos._db.queue_store import ClaimRequest, QueueStore
from dbos._db.workflow_store import WorkflowStore

_QUEUE = "heads.q"
_VERSION = "v-heads"
_PREFIX = "heads-test."


def _row(workflow_id: str, key: str, version: str = _VERSION) -> dict[str, Any]:
    """A new ENQUEUED row of the partitioned queue, every column the INSERT takes."""
    return _pending_row(workflow_id, owner="") | {
        "status": "ENQUEUED",
        "name": "heads.workflow",
        "executor_id": None,
        "application_version": version,
        "recovery_attempts": 0,
        "owner_xid": None,
        "queue_name": _QUEUE,
        "queue_partition_key": key,
    }


@pytest.fixture()
def stores(connections: Connections) -> tuple[QueueStore, WorkflowStore]:
    workflows = WorkflowStore(connections)
    return QueueStore(connections, workflows), workflows


def _enqueue(queues: QueueStore, *rows: tuple[str, str]) -> None:
    for workflow_id, key in rows:
        assert queues.enqueue_workflow(_row(workflow_id, key))


def _claim(queues: QueueStore, keys: str, **limits: Any) -> list[str]:
    request = ClaimRequest(
        queue_name=_QUEUE,
        limit=100,
        application_version=_VERSION,
        executor_id="heads-executor",
        claim_prefix=_PREFIX,
        partitioned=True,
        partition_keys=tuple(keys),
        **limits,
    )
    return sorted(str(row[0]) for row in queues.claim(request).rows)


def _finish(workflows: WorkflowStore, workflow_id: str) -> None:
    assert workflows.complete_workflow(workflow_id, _PREFIX + workflow_id, "SUCCESS", None, None)


def test_it_takes_the_named_partitions_next_workflows_and_nothing_else(
    stores: tuple[QueueStore, WorkflowStore],
) -> None:
    queues, workflows = stores
    _enqueue(queues, ("a1", "a"), ("b1", "b"), ("a2", "a"), ("c1", "c"), ("b2", "b"))
    assert _claim(queues, "ab", partition_concurrency=1) == ["a1", "b1"]
    # One at a time: the running heads hold their partitions; c was not named.
    assert _claim(queues, "abc", partition_concurrency=1) == ["c1"]
    _finish(workflows, "a1")
    assert _claim(queues, "ab", partition_concurrency=1) == ["a2"]
    assert _claim(queues, "z", partition_concurrency=1) == []  # a partition with no work


def test_it_keeps_each_partitions_limits_and_order(
    stores: tuple[QueueStore, WorkflowStore],
) -> None:
    queues, workflows = stores
    _enqueue(queues, *((f"p{i}", "p") for i in range(1, 6)))
    assert _claim(queues, "p", partition_concurrency=2) == ["p1", "p2"]
    assert _claim(queues, "p", partition_concurrency=2) == []
    _finish(workflows, "p2")  # the later one ends first: the next in order takes its place
    assert _claim(queues, "p", partition_concurrency=2) == ["p3"]
    # This process's share of a partition counts only the rows ahead of a row here.
    assert _claim(queues, "p", partition_worker_concurrency=1) == ["p4"]


def test_a_row_of_another_version_ahead_holds_back_the_rows_behind_it(
    stores: tuple[QueueStore, WorkflowStore],
) -> None:
    queues, _ = stores
    assert queues.enqueue_workflow(_row("old1", "v", version="v-older"))
    _enqueue(queues, ("new1", "v"), ("w1", "w"))
    # The full claim's rule: a partition runs in order, whatever version a row is of.
    assert _claim(queues, "vw", partition_concurrency=1) == ["w1"]


def test_a_queue_with_a_shared_budget_is_refused(
    stores: tuple[QueueStore, WorkflowStore],
) -> None:
    queues, _ = stores
    with pytest.raises(ValueError, match="shared budget"):
        _claim(queues, "a", partition_concurrency=1, partition_rate_limit=5)


_chain_lock = threading.Lock()
_chain_order: list[str] = []


@DBOS.workflow()
def heads_link(tag: str) -> str:
    with _chain_lock:
        _chain_order.append(tag)
    return tag


def test_the_dispatcher_claims_a_partitions_successor_by_naming_that_partition(
    dbos: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chain of one partition on a queue that looks by itself only every 10 s: each
    successor is claimed by a claim naming the partition just freed, and the whole chain runs
    in order well before the queue's next look."""
    requests: list[ClaimRequest] = []
    real_claim = QueueStore.claim

    def recording(self: QueueStore, request: ClaimRequest) -> Any:
        if request.queue_name == "heads.chain":
            requests.append(request)
        return real_claim(self, request)

    monkeypatch.setattr(QueueStore, "claim", recording)
    _chain_order.clear()
    DBOS.register_queue("heads.chain", partition_concurrency=1, polling_interval_sec=10)
    with SetEnqueueOptions(queue_partition_key="tenant"):
        handles = [DBOS.enqueue_workflow("heads.chain", heads_link, f"t{i}") for i in range(6)]
    assert [h.get_result() for h in handles] == [f"t{i}" for i in range(6)]
    assert _chain_order == [f"t{i}" for i in range(6)]
    named = [r for r in requests if r.partition_keys]
    assert named, "no successor was claimed by naming its partition"
    assert all(r.partition_keys == ("tenant",) for r in named)

"""`DBOS.destroy(workflow_completion_timeout_sec=...)`: a rolling deploy's grace period. New work
stops being taken at once; the workflows running here get that long to finish; what still runs
afterwards stays PENDING for recovery, as after a crash."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from dbos import DBOS, DBOSClient, Queue, SetWorkflowID
from dbos._core.runtime import get_runtime

queue = Queue("destroy.queue", concurrency=1)
started = threading.Event()


@DBOS.step()
def slow_step_at_destroy(seconds: float) -> str:
    started.set()
    threading.Event().wait(seconds)
    return "slept"


@DBOS.workflow()
def slow_workflow(seconds: float) -> str:
    return slow_step_at_destroy(seconds)


@pytest.fixture
def launched(system_database_url: str) -> Iterator[str]:
    DBOS.destroy()
    DBOS(config={"name": "destroy-test", "system_database_url": system_database_url})
    DBOS.launch()
    started.clear()
    yield system_database_url
    DBOS.destroy()


def _status(url: str, workflow_id: str) -> str:
    with DBOSClient(system_database_url=url) as client:
        status = client.get_workflow_status(workflow_id)
        assert status is not None
        return status.status


def test_running_workflows_finish_within_the_grace_period(launched: str) -> None:
    with SetWorkflowID("finishes"):
        queue.enqueue(slow_workflow, 0.5)
    with SetWorkflowID("waits-its-turn"):
        queue.enqueue(slow_workflow, 0.0)
    assert started.wait(10)
    DBOS.destroy(workflow_completion_timeout_sec=10)
    assert _status(launched, "finishes") == "SUCCESS"
    assert _status(launched, "waits-its-turn") == "ENQUEUED"  # no new work was taken


def test_what_outlives_the_grace_period_is_left_to_recovery(launched: str) -> None:
    with SetWorkflowID("outlives"):
        DBOS.start_workflow(slow_workflow, 3.0)
    assert started.wait(10)
    DBOS.destroy(workflow_completion_timeout_sec=0.2)
    assert _status(launched, "outlives") == "PENDING"


def test_a_workflow_not_yet_on_a_thread_counts_as_running(
    launched: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`start_workflow` returns once the run is queued for a workflow thread: the grace period
    waits for a run no thread has taken yet too (upstream's `test_destroy` met one on a loaded
    machine, and destroy returned at once)."""
    runtime = get_runtime()
    queued = threading.Event()
    queued.set()
    monkeypatch.setattr(runtime.pool, "saturated", queued.is_set)
    taken: list[float] = []  # when a thread took the run (the pool no longer saturated)

    def taken_by_a_thread() -> None:
        taken.append(time.monotonic())
        queued.clear()

    threading.Timer(0.3, taken_by_a_thread).start()
    assert runtime.wait_for_active_to_end(5.0) == 0
    returned = time.monotonic()
    assert taken and returned >= taken[0]  # it waited for the run to be taken

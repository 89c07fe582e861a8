"""The debouncer on both backends: a burst of calls with one key runs the workflow once, with
the last arguments, `period` after the last call (or at the burst's deadline); keys are
independent; the handle resolves to the run that happens; calls from workflows are recorded."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from dbos import (
    DBOS,
    DBOSClient,
    Debouncer,
    DebouncerClient,
    Queue,
    SetEnqueueOptions,
    SetWorkflowID,
)
from dbos.error import DBOSException

runs: list[tuple[str, str]] = []
lock = threading.Lock()
debounce_queue = Queue("test_debouncer.queue", concurrency=2)


@DBOS.workflow()
def process_user_input(user_id: str, final_input: str) -> str:
    with lock:
        runs.append((user_id, final_input))
    return f"Processing: {final_input}"


debouncer = Debouncer.create(process_user_input)
capped = Debouncer.create(process_user_input, debounce_timeout_sec=0.5, queue=debounce_queue)


def on_user_keystroke(user_id: str, current_input: str):  # type: ignore[no-untyped-def]
    return debouncer.debounce(user_id, 0.2, user_id, current_input)  # the seed's, 200 ms


# The window of the tests whose calls must all join one run: a loaded CI machine stalled a
# test for more than the seed's 200 ms between two calls, which correctly opened a second run.
JOINING_PERIOD = 1.0


def keystroke_in_a_burst(user_id: str, current_input: str) -> Any:
    return debouncer.debounce(user_id, JOINING_PERIOD, user_id, current_input)


def test_a_burst_runs_once_with_the_last_arguments(dbos: None) -> None:
    runs.clear()
    handles = []
    for text in ("h", "he", "hel", "hell", "hello"):
        handles.append(keystroke_in_a_burst("u1", text))
        time.sleep(0.05)
    assert len({h.workflow_id for h in handles}) == 1  # every call joined one run
    assert handles[0].get_result() == "Processing: hello"
    assert runs == [("u1", "hello")]
    # The window closed with the run: the next call opens a new one.
    assert on_user_keystroke("u1", "again").get_result() == "Processing: again"
    assert runs == [("u1", "hello"), ("u1", "again")]


def test_a_window_opened_under_set_workflow_id_runs_under_that_id(dbos: None) -> None:
    """The pinned ID names the run; a later call with the key (pinned the same, or not)
    joins it with its arguments, and may shorten its wait."""
    runs.clear()
    with SetWorkflowID("pinned-run"):
        first = debouncer.debounce("pinned", 30, "pinned", "first")
    with SetWorkflowID("pinned-run"):
        second = debouncer.debounce("pinned", 0.1, "pinned", "second")
    assert first.workflow_id == second.workflow_id == "pinned-run"
    assert second.get_result() == "Processing: second"  # the 30 s wait was cut to 0.1 s
    assert runs == [("pinned", "second")]
    with SetWorkflowID("pinned-run"):  # the ID is taken by a finished run: that run it is
        again = debouncer.debounce("pinned", 0.1, "pinned", "third")
    assert again.workflow_id == "pinned-run"
    assert again.get_result() == "Processing: second"


def test_keys_are_independent(dbos: None) -> None:
    runs.clear()
    a = [keystroke_in_a_burst("a", t) for t in ("a1", "a2")]
    b = [keystroke_in_a_burst("b", t) for t in ("b1", "b2", "b3")]
    assert a[-1].get_result() == "Processing: a2"
    assert b[-1].get_result() == "Processing: b3"
    assert sorted(runs) == [("a", "a2"), ("b", "b3")]


def test_each_call_pushes_the_start_back_until_the_deadline(dbos: None) -> None:
    runs.clear()
    first = time.monotonic()
    handle = None
    for i in range(12):  # calls every 0.1 s for 1.2 s, each pushing the start 0.2 s later
        handle = capped.debounce("k", 0.2, "k", f"v{i}")
        time.sleep(0.1)
        with lock:
            if runs:
                break
    assert handle is not None
    handle.get_result()
    with lock:
        ran = runs[0]
    # The 0.5 s deadline from the first call ended the burst before the calls stopped.
    assert ran[1] != "v11" and time.monotonic() - first < 1.5
    status = DBOS.get_workflow_status(handle.workflow_id)
    assert status is not None and status.queue_name == "test_debouncer.queue"


@DBOS.workflow()
def debounces_from_a_workflow(text: str) -> str:
    handle = debouncer.debounce("from-workflow", 0.1, "wf", text)
    return handle.workflow_id


def test_a_call_from_a_workflow_is_recorded(dbos: None) -> None:
    runs.clear()
    with SetWorkflowID("debouncing-wf"):
        target = debounces_from_a_workflow("x")
    steps = DBOS.list_workflow_steps("debouncing-wf")
    assert [s["function_name"] for s in steps] == ["DBOS.debounce"]
    assert steps[0]["output"] == target
    assert DBOS.retrieve_workflow(target).get_result() == "Processing: x"
    forked = DBOS.fork_workflow("debouncing-wf", 2)  # replays the call: no new window
    assert forked.get_result() == target
    time.sleep(0.3)
    assert runs == [("wf", "x")]


def test_bad_input_is_refused(dbos: None) -> None:
    with pytest.raises(ValueError, match="key"):
        debouncer.debounce("", 1.0, "u", "x")
    with pytest.raises(ValueError, match="period"):
        debouncer.debounce("k", -1.0, "u", "x")
    with pytest.raises(ValueError, match="debounce_timeout_sec"):
        Debouncer.create(process_user_input, debounce_timeout_sec=0)

    @DBOS.step(name="test_debouncer.a_step")
    def a_step() -> None:
        pass

    with pytest.raises(DBOSException, match="needs a workflow"):
        Debouncer.create(a_step)


def test_delayed_enqueue_waits_then_runs(dbos: None) -> None:
    # Two seconds, not a fraction: on a loaded CI machine a 0.3 s delay had already
    # passed by the time the status was read (it was PENDING, correctly).
    with SetEnqueueOptions(delay_seconds=2.0):
        handle = debounce_queue.enqueue(process_user_input, "d", "later")
    status = DBOS.get_workflow_status(handle.workflow_id)
    assert status is not None and status.status == "DELAYED"
    assert [w.workflow_id for w in DBOS.list_queued_workflows(status="DELAYED")] == [
        handle.workflow_id
    ]
    assert handle.get_result() == "Processing: later"
    done = DBOS.get_workflow_status(handle.workflow_id)
    assert done is not None and done.dequeued_at - done.created_at >= 2000  # type: ignore[operator]


def test_a_call_after_a_deploy_adopts_the_window_of_the_previous_version(
    system_database_url: str,
) -> None:
    """Upstream py#702: a new application version looped on the old window's unique key."""
    runs.clear()

    def launch(version: str, reset: bool = False) -> None:
        DBOS.destroy()
        DBOS(
            config={
                "name": "test-app",
                "system_database_url": system_database_url,
                "application_version": version,
            }
        )
        if reset:
            DBOS.reset_system_database()
        DBOS.launch()

    launch("v1", reset=True)
    try:
        old = debouncer.debounce("deploy", 2.0, "d", "before")
        launch("v2")  # the deploy: the window opened by v1 is still waiting
        new = debouncer.debounce("deploy", 0.2, "d", "after")
        assert new.workflow_id == old.workflow_id
        assert new.get_result() == "Processing: after"
        status = DBOS.get_workflow_status(new.workflow_id)
        assert status is not None and status.app_version == "v2"
        assert runs == [("d", "after")]
    finally:
        DBOS.destroy()


def test_a_client_debounces_into_the_same_window_as_the_workers(
    dbos: None, system_database_url: str
) -> None:
    runs.clear()
    with DBOSClient(system_database_url=system_database_url) as client:
        remote = DebouncerClient(client, {"workflow_name": "process_user_input"})
        first = remote.debounce("shared", JOINING_PERIOD, "c", "from client")
        local = debouncer.debounce("shared", JOINING_PERIOD, "c", "from worker")
        last = remote.debounce("shared", JOINING_PERIOD, "c", "from client, last")
        assert first.workflow_id == local.workflow_id == last.workflow_id
        assert last.get_result() == "Processing: from client, last"
        # Options a debounce owns, and an unknown queue, are refused at the call (upstream
        # constructs such a debouncer and refuses its calls), before anything is written.
        for options, match in (
            ({"deduplication_id": "x"}, "deduplication_id"),
            ({"delay_seconds": 5.0}, "delay"),
            ({"priority": 1}, "priority"),
            ({"queue_partition_key": "p"}, "partition key"),
            ({"deduplication_id": "x", "duplication_policy": "return-existing"}, "dedup"),
        ):
            refused = DebouncerClient(
                client,
                {"workflow_name": "process_user_input", **options},  # type: ignore[typeddict-item]
            )
            with pytest.raises(DBOSException, match=match):
                refused.debounce("refused", 0.1, "c", "never")
        unknown = DebouncerClient(
            client, {"workflow_name": "process_user_input"}, queue="no-such-queue"
        )
        with pytest.raises(DBOSException, match="no-such-queue"):
            unknown.debounce("refused", 0.1, "c", "never")
        assert not [w for w in client.list_workflows() if w.input and "never" in str(w.input)]
        # A workflow_id in the options (read at each call, as upstream) names the next window.
        options: dict[str, Any] = {"workflow_name": "process_user_input"}
        pinned = DebouncerClient(client, options)  # type: ignore[arg-type]
        options["workflow_id"] = "client-pinned"
        assert pinned.debounce("pinned-key", 0.1, "c", "pinned").workflow_id == "client-pinned"
        assert pinned.debounce("pinned-key", 0.1, "c", "pinned").get_result() == (
            "Processing: pinned"
        )
    assert runs == [("c", "from client, last"), ("c", "pinned")]

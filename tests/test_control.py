"""Timeouts, cancellation, resume, fork and nondeterminism detection, on both backends."""

from __future__ import annotations

import threading
import time

import pytest
from conftest import run_system_sql

from dbos import DBOS, DBOSConfig, SetWorkflowID, SetWorkflowTimeout
from dbos.error import (
    DBOSAwaitedWorkflowCancelledError,
    DBOSUnexpectedStepError,
)

executed: list[str] = []
release = threading.Event()


@DBOS.step()
def record(tag: str) -> str:
    executed.append(tag)
    return tag


@DBOS.step()
def slow_step(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@DBOS.workflow()
def sleepy_child(seconds: float) -> str:
    DBOS.sleep(seconds)
    return "child done"


@DBOS.workflow()
def slow_parent(step_seconds: float) -> str:
    handle = DBOS.start_workflow(sleepy_child, 30.0)
    slow_step(step_seconds)
    slow_step(step_seconds)
    return handle.get_result()


@DBOS.workflow()
def sleeper(seconds: float) -> str:
    record("before-sleep")
    DBOS.sleep(seconds)
    record("after-sleep")
    return "woke"


@DBOS.step()
def wait_for_release() -> None:
    release.wait(10)


@DBOS.workflow()
def three_stage(x: int) -> list[str]:
    a = record(f"a{x}")
    wait_for_release()
    b = record(f"b{x}")
    c = record(f"c{x}")
    return [a, b, c]


def test_timeout_cancels_workflow_and_children(dbos: None) -> None:
    with SetWorkflowID("timed"), SetWorkflowTimeout(0.5):
        with pytest.raises(DBOSAwaitedWorkflowCancelledError, match="timed"):
            slow_parent(0.4)
    status = DBOS.get_workflow_status("timed")
    assert status is not None and status.status == "CANCELLED"
    child = DBOS.get_workflow_status("timed-1")
    assert child is not None
    assert child.status == "CANCELLED"
    assert child.workflow_deadline_epoch_ms == status.workflow_deadline_epoch_ms


def test_timeout_seen_by_a_waiting_handle_while_a_step_still_runs(dbos: None) -> None:
    with SetWorkflowTimeout(0.3):
        handle = DBOS.start_workflow(slow_parent, 2.0)
    started = time.monotonic()
    with pytest.raises(DBOSAwaitedWorkflowCancelledError):
        handle.get_result()
    assert time.monotonic() - started < 1.8  # did not wait for the 2 s step to end


def test_timeout_wakes_a_durable_sleep(dbos: None) -> None:
    with SetWorkflowTimeout(0.3):
        handle = DBOS.start_workflow(sleeper, 30.0)
    with pytest.raises(DBOSAwaitedWorkflowCancelledError):
        handle.get_result()
    assert DBOS.get_workflow_status(handle.workflow_id).status == "CANCELLED"  # type: ignore[union-attr]


def test_workflow_within_its_timeout_succeeds(dbos: None) -> None:
    with SetWorkflowTimeout(30):
        assert sleeper(0.05) == "woke"


def test_cancel_then_resume_from_last_completed_step(dbos: None) -> None:
    release.clear()
    executed.clear()
    with SetWorkflowID("resumable"):
        handle = DBOS.start_workflow(three_stage, 1)
    deadline = time.monotonic() + 10
    # Until step 1's checkpoint is in (its body running is not enough: a cancel before the
    # checkpoint rightly makes a resume run it again).
    while not DBOS.list_workflow_steps("resumable") and time.monotonic() < deadline:
        time.sleep(0.01)
    DBOS.cancel_workflow("resumable")
    assert DBOS.get_workflow_status("resumable").status == "CANCELLED"  # type: ignore[union-attr]
    release.set()
    with pytest.raises(DBOSAwaitedWorkflowCancelledError):
        handle.get_result()
    assert "b1" not in executed  # the cancelled run stopped at its next checkpoint

    resumed = DBOS.resume_workflow("resumable")
    assert resumed.get_result() == ["a1", "b1", "c1"]
    assert executed.count("a1") == 1  # step 1 came from its checkpoint
    assert DBOS.get_workflow_status("resumable").status == "SUCCESS"  # type: ignore[union-attr]


def test_fork_reuses_steps_before_start_step(dbos: None) -> None:
    release.set()
    executed.clear()
    with SetWorkflowID("original"):
        assert three_stage(2) == ["a2", "b2", "c2"]
    assert executed == ["a2", "b2", "c2"]
    with SetWorkflowID("forked"):
        handle = DBOS.fork_workflow("original", start_step=3)
    assert handle.workflow_id == "forked"
    assert handle.get_result() == ["a2", "b2", "c2"]
    assert executed == ["a2", "b2", "c2", "b2", "c2"]  # steps 3 and 4 ran again
    fork = DBOS.get_workflow_status("forked")
    assert fork is not None and fork.forked_from == "original"
    assert DBOS.get_workflow_status("original").was_forked_from  # type: ignore[union-attr]
    assert [s["function_id"] for s in DBOS.list_workflow_steps("forked")] == [1, 2, 3, 4]


nondeterministic_switch = {"use_other": False}


@DBOS.step()
def step_a() -> str:
    return "a"


@DBOS.step()
def step_b() -> str:
    return "b"


@DBOS.workflow()
def drifting() -> str:
    if nondeterministic_switch["use_other"]:
        return step_b() + step_a()
    return step_a() + step_b()


def test_different_step_at_recorded_number_is_nondeterminism(dbos: None) -> None:
    nondeterministic_switch["use_other"] = False
    with SetWorkflowID("drift"):
        assert drifting() == "ab"
    nondeterministic_switch["use_other"] = True
    try:
        handle = DBOS.fork_workflow("drift", start_step=2)
        with pytest.raises(DBOSUnexpectedStepError) as info:
            handle.get_result()
    finally:
        nondeterministic_switch["use_other"] = False
    message = str(info.value)
    assert "step_a" in message and "step_b" in message
    assert DBOS.get_workflow_status(handle.workflow_id).status == "ERROR"  # type: ignore[union-attr]


def test_durable_sleep_records_wake_time(dbos: None) -> None:
    with SetWorkflowID("sleep-1"):
        assert sleeper(0.05) == "woke"
    names = [s["function_name"] for s in DBOS.list_workflow_steps("sleep-1")]
    assert names == ["record", "DBOS.sleep", "record"]


def test_destroy_and_relaunch_in_one_process(system_database_url: str) -> None:
    for round_ in range(2):
        DBOS.destroy()
        DBOS(config={"name": "relaunch", "system_database_url": system_database_url})
        DBOS.launch()
        with SetWorkflowID(f"relaunch-{round_}"):
            assert sleeper(0.01) == "woke"
        assert len(DBOS.list_workflows()) == round_ + 1
    DBOS.destroy()


gate_after_destroy = threading.Event()
ran_after_destroy: list[str] = []


@DBOS.step()
def blocks_until_gate(tag: str) -> str:
    ran_after_destroy.append(tag)
    gate_after_destroy.wait(10)
    return tag


@DBOS.workflow()
def outlives_destroy() -> str:
    return blocks_until_gate("first") + blocks_until_gate("second")


def test_a_workflow_thread_left_running_by_destroy_writes_nothing(
    system_database_url: str,
) -> None:
    config: DBOSConfig = {"name": "outlive", "system_database_url": system_database_url}
    gate_after_destroy.clear()
    ran_after_destroy.clear()
    DBOS.destroy()
    DBOS(config=config)
    DBOS.reset_system_database()
    DBOS.launch()
    with SetWorkflowID("outliver"):
        DBOS.start_workflow(outlives_destroy)
    deadline = time.monotonic() + 10
    while not ran_after_destroy and time.monotonic() < deadline:
        time.sleep(0.01)
    DBOS.destroy()
    gate_after_destroy.set()  # the old thread finishes its step after destroy...
    time.sleep(0.2)
    DBOS(config=config)
    DBOS.launch()  # ...and recovery, not the old thread, records it
    assert DBOS.retrieve_workflow("outliver").get_result() == "firstsecond"
    assert ran_after_destroy == ["first", "first", "second"]
    assert [s["output"] for s in DBOS.list_workflow_steps("outliver")] == ["first", "second"]
    DBOS.destroy()


@DBOS.workflow()
def parent_with_background_child() -> str:
    handle = DBOS.start_workflow(sleepy_child, 0.3)
    DBOS.sleep(30)
    return handle.get_result()


def test_cancel_without_cascade_leaves_children_running(dbos: None) -> None:
    with SetWorkflowID("lone-cancel"):
        handle = DBOS.start_workflow(parent_with_background_child)
    deadline = time.monotonic() + 10
    while DBOS.get_workflow_status("lone-cancel-1") is None and time.monotonic() < deadline:
        time.sleep(0.01)
    DBOS.cancel_workflow("lone-cancel")
    with pytest.raises(DBOSAwaitedWorkflowCancelledError):
        handle.get_result()
    assert DBOS.retrieve_workflow("lone-cancel-1").get_result() == "child done"
    DBOS.cancel_workflow("lone-cancel", cancel_children=True)  # finished child: unchanged
    assert DBOS.get_workflow_status("lone-cancel-1").status == "SUCCESS"  # type: ignore[union-attr]


def test_resume_restarts_a_dead_lettered_workflow(dbos: None, system_database_url: str) -> None:
    release.clear()
    executed.clear()
    with SetWorkflowID("dead-lettered"):
        DBOS.start_workflow(three_stage, 3)
    deadline = time.monotonic() + 10
    # Recorded, not only run (the cancel-then-resume race): else the resume runs step 1 again.
    while len(DBOS.list_workflow_steps("dead-lettered")) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    DBOS.cancel_workflow("dead-lettered")
    release.set()
    # Stand in for a crash loop that exhausted max_recovery_attempts.
    run_system_sql(
        system_database_url,
        "UPDATE {prefix}workflow_status SET status = 'MAX_RECOVERY_ATTEMPTS_EXCEEDED' "
        "WHERE workflow_uuid = 'dead-lettered'",
    )
    handle = DBOS.resume_workflow("dead-lettered")
    assert handle.get_result() == ["a3", "b3", "c3"]
    assert executed.count("a3") == 1
    status = DBOS.get_workflow_status("dead-lettered")
    assert status is not None and (status.status, status.recovery_attempts) == ("SUCCESS", 1)


def test_fork_to_a_taken_id_is_refused_and_writes_nothing(dbos: None) -> None:
    from dbos.error import DBOSConflictingWorkflowError

    release.set()
    with SetWorkflowID("fork-src"):
        three_stage(4)
    with SetWorkflowID("fork-taken"):
        three_stage(5)
    before = DBOS.list_workflow_steps("fork-taken")
    with SetWorkflowID("fork-taken"), pytest.raises(DBOSConflictingWorkflowError):
        DBOS.fork_workflow("fork-src", start_step=3)
    assert DBOS.list_workflow_steps("fork-taken") == before
    assert not DBOS.get_workflow_status("fork-src").was_forked_from  # type: ignore[union-attr]


fork_factor = {"value": 2}


@DBOS.step()
def ctl_scaled(x: int) -> int:
    return x * fork_factor["value"]


@DBOS.workflow()
def ctl_scaling_child(x: int) -> int:
    return ctl_scaled(x)


@DBOS.step()
def ctl_total(values: list[int]) -> int:
    return sum(values)


@DBOS.workflow()
def ctl_fan_out() -> int:
    handles = [DBOS.start_workflow(ctl_scaling_child, x) for x in (1, 2, 3)]
    return ctl_total([h.get_result() for h in handles])


def test_fork_with_replacement_children_reads_the_replacements(dbos: None) -> None:
    fork_factor["value"] = 2
    with SetWorkflowID("ctl-fan"):
        assert ctl_fan_out() == 12
    children = [s["child_workflow_id"] for s in DBOS.list_workflow_steps("ctl-fan")[:3]]
    fork_factor["value"] = 10
    # Redo the middle child with the new factor, then fork the parent from its first result
    # read: the starts are reused, the middle one pointing at the redone child.
    redone = DBOS.fork_workflow(children[1], 1)
    assert redone.get_result() == 20
    forked = DBOS.fork_workflow(
        "ctl-fan", 4, replacement_children={children[1]: redone.workflow_id}
    )
    assert forked.get_result() == 2 + 20 + 6
    steps = DBOS.list_workflow_steps(forked.workflow_id)
    assert [s["child_workflow_id"] for s in steps[:3]] == [
        children[0],
        redone.workflow_id,
        children[2],
    ]
    # The original is untouched.
    assert [s["child_workflow_id"] for s in DBOS.list_workflow_steps("ctl-fan")[:3]] == children


exit_plan = {"exit": True}


@DBOS.step()
def ctl_maybe_exits(kind: str) -> str:
    if exit_plan["exit"]:
        raise SystemExit(3) if kind == "exit" else KeyboardInterrupt()
    return "carried on"


@DBOS.workflow()
def ctl_exits_midway(kind: str) -> str:
    record("before")
    return ctl_maybe_exits(kind)


@pytest.mark.parametrize("kind", ["exit", "interrupt"])
def test_system_exit_in_a_step_leaves_the_workflow_pending_and_says_so(
    dbos: None, dbos_log: pytest.LogCaptureFixture, kind: str
) -> None:
    exit_plan["exit"] = True
    workflow_id = f"ctl-exits-{kind}"
    with SetWorkflowID(workflow_id):
        handle = DBOS.start_workflow(ctl_exits_midway, kind)
    with pytest.raises((SystemExit, KeyboardInterrupt)):
        handle.get_result()  # the caller that waits in this process hears of it
    status = DBOS.get_workflow_status(workflow_id)
    assert status is not None and status.status == "PENDING"
    assert [s["function_name"] for s in DBOS.list_workflow_steps(workflow_id)] == [
        record.__qualname__
    ]
    assert f"Workflow {workflow_id} was stopped by" in dbos_log.text
    assert "stays PENDING" in dbos_log.text
    exit_plan["exit"] = False
    assert DBOS.resume_workflow(workflow_id).get_result() == "carried on"

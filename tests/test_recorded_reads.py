"""Reads a workflow branches on are recorded, and recorded times are real: `handle.get_status()`
inside a workflow is a step (a replay sees what the first run saw), and a `DBOS.sleep` step's
completion time is when the sleep ended, not when it began."""

from __future__ import annotations

import asyncio

from dbos import DBOS, SetWorkflowID


@DBOS.workflow()
def quick_child() -> str:
    return "child done"


@DBOS.workflow()
def looks_at_its_child() -> str:
    handle = DBOS.start_workflow(quick_child)
    handle.get_result()
    return handle.get_status().status


@DBOS.workflow()
def sleeps(seconds: float) -> None:
    DBOS.sleep(seconds)


@DBOS.workflow()
async def sleeps_async(seconds: float) -> None:
    await DBOS.sleep_async(seconds)


def test_get_status_inside_a_workflow_is_recorded(dbos: None) -> None:
    with SetWorkflowID("looks"):
        assert looks_at_its_child() == "SUCCESS"
    steps = DBOS.list_workflow_steps("looks")
    names = [s["function_name"] for s in steps]
    assert names[-1] == "DBOS.getStatus"
    assert steps[-1]["output"].status == "SUCCESS"
    # A replay of the whole workflow (a fork from its last step) reads the recorded status.
    forked = DBOS.fork_workflow("looks", steps[-1]["function_id"] + 1)
    assert forked.get_result() == "SUCCESS"
    assert [s["function_name"] for s in DBOS.list_workflow_steps(forked.workflow_id)] == names


def test_a_sleep_step_completes_when_the_sleep_ends(dbos: None) -> None:
    with SetWorkflowID("sleeper"):
        sleeps(0.3)
    with SetWorkflowID("async-sleeper"):
        asyncio.run(sleeps_async(0.3))
    for workflow_id in ("sleeper", "async-sleeper"):
        (step,) = DBOS.list_workflow_steps(workflow_id)
        assert step["function_name"] == "DBOS.sleep"
        assert step["completed_at_epoch_ms"] - step["started_at_epoch_ms"] >= 300

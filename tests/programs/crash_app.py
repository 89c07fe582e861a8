"""Worker program for `tests/test_crash_recovery.py`: a real DBOS application that the tests run
as separate processes and kill with SIGKILL.

Usage::

    python tests/programs/crash_app.py ROLE SCENARIO WORKFLOW_ID MARKER_DIR

The system database URL comes from ``$CRASH_APP_SYSTEM_DATABASE_URL``.

Roles
-----
``start``    process 1: launch, then start the scenario's workflow under WORKFLOW_ID; it blocks
             at the scenario's kill point (or kills itself). Should it get past (paused, then
             resumed after another process recovered the workflow) it prints a JSON report.
``recover``  process 2: create ``MARKER_DIR/release`` (so nothing blocks any more), launch
             (recovery happens there), wait for WORKFLOW_ID and print a JSON report.
``race``     launch, mark ``ready``, wait for ``MARKER_DIR/barrier``, then run the scenario's
             workflow under WORKFLOW_ID and print a JSON report.
``init``     launch (creating the system database) and exit, printing ``{"pid": ...}``.
``launch_race``  mark ``ready``, wait for ``MARKER_DIR/barrier``, then launch (so several
             processes open a fresh system database at once) and print ``{"pid": ...}``.

Every step appends its process ID to ``MARKER_DIR/<label>.mark`` when it *executes* (O_APPEND,
fsync), so the test counts executions of each step across processes and sees which process ran
them. Workflow bodies are deterministic; the only thing that differs between processes is
`hold()`, a non-durable wait that returns at once when the release file exists.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dbos import DBOS, SetWorkflowID, WorkflowSerializationFormat
from dbos.error import DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded

DATABASE_URL_ENV = "CRASH_APP_SYSTEM_DATABASE_URL"
RELEASE = "release"
BARRIER = "barrier"

MARKER_DIR = Path(".")


# ------------------------------------------------------------------------------ markers


def mark(label: str) -> None:
    """Append this process's ID to `<label>.mark`, durably, before returning."""
    fd = os.open(MARKER_DIR / f"{label}.mark", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, f"{os.getpid()}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def wait_for_file(name: str, poll: float = 0.01) -> None:
    """Block until `MARKER_DIR/name` exists (forever, if nobody creates it)."""
    path = MARKER_DIR / name
    while not path.exists():
        time.sleep(poll)


def hold() -> None:
    """The kill point: process 1 blocks here until SIGKILL; process 2 passes straight through."""
    wait_for_file(RELEASE)


def produced(value: Any) -> dict[str, Any]:
    return {"value": value, "pid": os.getpid()}


# ------------------------------------------------------------------------------ three steps


@DBOS.step()
def add_one(x: int) -> dict[str, Any]:
    mark("add_one")
    return produced(x + 1)


@DBOS.step()
def double(x: int, hold_here: bool) -> dict[str, Any]:
    mark("double")
    if hold_here:
        hold()
    return produced(x * 2)


@DBOS.step()
def finish(x: int) -> dict[str, Any]:
    mark("finish")
    return produced(f"done-{x}")


@DBOS.workflow()
def three_steps(x: int, kill_at: str) -> dict[str, Any]:
    if kill_at == "before_first":
        mark("body_before_first")
        hold()
    a = add_one(x)
    b = double(a["value"], kill_at == "mid_step")
    if kill_at == "between":
        mark("body_between")
        hold()
    c = finish(b["value"])
    return {"s1": a, "s2": b, "s3": c}


# ------------------------------------------------------------------------------ child workflow


@DBOS.step()
def child_step_one(x: int) -> dict[str, Any]:
    mark("child_step_one")
    return produced(x * 3)


@DBOS.step()
def child_step_two(x: int) -> dict[str, Any]:
    mark("child_step_two")
    hold()
    return produced(x + 100)


@DBOS.workflow()
def child_workflow(x: int) -> dict[str, Any]:
    a = child_step_one(x)
    b = child_step_two(a["value"])
    return {"c1": a, "c2": b}


@DBOS.step()
def parent_step_one(x: int) -> dict[str, Any]:
    mark("parent_step_one")
    return produced(x + 1)


@DBOS.step()
def parent_final(x: int) -> dict[str, Any]:
    mark("parent_final")
    return produced(x - 1)


@DBOS.workflow()
def parent_workflow(x: int) -> dict[str, Any]:
    p = parent_step_one(x)
    c = child_workflow(p["value"])
    f = parent_final(c["c2"]["value"])
    return {"p1": p, "child": c, "p2": f}


# ------------------------------------------------------------------------------ portable format


@DBOS.workflow(serialization_type=WorkflowSerializationFormat.PORTABLE)
def portable_workflow(when: datetime, x: int) -> dict[str, Any]:
    """Recorded in upstream's portable JSON: its datetime argument is stored as text, so a
    recovered run must get a datetime back from the parameter's annotation."""
    a = add_one(x)
    b = double(a["value"], True)
    return {"when_is_datetime": isinstance(when, datetime), "when": when, "s1": a, "s2": b}


PORTABLE_WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


# ------------------------------------------------------------------------------ crash loop


@DBOS.step()
def self_destruct() -> None:
    mark("self_destruct")
    os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(60)  # not reached: SIGKILL cannot be caught


@DBOS.workflow(max_recovery_attempts=2)
def crash_loop(x: int) -> dict[str, Any]:
    a = add_one(x)
    self_destruct()
    return {"s1": a}


# ------------------------------------------------------------------------------ race


@DBOS.step()
def slow_step(x: int) -> dict[str, Any]:
    mark("slow_step")
    time.sleep(0.3)  # widen the window in which the other process could run the body too
    return produced(x * 7)


@DBOS.workflow()
def race_workflow(x: int) -> dict[str, Any]:
    mark("race_body")
    return {"s1": slow_step(x)}


# ------------------------------------------------------------------------------ driver

INPUT = 5


def run_scenario(scenario: str, workflow_id: str) -> Any:
    """Start the scenario's workflow under `workflow_id` (directly, unless `background`)."""
    with SetWorkflowID(workflow_id):
        if scenario in ("mid_step", "between", "before_first"):
            return three_steps(INPUT, scenario)
        if scenario == "child":
            return parent_workflow(INPUT)
        if scenario == "crash_loop":
            return crash_loop(INPUT)
        if scenario == "race":
            return race_workflow(INPUT)
        if scenario == "portable":
            return portable_workflow(PORTABLE_WHEN, INPUT)
        if scenario == "started_step":  # a step started on its own: a `<temp>.` workflow
            handle = DBOS.start_workflow(double, INPUT, True)
        elif scenario == "background":
            handle = DBOS.start_workflow(three_steps, INPUT, "mid_step")
        else:
            raise SystemExit(f"unknown scenario {scenario!r}")
    assert handle.workflow_id == workflow_id, handle.workflow_id
    mark("background_started")
    threading.Event().wait()  # the workflow runs on its own thread; wait here for SIGKILL
    raise AssertionError("unreachable")


def describe(value: Any) -> Any:
    """A JSON-friendly form of a step output or error."""
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    return value


def report(workflow_id: str, result: Any, error: BaseException | None) -> dict[str, Any]:
    status = DBOS.get_workflow_status(workflow_id)
    steps = DBOS.list_workflow_steps(workflow_id)
    children: dict[str, Any] = {}
    for step in steps:
        child_id = step["child_workflow_id"]
        if child_id is not None and child_id not in children:
            child_status = DBOS.get_workflow_status(child_id)
            children[child_id] = {
                "status": child_status.status if child_status else None,
                "steps": [
                    [s["function_id"], s["function_name"]]
                    for s in DBOS.list_workflow_steps(child_id)
                ],
            }
    return {
        "pid": os.getpid(),
        "result": result,
        "error": type(error).__name__ if error is not None else None,
        "status": status.status if status else None,
        "recovery_attempts": status.recovery_attempts if status else None,
        "steps": [
            {
                "function_id": s["function_id"],
                "function_name": s["function_name"],
                "output": describe(s["output"]),
                "error": describe(s["error"]),
                "child_workflow_id": s["child_workflow_id"],
            }
            for s in steps
        ],
        "children": children,
    }


def main(argv: list[str]) -> int:
    global MARKER_DIR
    role, scenario, workflow_id, marker_dir = argv
    MARKER_DIR = Path(marker_dir)
    DBOS(
        config={
            "name": "crash-app",
            "system_database_url": os.environ[DATABASE_URL_ENV],
            "log_level": "WARNING",
            "executor_timeout_sec": float(os.environ.get("CRASH_APP_EXECUTOR_TIMEOUT", "30")),
        }
    )
    if role == "recover":
        (MARKER_DIR / RELEASE).touch()
    if role == "launch_race":
        mark("ready")
        wait_for_file(BARRIER, poll=0.001)  # leave the barrier within a millisecond of each other
    DBOS.launch()
    if role in ("init", "launch_race"):
        mark("launched")
        print(json.dumps({"pid": os.getpid()}), flush=True)
        DBOS.destroy()
        return 0
    result: Any = None
    error: BaseException | None = None
    try:
        if role == "start":
            # Normally killed before this returns; a process that was only paused (SIGSTOP) and
            # superseded by a recovery gets here with the recovering process's outcome.
            result = run_scenario(scenario, workflow_id)
        elif role == "recover":
            result = DBOS.retrieve_workflow(workflow_id).get_result()
        elif role == "race":
            mark("ready")
            wait_for_file(BARRIER)
            result = run_scenario(scenario, workflow_id)
        else:
            raise SystemExit(f"unknown role {role!r}")
    except DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded as exc:
        error = exc
    print(json.dumps(report(workflow_id, result, error)), flush=True)
    DBOS.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

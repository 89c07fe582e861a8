"""Durability under real process death: run `tests/crash_app.py`, SIGKILL it at a known point,
then start the same program again and check that `DBOS.launch()` finishes the workflow with
every completed step run exactly once.

Each step of the app appends its process ID to a marker file when it executes, so the tests count
executions per step across processes and see which process ran each one; each step's output also
carries the PID of the process that produced it, so a replayed output is told apart from a re-run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from programs import program
from support.processes import kill_all

APP = program("crash_app")
PROCESS_TIMEOUT = 60.0
MARKER_TIMEOUT = 30.0
WORKFLOW_ID = "crash-wf"
INPUT = 5  # crash_app.INPUT


class Launcher:
    """Starts crash_app processes for one test and kills whatever is still running at the end."""

    def __init__(self, database_url: str, markers: Path, app: Path = APP) -> None:
        self.database_url = database_url
        self.markers = markers
        self.app = app
        self.env: dict[str, str] = {}
        self.procs: list[subprocess.Popen[str]] = []

    def spawn(self, role: str, scenario: str) -> subprocess.Popen[str]:
        env = dict(os.environ, CRASH_APP_SYSTEM_DATABASE_URL=self.database_url, **self.env)
        proc = subprocess.Popen(
            [sys.executable, str(self.app), role, scenario, WORKFLOW_ID, str(self.markers)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.procs.append(proc)
        return proc

    def kill_all(self) -> None:
        kill_all(self.procs)

    # ---------------------------------------------------------------- markers

    def pids(self, label: str) -> list[int]:
        """The PIDs that executed `label`, in order (one line per execution)."""
        path = self.markers / f"{label}.mark"
        if not path.exists():
            return []
        return [int(line) for line in path.read_text().splitlines() if line.strip()]

    def wait_for_marker(
        self,
        label: str,
        procs: list[subprocess.Popen[str]],
        count: int = 1,
        timeout: float = MARKER_TIMEOUT,
    ) -> None:
        """Poll until `label` has `count` executions; fail early if one of `procs` exits."""
        deadline = time.monotonic() + timeout
        while len(self.pids(label)) < count:
            for proc in procs:
                if proc.poll() is not None:
                    _, err = proc.communicate()
                    pytest.fail(
                        f"process exited ({proc.returncode}) before marker {label!r}:\n{err}"
                    )
            if time.monotonic() > deadline:
                pytest.fail(f"marker {label!r} not reached within {timeout}s")
            time.sleep(0.01)

    # ---------------------------------------------------------------- processes

    def sigkill(self, proc: subprocess.Popen[str]) -> None:
        os.kill(proc.pid, signal.SIGKILL)
        self.expect_killed(proc)

    def expect_killed(self, proc: subprocess.Popen[str]) -> None:
        _, err = proc.communicate(timeout=PROCESS_TIMEOUT)
        assert proc.returncode == -signal.SIGKILL, f"exit {proc.returncode}:\n{err}"

    def finish(self, proc: subprocess.Popen[str]) -> dict[str, Any]:
        """Wait for a process that should exit cleanly and return its JSON report."""
        out, err = proc.communicate(timeout=PROCESS_TIMEOUT)
        assert proc.returncode == 0, f"exit {proc.returncode}:\n{err}"
        report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return report

    def recover(self, scenario: str) -> dict[str, Any]:
        return self.finish(self.spawn("recover", scenario))


@pytest.fixture
def launcher(system_database_url: str, tmp_path: Path) -> Iterator[Launcher]:
    markers = tmp_path / "markers"
    markers.mkdir()
    launcher = Launcher(system_database_url, markers)
    try:
        yield launcher
    finally:
        launcher.kill_all()


def step_names(report: dict[str, Any]) -> list[tuple[int, str]]:
    return [(s["function_id"], s["function_name"]) for s in report["steps"]]


def three_step_result(pids: tuple[int, int, int]) -> dict[str, Any]:
    """What `three_steps(INPUT, ...)` returns when step i ran in process pids[i]."""
    return {
        "s1": {"value": INPUT + 1, "pid": pids[0]},
        "s2": {"value": (INPUT + 1) * 2, "pid": pids[1]},
        "s3": {"value": f"done-{(INPUT + 1) * 2}", "pid": pids[2]},
    }


# ------------------------------------------------------------------------------ scenarios


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("scenario", "kill_marker"),
    [
        ("mid_step", "double"),  # step 2 of 3 in flight
        ("background", "double"),  # same, started with DBOS.start_workflow
        ("between", "body_between"),  # step 2 checkpointed, step 3 not started
        ("before_first", "body_before_first"),  # body running, no step yet
    ],
)
def test_sigkill_then_recover_three_steps(
    launcher: Launcher, scenario: str, kill_marker: str
) -> None:
    first = launcher.spawn("start", scenario)
    launcher.wait_for_marker(kill_marker, [first])
    if scenario == "background":
        # start_workflow returned while the workflow ran on its own thread.
        launcher.wait_for_marker("background_started", [first])
    launcher.sigkill(first)

    report = launcher.recover(scenario)
    second = report["pid"]

    assert report["status"] == "SUCCESS"
    assert report["error"] is None
    assert report["recovery_attempts"] == 2
    assert step_names(report) == [(1, "add_one"), (2, "double"), (3, "finish")]

    if scenario in ("mid_step", "background"):
        # Step 1 completed before the kill: replayed. Step 2 was cut off: run again once.
        assert launcher.pids("add_one") == [first.pid]
        assert launcher.pids("double") == [first.pid, second]
        assert launcher.pids("finish") == [second]
        assert report["result"] == three_step_result((first.pid, second, second))
    elif scenario == "between":
        assert launcher.pids("add_one") == [first.pid]
        assert launcher.pids("double") == [first.pid]
        assert launcher.pids("finish") == [second]
        assert launcher.pids("body_between") == [first.pid, second]
        assert report["result"] == three_step_result((first.pid, first.pid, second))
    else:
        assert launcher.pids("body_before_first") == [first.pid, second]
        for label in ("add_one", "double", "finish"):
            assert launcher.pids(label) == [second]
        assert report["result"] == three_step_result((second, second, second))
    # The step outputs recorded are the ones the workflow returned.
    assert [s["output"] for s in report["steps"]] == list(report["result"].values())


@pytest.mark.timeout(120)
def test_sigkill_in_a_step_started_on_its_own(launcher: Launcher) -> None:
    first = launcher.spawn("start", "started_step")
    launcher.wait_for_marker("background_started", [first])
    launcher.wait_for_marker("double", [first])
    launcher.sigkill(first)

    report = launcher.recover("started_step")
    second = report["pid"]
    assert report["status"] == "SUCCESS"
    assert step_names(report) == [(1, "double")]
    assert launcher.pids("double") == [first.pid, second]
    assert report["result"] == {"value": INPUT * 2, "pid": second}


@pytest.mark.timeout(120)
def test_sigkill_inside_child_workflow(launcher: Launcher) -> None:
    first = launcher.spawn("start", "child")
    launcher.wait_for_marker("child_step_two", [first])
    launcher.sigkill(first)

    report = launcher.recover("child")
    second = report["pid"]

    assert report["status"] == "SUCCESS"
    child_id = f"{WORKFLOW_ID}-2"
    # Calling a child directly takes two step numbers: the child's start, then its result.
    assert step_names(report) == [
        (1, "parent_step_one"),
        (2, "child_workflow"),
        (3, "DBOS.getResult"),
        (4, "parent_final"),
    ]
    assert report["steps"][1]["child_workflow_id"] == child_id
    assert report["children"] == {
        child_id: {
            "status": "SUCCESS",
            "steps": [[1, "child_step_one"], [2, "child_step_two"]],
        }
    }
    assert launcher.pids("parent_step_one") == [first.pid]
    assert launcher.pids("child_step_one") == [first.pid]
    assert launcher.pids("child_step_two") == [first.pid, second]
    assert launcher.pids("parent_final") == [second]

    p1 = INPUT + 1
    c1 = p1 * 3
    c2 = c1 + 100
    assert report["result"] == {
        "p1": {"value": p1, "pid": first.pid},
        "child": {
            "c1": {"value": c1, "pid": first.pid},
            "c2": {"value": c2, "pid": second},
        },
        "p2": {"value": c2 - 1, "pid": second},
    }


@pytest.mark.timeout(120)
def test_crash_loop_stops_at_max_recovery_attempts(launcher: Launcher) -> None:
    max_recovery_attempts = 2  # crash_app.crash_loop
    first = launcher.spawn("start", "crash_loop")
    launcher.expect_killed(first)  # the workflow SIGKILLs its own process

    reports: list[dict[str, Any]] = []
    killed_recoveries = 0
    for _ in range(max_recovery_attempts + 3):  # bounded: never loop forever
        proc = launcher.spawn("recover", "crash_loop")
        out, err = proc.communicate(timeout=PROCESS_TIMEOUT)
        if proc.returncode == -signal.SIGKILL:
            killed_recoveries += 1
            continue
        assert proc.returncode == 0, f"exit {proc.returncode}:\n{err}"
        reports.append(json.loads(out.strip().splitlines()[-1]))
        break

    assert killed_recoveries == max_recovery_attempts
    assert len(reports) == 1
    report = reports[0]
    assert report["status"] == "MAX_RECOVERY_ATTEMPTS_EXCEEDED"
    assert report["error"] == "DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded"
    executions = launcher.pids("self_destruct")
    assert len(executions) == 1 + max_recovery_attempts
    assert executions[0] == first.pid
    assert launcher.pids("add_one") == [first.pid]  # checkpointed before the first crash

    # A further start of the program leaves the workflow alone: no more executions.
    again = launcher.recover("crash_loop")
    assert again["status"] == "MAX_RECOVERY_ATTEMPTS_EXCEEDED"
    assert again["error"] == "DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded"
    assert len(launcher.pids("self_destruct")) == 1 + max_recovery_attempts


@pytest.mark.timeout(120)
def test_paused_process_resumed_after_recovery_adopts_the_recorded_outcome(
    launcher: Launcher,
) -> None:
    """Process 1 is frozen (SIGSTOP) mid-step, not dead; once its heartbeat is older than the
    bound (2 s here), process 2 takes the workflow over and finishes it. When process 1 thaws,
    its step finishes but its checkpoint must be refused (it no longer owns the workflow): it
    returns process 2's recorded result and changes nothing."""
    launcher.env["CRASH_APP_EXECUTOR_TIMEOUT"] = "2"
    first = launcher.spawn("start", "mid_step")
    launcher.wait_for_marker("double", [first])
    os.kill(first.pid, signal.SIGSTOP)
    try:
        report = launcher.recover("mid_step")
    finally:
        os.kill(first.pid, signal.SIGCONT)
    second = report["pid"]
    expected = three_step_result((first.pid, second, second))
    assert report["status"] == "SUCCESS"
    assert report["result"] == expected

    stale = launcher.finish(first)  # its `double` returns now: the release file exists
    assert stale["result"] == expected
    assert stale["status"] == "SUCCESS"
    assert [s["output"] for s in stale["steps"]] == list(expected.values())
    assert launcher.pids("double") == [first.pid, second]
    assert launcher.pids("finish") == [second]  # the superseded execution stopped at its step


def run_concurrently(launcher: Launcher, role: str, scenario: str, n: int = 2) -> list[Any]:
    """Start `n` processes that mark `ready` and wait; release them together; their reports."""
    procs = [launcher.spawn(role, scenario) for _ in range(n)]
    launcher.wait_for_marker("ready", procs, count=n)
    (launcher.markers / "barrier").touch()
    reports = [launcher.finish(proc) for proc in procs]
    assert sorted(r["pid"] for r in reports) == sorted(p.pid for p in procs)
    return reports


@pytest.mark.timeout(120)
def test_two_processes_race_on_one_workflow_id(launcher: Launcher) -> None:
    # The system database exists before the racers launch: this test is about the workflow ID
    # (test_concurrent_first_launch covers processes creating the database at once).
    launcher.finish(launcher.spawn("init", "race"))
    reports = run_concurrently(launcher, "race", "race")

    assert len(launcher.pids("race_body")) == 1
    assert launcher.pids("slow_step") == launcher.pids("race_body")
    winner = launcher.pids("race_body")[0]
    assert winner in {r["pid"] for r in reports}
    expected = {"s1": {"value": INPUT * 7, "pid": winner}}
    for report in reports:
        assert report["result"] == expected
        assert report["status"] == "SUCCESS"
        assert report["recovery_attempts"] == 1  # nobody took it over
        assert step_names(report) == [(1, "slow_step")]


@pytest.mark.timeout(120)
def test_concurrent_first_launch(launcher: Launcher) -> None:
    """Several copies of an application started at once on a fresh system database (a deploy
    of N replicas): every one must launch; creating the database and schema is idempotent."""
    run_concurrently(launcher, "launch_race", "none", n=3)
    assert len(launcher.pids("launched")) == 3


@pytest.mark.timeout(120)
def test_sigkill_then_recover_a_portable_workflow(
    launcher: Launcher, system_database_url: str
) -> None:
    """A workflow recorded in the portable format keeps that format when another process
    recovers it, and its datetime argument (stored as RFC 3339 text) is a datetime again."""
    from conftest import query_system_sql

    first = launcher.spawn("start", "portable")
    launcher.wait_for_marker("double", [first])
    launcher.sigkill(first)

    report = launcher.recover("portable")
    second = report["pid"]
    assert report["status"] == "SUCCESS"
    assert launcher.pids("add_one") == [first.pid]
    assert launcher.pids("double") == [first.pid, second]
    assert report["result"] == {
        "when_is_datetime": True,
        "when": "2024-01-02T03:04:05.000Z",
        "s1": {"value": INPUT + 1, "pid": first.pid},
        "s2": {"value": (INPUT + 1) * 2, "pid": second},
    }
    rows = query_system_sql(
        system_database_url,
        f"SELECT serialization, inputs FROM {{prefix}}workflow_status "
        f"WHERE workflow_uuid = '{WORKFLOW_ID}'",
    )
    assert rows == [
        ("portable_json", '{"namedArgs":{},"positionalArgs":["2024-01-02T03:04:05.000Z",5]}')
    ]

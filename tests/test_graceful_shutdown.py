"""Graceful shutdown under real signals: run `tests/programs/sigterm_app.py`, send SIGTERM while its
workflow is in the middle of a step, and check that the step finished and was recorded, that the
process exited soon after, and that a new process recovers the workflow without running the
step again; a step longer than the grace period is cut off and runs again (at least once), as
after a crash. Also under uvicorn with the FastAPI integration, with the application's own
SIGTERM handler installed before or after DBOS, and with the handlers turned off.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from programs import program
from support.processes import kill_all

APP = program("sigterm_app")
STEP_SEC = 2.0  # sigterm_app.STEP_SEC
SIGTERM_STATUS = 128 + signal.SIGTERM  # what DBOS exits with after the drain
TIMEOUT = 60.0


class App:
    """Processes of sigterm_app for one test; whatever still runs at the end is killed."""

    def __init__(self, database_url: str, markers: Path) -> None:
        self.markers = markers
        self.env = dict(os.environ, SIGTERM_APP_SYSTEM_DATABASE_URL=database_url)
        self.procs: list[subprocess.Popen[str]] = []

    def spawn(self, role: str, *args: str, **env: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, str(APP), role, str(self.markers), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**self.env, **env},
        )
        self.procs.append(proc)
        return proc

    def pids(self, label: str) -> list[int]:
        path = self.markers / f"{label}.mark"
        if not path.exists():
            return []
        return [int(line) for line in path.read_text().splitlines() if line.strip()]

    def wait_for(self, label: str, proc: subprocess.Popen[str]) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not self.pids(label):
            if proc.poll() is not None:
                _, err = proc.communicate()
                pytest.fail(f"the app exited ({proc.returncode}) before {label}:\n{err}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {label} within {TIMEOUT}s")
            time.sleep(0.01)

    def terminate_mid_step(self, proc: subprocess.Popen[str]) -> tuple[float, int, str]:
        """SIGTERM once step `a` runs; (seconds until the process ended, its status, stderr)."""
        self.wait_for("a.start", proc)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=TIMEOUT)
        return time.monotonic() - sent, proc.returncode, err

    def recover(self) -> dict[str, Any]:
        proc = self.spawn("recover")
        out, err = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0, err
        report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return report

    def kill_all(self) -> None:
        kill_all(self.procs)


@pytest.fixture
def app(system_database_url: str, tmp_path: Path) -> Iterator[App]:
    runner = App(system_database_url, tmp_path)
    try:
        yield runner
    finally:
        runner.kill_all()


def assert_step_finished_then_recovered(app: App, first: subprocess.Popen[str]) -> None:
    """Step `a` ran once, in the first process, and finished there; `b` ran only at recovery,
    and the recovered result carries the first process's output of `a` (not re-run)."""
    assert app.pids("a.start") == [first.pid]
    assert app.pids("a.end") == [first.pid]
    assert first.pid not in app.pids("b")
    report = app.recover()
    assert app.pids("a.start") == [first.pid], "recovery ran the finished step again"
    assert report["result"] == {"a": first.pid, "b": report["pid"]}
    assert app.pids("b") == [report["pid"]]


def test_sigterm_lets_the_running_step_finish_and_recovery_skips_it(app: App) -> None:
    proc = app.spawn("run")
    elapsed, status, err = app.terminate_mid_step(proc)
    assert status == SIGTERM_STATUS, err
    # It waited for the step (about STEP_SEC) and no longer: step b never began here.
    assert elapsed < STEP_SEC + 10, err
    assert "stops taking work" in err
    assert_step_finished_then_recovered(app, proc)


def test_a_step_longer_than_the_grace_period_is_cut_off_and_runs_again(app: App) -> None:
    proc = app.spawn("run", SIGTERM_APP_GRACE_SEC="0.5", SIGTERM_APP_STEP_SEC="120")
    elapsed, status, err = app.terminate_mid_step(proc)
    assert status == SIGTERM_STATUS, err
    assert elapsed < 30, err
    assert app.pids("a.end") == []  # cut off mid-step
    report = app.recover()
    # At least once, as after a crash: the unfinished step ran again in the new process.
    assert app.pids("a.start") == [proc.pid, report["pid"]]
    assert report["result"] == {"a": report["pid"], "b": report["pid"]}


def test_an_application_handler_installed_before_dbos_still_runs(app: App) -> None:
    """Chained: it runs at once, and the drain still happens before the process exits (the
    handler lets the main thread return: the status is the application's, 0)."""
    proc = app.spawn("user_before")
    _, status, err = app.terminate_mid_step(proc)
    assert status == 0, err
    assert app.pids("user_handler") == [proc.pid]
    assert_step_finished_then_recovered(app, proc)


def test_an_application_handler_installed_after_dbos_that_chains_keeps_the_drain(
    app: App,
) -> None:
    proc = app.spawn("user_after")
    _, status, err = app.terminate_mid_step(proc)
    assert status == SIGTERM_STATUS, err
    assert app.pids("user_handler") == [proc.pid]
    assert_step_finished_then_recovered(app, proc)


def test_without_the_handlers_sigterm_ends_the_process_at_once(app: App) -> None:
    proc = app.spawn("run", SIGTERM_APP_NO_HANDLERS="1", SIGTERM_APP_STEP_SEC="120")
    elapsed, status, err = app.terminate_mid_step(proc)
    assert status == -signal.SIGTERM, err
    assert app.pids("a.end") == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve_and_start(app: App, role: str, **env: str) -> subprocess.Popen[str]:
    port = _free_port()
    proc = app.spawn(role, str(port), **env)
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/start", timeout=5) as answer:
                assert json.loads(answer.read()) == {"workflow_id": "wf"}
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                _, err = proc.communicate(timeout=10)
                pytest.fail(f"uvicorn did not serve:\n{err}")
            time.sleep(0.1)


def test_sigterm_under_uvicorn_drains_in_the_lifespan_shutdown(app: App) -> None:
    proc = _serve_and_start(app, "serve")
    elapsed, status, err = app.terminate_mid_step(proc)
    # uvicorn re-raises the SIGTERM it captured once it has shut down (DBOS did not install
    # a handler: it was launched by the lifespan, off the main thread).
    assert status == -signal.SIGTERM, err
    assert elapsed < STEP_SEC + 10, err
    assert_step_finished_then_recovered(app, proc)


def test_sigterm_under_uvicorn_with_dbos_launched_before_it(app: App) -> None:
    """No integration: DBOS's handler was installed first; uvicorn puts it back when it has
    shut down and re-raises the signal to it, so the drain still runs. The main thread has
    returned from uvicorn.run by then: the interpreter waits for the drain and exits 0."""
    # A longer step: uvicorn shuts down before DBOS hears of the signal.
    proc = _serve_and_start(app, "serve_plain", SIGTERM_APP_STEP_SEC="4")
    elapsed, status, err = app.terminate_mid_step(proc)
    assert status == 0, err
    assert elapsed < 4 + 10, err
    assert_step_finished_then_recovered(app, proc)

"""A workflow killed (SIGKILL) in the middle of a week-long sleep is recovered by a new process
whose test runs inside `time_skipping()`: the recovered sleep, begun before the block, jumps to
the wake-up time the first process recorded (real time then), and no step runs twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from programs import program

APP = program("time_skipping_app")


def _spawn(role: str, workflow_id: str, markers: Path, url: str) -> subprocess.Popen[str]:
    env = dict(os.environ, TIME_SKIPPING_APP_DATABASE_URL=url)
    return subprocess.Popen(
        [sys.executable, str(APP), role, workflow_id, str(markers)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.timeout(120)
def test_a_week_long_sleep_killed_midway_recovers_in_virtual_time(
    system_database_url: str, tmp_path: Path
) -> None:
    workflow_id = f"sleeper-{uuid.uuid4().hex[:8]}"
    first = _spawn("start", workflow_id, tmp_path, system_database_url)
    try:
        assert first.stdout is not None
        line = first.stdout.readline()
        assert line.strip() == "ready", first.stderr.read() if first.stderr else ""
        started_at = time.time()
        os.kill(first.pid, signal.SIGKILL)
        first.communicate(timeout=30)
        assert first.returncode == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()

    second = _spawn("recover", workflow_id, tmp_path, system_database_url)
    out, err = second.communicate(timeout=90)
    assert second.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    week = 7 * 24 * 3600.0
    # The wake-up time is the one the first process recorded, a real week after its start...
    assert started_at + week - 60 < report["wake_at"] < started_at + week + 1
    # ... and the recovered sleep ended there, in the second process's virtual time.
    assert report["wake_at"] <= report["result"]["woke_at"] < report["wake_at"] + 60
    assert report["jumps"] >= 1
    # The step before the sleep ran once, in the first process; the second replayed it.
    ran = (tmp_path / "before_sleep.mark").read_text().split()
    assert ran == [str(first.pid)]
    assert report["result"]["started_by"] == first.pid

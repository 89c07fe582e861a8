"""SIGKILL while 1,000 workflows are parked (half of them sync, half async): a new process
recovers and completes every one exactly once (on both backends).
`tests/programs/parking_app.py` is the program killed and recovered; this process sends the
messages through a client once the recovering process has parked them all again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from programs import program

from dbos import DBOSClient

APP = program("parking_app")
COUNT = 1000


def _spawn(role: str, url: str, markers: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, PARKING_APP_SYSTEM_DATABASE_URL=url)
    return subprocess.Popen(
        [sys.executable, str(APP), role, str(COUNT), str(markers)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _until_parked(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "parked":
        proc.kill()
        _, err = proc.communicate(timeout=30)
        pytest.fail(f"expected 'parked', got {line!r}:\n{err}")


def _marks(markers: Path, label: str) -> Counter[int]:
    path = markers / f"{label}.mark"
    lines = path.read_text().splitlines() if path.exists() else []
    return Counter(int(line.split()[1]) for line in lines)


@pytest.mark.timeout(600)
def test_parked_workflows_killed_are_recovered_and_finish_exactly_once(
    system_database_url: str, tmp_path: Path
) -> None:
    first = _spawn("start", system_database_url, tmp_path)
    try:
        _until_parked(first)
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.communicate(timeout=60)
    assert _marks(tmp_path, "before") == Counter(range(COUNT))
    second = _spawn("recover", system_database_url, tmp_path)
    try:
        _until_parked(second)
        client = DBOSClient(system_database_url=system_database_url)
        try:
            for i in range(COUNT):
                client.send(f"parked-{i}", f"m{i}", "go")
        finally:
            client.destroy()
        out, err = second.communicate(timeout=500)
    finally:
        if second.poll() is None:
            second.kill()
    assert second.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["results"] == {f"parked-{i}": f"{i}:m{i}" for i in range(COUNT)}
    assert report["left_parked"] == 0
    assert _marks(tmp_path, "before") == Counter(range(COUNT))  # recorded: not run again
    assert _marks(tmp_path, "after") == Counter(range(COUNT))  # run once, after the message

"""Enqueues recorded in a workflow survive its process: a parent SIGKILLed after enqueueing one
child by options and attaching to the holder of a deduplication ID ("return-existing") is
recovered by a new process, which replays both enqueues (no new child, the same holder) and
runs every child's step once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from programs import program
from test_crash_recovery import WORKFLOW_ID, Launcher

APP = program("enqueue_crash_app")


@pytest.fixture
def launcher(system_database_url: str, tmp_path: Path) -> Any:
    markers = tmp_path / "markers"
    markers.mkdir()
    launcher = Launcher(system_database_url, markers, app=APP)
    try:
        yield launcher
    finally:
        launcher.kill_all()


@pytest.mark.timeout(120)
def test_recovered_parent_replays_its_enqueues(launcher: Launcher) -> None:
    first = launcher.spawn("start", "options")
    launcher.wait_for_marker("enqueued", [first])
    # Both children and the holder started in the first process and block before their step.
    launcher.wait_for_marker("child_started", [first], count=2)
    launcher.sigkill(first)

    report = launcher.recover("options")
    second = report["pid"]
    # Child 1 by options (x=1), the attached holder (x=100): 10 + 1000.
    assert report["result"] == 1010
    assert report["steps"][:2] == [
        [1, "crash.options_child", f"{WORKFLOW_ID}-1"],
        [2, "crash.options_child", "crash-holder"],
    ]
    # No child enqueued again: the one by options and the holder, nothing else.
    assert report["children"] == [["crash-holder", 1000], [f"{WORKFLOW_ID}-1", 10]]
    assert launcher.pids("child_step") == [second, second]

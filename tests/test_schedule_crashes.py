"""A cron tick, a debounce window and a backfill survive SIGKILL, on both backends: the recovered
process finishes the very tick that was running (same workflow ID, not a new tick), runs the
debounced workflow once, with the last arguments accepted before the crash, and finishes the
backfill with every tick run once. Several processes running one schedule (declared in code, or
created at run time) run each tick once and miss none."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from programs import program
from test_crash_recovery import Launcher

from dbos import DBOSClient

APP = program("schedule_app")


class ScheduleLauncher(Launcher):
    def spawn(self, role: str, scenario: str) -> subprocess.Popen[str]:
        env = dict(os.environ, CRASH_APP_SYSTEM_DATABASE_URL=self.database_url, **self.env)
        proc = subprocess.Popen(
            [sys.executable, str(self.app), role, scenario, str(self.markers)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.procs.append(proc)
        return proc


@pytest.fixture
def launcher(system_database_url: str, tmp_path: Path) -> Iterator[ScheduleLauncher]:
    markers = tmp_path / "markers"
    markers.mkdir()
    launcher = ScheduleLauncher(system_database_url, markers, app=APP)
    try:
        yield launcher
    finally:
        launcher.kill_all()


@pytest.mark.timeout(120)
def test_a_tick_killed_mid_run_is_finished_not_replaced(launcher: ScheduleLauncher) -> None:
    first = launcher.spawn("start", "tick")
    deadline = time.monotonic() + 30
    while not (launcher.markers / "first_tick").exists() or not list(
        launcher.markers.glob("tick-*.mark")
    ):
        assert time.monotonic() < deadline and first.poll() is None, "no tick started"
        time.sleep(0.05)
    tick = (launcher.markers / "first_tick").read_text()
    launcher.sigkill(first)
    report = launcher.recover("tick")
    assert report["tick"] == tick
    assert report["result"] == str(report["pid"])  # finished by the recovering process
    assert launcher.pids(f"tick-{tick}") == [first.pid, report["pid"]]


@pytest.mark.timeout(120)
def test_a_debounce_window_open_at_a_crash_still_runs_once(launcher: ScheduleLauncher) -> None:
    first = launcher.spawn("start", "debounce")
    launcher.wait_for_marker("debounced", [first])
    launcher.sigkill(first)  # the window (3 s) is still open
    report = launcher.recover("debounce")
    assert report["result"] == "c"
    assert launcher.pids("debounced-c") == [report["pid"]]
    assert launcher.pids("debounced-a") == [] and launcher.pids("debounced-b") == []


@pytest.mark.timeout(120)
def test_three_processes_on_one_schedule_run_each_tick_once(launcher: ScheduleLauncher) -> None:
    workers = [launcher.spawn("worker", "many") for _ in range(3)]
    deadline = time.monotonic() + 60
    while len(launcher.pids("launched")) < 3:
        assert time.monotonic() < deadline and all(w.poll() is None for w in workers)
        time.sleep(0.05)
    started = len(list(launcher.markers.glob("many-*.mark")))
    while len(list(launcher.markers.glob("many-*.mark"))) < started + 4:
        assert time.monotonic() < deadline, "the schedule stopped firing"
        time.sleep(0.05)
    (launcher.markers / "stop").touch()
    for worker in workers:
        launcher.finish(worker)
    ticks = sorted(launcher.markers.glob("many-*.mark"))
    assert len(ticks) >= 4
    for tick in ticks:  # each tick's step ran in exactly one process, once
        assert len(launcher.pids(tick.name.removesuffix(".mark"))) == 1, tick.name


@pytest.mark.timeout(180)
def test_a_backfill_killed_half_way_is_finished_by_the_next_process(
    launcher: ScheduleLauncher,
) -> None:
    first = launcher.spawn("start", "backfill")
    launcher.wait_for_marker("batch-3", [first], timeout=60)
    launcher.sigkill(first)  # the third batch's ticks are in; the batch is not recorded
    report = launcher.recover("backfill")
    assert report["ticks_done"] == 100
    # Ten batches, each recorded once; the third, run again, found its ticks enqueued already.
    assert report["steps"] == ["DBOS.backfillSchedule"] * 10
    assert report["backfill"] == ["SUCCESS", 90]
    assert len(launcher.pids("batch-3")) == 2  # killed inside it, then run again
    ticks = [f"bf-0000{s:02}" if s < 60 else f"bf-0001{s - 60:02}" for s in range(1, 101)]
    for tick in ticks:  # every tick ran, once, in the recovering process
        assert launcher.pids(tick) == [report["pid"]], tick
    assert sorted(p.name for p in launcher.markers.glob("bf-*.mark")) == sorted(
        f"{t}.mark" for t in ticks
    )


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_two_processes_fire_a_schedule_made_at_run_time_once_per_tick_for_a_minute(
    launcher: ScheduleLauncher,
) -> None:
    workers = [launcher.spawn("worker", "dynamic") for _ in range(2)]
    deadline = time.monotonic() + 60
    while len(launcher.pids("launched")) < 2:
        assert time.monotonic() < deadline and all(w.poll() is None for w in workers)
        time.sleep(0.05)
    with DBOSClient(system_database_url=launcher.database_url) as client:
        client.create_schedule(
            schedule_name="every-second", workflow_name="dynamic_tick", schedule="* * * * * *"
        )
    time.sleep(60)
    (launcher.markers / "stop").touch()
    for worker in workers:
        launcher.finish(worker)
    ticks = sorted(
        datetime.strptime(p.name.removeprefix("dynamic-").removesuffix(".mark"), "%H%M%S")
        for p in launcher.markers.glob("dynamic-*.mark")
    )
    assert len(ticks) >= 55
    for tick in ticks:  # none doubled
        assert len(launcher.pids(f"dynamic-{tick.strftime('%H%M%S')}")) == 1, tick
    # none missed: one a second, from the first to the last
    assert ticks == [ticks[0] + timedelta(seconds=i) for i in range(len(ticks))]

"""Worker program for `tests/test_schedule_crashes.py`: a cron tick, a debounce window and a
backfill under SIGKILL, and one schedule run by several processes at once. Usage:
``python tests/programs/schedule_app.py ROLE SCENARIO MARKER_DIR`` with the database URL in
``$CRASH_APP_SYSTEM_DATABASE_URL``; as `crash_app.py`, ``start`` is killed at its kill point
and ``recover`` releases it, launches, and prints a JSON report; ``worker many`` (a
`@DBOS.scheduled` schedule) and ``worker dynamic`` (one created at run time by the test) run
until ``MARKER_DIR/stop`` exists.

Backfill: ``start backfill`` creates schedule `bf` (every second, on a queue it does not serve
itself) and backfills 100 past ticks, 10 per batch; it is killed inside the third batch, after
that batch's ticks were enqueued and before the batch was recorded. ``recover backfill``
finishes the backfill and runs every tick.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import crash_app
from crash_app import DATABASE_URL_ENV, RELEASE, hold, mark, wait_for_file

import dbos._core.schedule_ticks as schedule_ticks
import dbos._facade.schedules_api as schedules_api
from dbos import DBOS, Debouncer, Queue


@DBOS.step()
def tick_step(workflow_id: str) -> str:
    mark(f"tick-{workflow_id}")
    if workflow_id == first_tick_file():
        hold()
    return os.getpid().__str__()


def first_tick_file() -> str:
    """The first tick to start is the one process 1 is killed in (its ID is kept on disk)."""
    path = crash_app.MARKER_DIR / "first_tick"
    if not path.exists():
        path.write_text(str(DBOS.workflow_id))
    return path.read_text()


@DBOS.workflow()
def every_second(scheduled_time: datetime, actual_time: datetime) -> str:
    return tick_step(str(DBOS.workflow_id))


@DBOS.step()
def record_run(text: str) -> str:
    mark(f"debounced-{text}")
    return text


@DBOS.workflow()
def debounced(text: str) -> str:
    return record_run(text)


debouncer = Debouncer.create(debounced)


@DBOS.step()
def many_step(tick: str) -> None:
    mark(f"many-{tick}")


@DBOS.workflow()
def many_every_second(scheduled_time: datetime, actual_time: datetime) -> None:
    many_step(scheduled_time.strftime("%H%M%S"))  # by tick: a tick run twice marks twice


@DBOS.step()
def dynamic_step(tick: str) -> None:
    mark(f"dynamic-{tick}")


@DBOS.workflow()
def dynamic_tick(scheduled_time: datetime, context: Any) -> None:
    dynamic_step(scheduled_time.strftime("%H%M%S"))


backfill_queue = Queue("schedule_app.backfill")
BACKFILL_START = datetime(2025, 1, 1, tzinfo=timezone.utc)
BACKFILL_TICKS = 100


@DBOS.step()
def backfill_step(tick: str) -> None:
    mark(f"bf-{tick}")


@DBOS.workflow()
def backfill_tick(scheduled_time: datetime, context: Any) -> None:
    backfill_step(scheduled_time.strftime("%H%M%S"))


def _slow_batches(role: str) -> None:
    """Batches of 10; in process 1, the third holds (the kill point) once its ticks are in."""
    schedule_ticks.BACKFILL_BATCH = 10
    enqueue = schedule_ticks.enqueue_ticks
    done = [0]

    def enqueue_then_hold(runtime: Any, record: Any, ticks: Any) -> int:
        added = enqueue(runtime, record, ticks)
        done[0] += 1
        mark(f"batch-{done[0]}")
        if role == "start" and done[0] == 3:
            hold()
        return added

    schedules_api.enqueue_ticks = enqueue_then_hold  # type: ignore[assignment]


def _backfill_report(report: dict[str, Any]) -> None:
    deadline = time.monotonic() + 90
    while True:
        done = DBOS.list_workflows(
            workflow_id_prefix="sched-bf-2025-", status="SUCCESS", load_input=False
        )
        if len(done) >= BACKFILL_TICKS or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    report["ticks_done"] = len(done)
    (backfill,) = DBOS.list_workflows(name="<temp>.DBOS.backfillSchedule")
    report["backfill"] = [backfill.status, backfill.output]
    steps = DBOS.list_workflow_steps(backfill.workflow_id)
    report["steps"] = [s["function_name"] for s in steps]


def main(role: str, scenario: str, marker_dir: str) -> int:
    crash_app.MARKER_DIR = Path(marker_dir)
    if scenario == "tick":
        DBOS.scheduled("* * * * * *")(every_second)
    if scenario == "many":
        DBOS.scheduled("* * * * * *")(many_every_second)
    DBOS(
        config={
            "name": "schedule-app",
            "system_database_url": os.environ[DATABASE_URL_ENV],
            "log_level": "WARNING",
        }
    )
    if role == "recover":
        (Path(marker_dir) / RELEASE).touch()
    if scenario == "backfill":
        _slow_batches(role)
        if role == "start":
            DBOS.listen_queues([])  # the ticks wait for the recovering process
    DBOS.launch()
    report: dict[str, Any] = {"pid": os.getpid()}
    if scenario in ("many", "dynamic"):  # one of several processes running one schedule
        mark("launched")
        wait_for_file("stop")
        DBOS.destroy()
        print(json.dumps(report), flush=True)
        return 0
    if scenario == "backfill" and role == "start":
        DBOS.create_schedule(
            schedule_name="bf",
            workflow_fn=backfill_tick,
            schedule="* * * * * *",
            queue_name=backfill_queue.name,
        )
        DBOS.pause_schedule("bf")
        mark("created")
        end = BACKFILL_START + timedelta(seconds=BACKFILL_TICKS + 1)
        DBOS.backfill_schedule("bf", BACKFILL_START, end)  # killed in its third batch
    if scenario == "backfill" and role == "recover":
        _backfill_report(report)
        print(json.dumps(report), flush=True)
        DBOS.destroy()
        return 0
    if role == "start":
        if scenario == "debounce":
            for text in ("a", "b", "c"):
                handle = debouncer.debounce("key", 3.0, text)
            # The handle first: the test kills this process as soon as it sees the marker.
            (Path(marker_dir) / "handle").write_text(handle.workflow_id)
            mark("debounced")
        wait_for_file("never")  # killed here (or in the held tick)
    if scenario == "tick":
        wait_for_file("first_tick")
        tick = (Path(marker_dir) / "first_tick").read_text()
        report["tick"] = tick
        report["result"] = DBOS.retrieve_workflow(tick).get_result()
    else:
        target = (Path(marker_dir) / "handle").read_text()
        report["result"] = DBOS.retrieve_workflow(target).get_result()
        time.sleep(0.5)
    print(json.dumps(report), flush=True)
    DBOS.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))

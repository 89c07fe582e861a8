"""Worker program for `tests/test_schedule_crashes.py`: a cron tick and a debounce window under
SIGKILL, and one schedule run by several processes at once. Usage:
``python tests/schedule_app.py ROLE SCENARIO MARKER_DIR`` with the database URL in
``$CRASH_APP_SYSTEM_DATABASE_URL``; as `crash_app.py`, ``start`` is killed at its kill point
and ``recover`` releases it, launches, and prints a JSON report; ``worker many`` runs the
schedule until ``MARKER_DIR/stop`` exists.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import crash_app
from crash_app import DATABASE_URL_ENV, RELEASE, hold, mark, wait_for_file

from dbos import DBOS, Debouncer


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
    DBOS.launch()
    report: dict[str, Any] = {"pid": os.getpid()}
    if scenario == "many":  # one of several processes running one schedule, until told to stop
        mark("launched")
        wait_for_file("stop")
        DBOS.destroy()
        print(json.dumps(report), flush=True)
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

"""Worker program for `tests/test_time_skipping_crash.py`: a workflow that sleeps a week,
killed mid-sleep by SIGKILL and recovered by a second process inside `time_skipping()`.

Usage::

    python tests/programs/time_skipping_app.py start|recover WORKFLOW_ID MARKER_DIR

The system database URL comes from ``$TIME_SKIPPING_APP_DATABASE_URL``. `start` launches,
starts the workflow and prints ``ready`` once its wake-up time is recorded, then blocks until
killed. `recover` launches (recovery resumes the workflow, sleeping again until its recorded
wake-up time), enters `time_skipping()`, waits for the result and prints a JSON report.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from dbos import DBOS, SetWorkflowID, _clock
from dbos.testing import time_skipping

WEEK = 7 * 24 * 3600.0
MARKERS = Path(".")


@DBOS.step()
def before_sleep() -> int:
    with open(MARKERS / "before_sleep.mark", "a") as f:
        f.write(f"{os.getpid()}\n")
    return os.getpid()


@DBOS.step()
def after_sleep() -> float:
    return _clock.now()


@DBOS.workflow()
def sleep_a_week() -> dict[str, float]:
    started_by = before_sleep()
    DBOS.sleep(WEEK)
    return {"started_by": started_by, "woke_at": after_sleep()}


def main() -> None:
    global MARKERS
    role, workflow_id, MARKERS = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    DBOS(
        config={
            "name": "time-skipping-app",
            "system_database_url": os.environ["TIME_SKIPPING_APP_DATABASE_URL"],
            "log_level": "WARNING",
        }
    )
    DBOS.launch()
    if role == "start":
        with SetWorkflowID(workflow_id):
            DBOS.start_workflow(sleep_a_week)
        while len(DBOS.list_workflow_steps(workflow_id)) < 2:  # the sleep's wake-up time
            time.sleep(0.01)
        print("ready", flush=True)
        time.sleep(600)  # killed here
        return
    with time_skipping() as clock:
        result = DBOS.retrieve_workflow(workflow_id).get_result()
        report = {"result": result, "jumps": clock.jumps, "pid": os.getpid()}
    steps = DBOS.list_workflow_steps(workflow_id)
    report["wake_at"] = steps[1]["output"]
    print(json.dumps(report), flush=True)
    DBOS.destroy()


if __name__ == "__main__":
    main()

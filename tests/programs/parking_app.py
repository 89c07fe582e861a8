"""Worker program for `tests/test_parking_crash.py`: many workflows parked in recv, killed.

Even-numbered workflows are sync, odd-numbered ones async (run from a workflow thread on a loop
of their own: both kinds park).

Usage::

    python tests/programs/parking_app.py ROLE COUNT MARKER_DIR

The system database URL comes from ``$PARKING_APP_SYSTEM_DATABASE_URL``. Both roles launch as
executor ``parker``.

``start``    start COUNT workflows ``parked-<i>`` (each: step ``before``, recv, step ``after``),
             print ``parked`` once all of them have parked, then wait to be killed.
``recover``  launch (recovery resumes them; they park again), print ``parked`` once all have,
             wait until every one has finished, and print a JSON report.

Steps append ``<pid> <i>`` to ``MARKER_DIR/<label>.mark`` when they execute, so the test counts
executions across processes.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

from dbos import DBOS, SetWorkflowID
from dbos._core.runtime import get_runtime

MARKERS = Path(".")
_lock = threading.Lock()


def mark(label: str, i: int) -> None:
    with _lock, open(MARKERS / f"{label}.mark", "a") as f:
        f.write(f"{os.getpid()} {i}\n")


@DBOS.step()
def before(i: int) -> int:
    mark("before", i)
    return i


@DBOS.step()
def after(i: int, message: str) -> str:
    mark("after", i)
    return f"{i}:{message}"


@DBOS.workflow()
def parked(i: int) -> str:
    before(i)
    message = DBOS.recv("go", timeout_seconds=3600)
    return str(after(i, str(message)))


@DBOS.step()
async def before_async(i: int) -> int:
    mark("before", i)
    return i


@DBOS.step()
async def after_async(i: int, message: str) -> str:
    mark("after", i)
    return f"{i}:{message}"


@DBOS.workflow()
async def parked_async(i: int) -> str:
    await before_async(i)
    message = await DBOS.recv_async("go", timeout_seconds=3600)
    return str(await after_async(i, str(message)))


def _until_parked(count: int) -> None:
    parked_table = get_runtime().parked
    while len(parked_table) < count:
        time.sleep(0.05)
    print("parked", flush=True)


def main() -> None:
    global MARKERS
    role, count, MARKERS = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    DBOS(
        config={
            "name": "parking-app",
            "system_database_url": os.environ["PARKING_APP_SYSTEM_DATABASE_URL"],
            "executor_id": "parker",
            "log_level": "WARNING",
            "park_waits_after_sec": 0.05,
        }
    )
    DBOS.launch()
    if role == "start":
        for i in range(count):
            with SetWorkflowID(f"parked-{i}"):
                if i % 2:
                    DBOS.start_workflow(parked_async, i)
                else:
                    DBOS.start_workflow(parked, i)
        _until_parked(count)
        threading.Event().wait()
    parked_table = get_runtime().parked
    _until_parked(count)
    results = {}
    for i in range(count):
        results[f"parked-{i}"] = DBOS.retrieve_workflow(f"parked-{i}").get_result()
    print(json.dumps({"results": results, "left_parked": len(parked_table)}), flush=True)
    DBOS.destroy()


if __name__ == "__main__":
    main()

"""Worker program for `tests/test_enqueue_crashes.py`: a workflow that enqueues children by
options and with duplication_policy "return-existing", SIGKILLed after both enqueues, then
recovered by a second process.

Usage (as `crash_app.py`, whose test launcher runs it)::

    python tests/programs/enqueue_crash_app.py ROLE SCENARIO WORKFLOW_ID MARKER_DIR

``start`` enqueues a holder of the deduplication ID, then runs the parent, which blocks (the
kill point) after its enqueues; ``recover`` releases every block, launches (recovering the
parent, its children and the holder) and prints a JSON report.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import crash_app
from crash_app import RELEASE, hold, mark

from dbos import DBOS, SetEnqueueOptions, SetWorkflowID

QUEUE = "crash.options"
DEDUP = "crash-dedup"
HOLDER_ID = "crash-holder"


@DBOS.step()
def child_step(x: int) -> int:
    mark("child_step")
    return x * 10


@DBOS.workflow(name="crash.options_child")
def options_child(x: int) -> int:
    mark("child_started")
    hold()
    return child_step(x)


@DBOS.workflow(name="crash.options_parent")
def options_parent(x: int) -> int:
    by_options = DBOS.enqueue_workflow_with_options(
        {"workflow_name": "crash.options_child", "queue_name": QUEUE}, x
    )
    with SetEnqueueOptions(deduplication_id=DEDUP, duplication_policy="return-existing"):
        attached = DBOS.enqueue_workflow(QUEUE, options_child, x + 1)
    mark("enqueued")
    hold()
    return int(by_options.get_result()) + int(attached.get_result())


def main(argv: list[str]) -> int:
    role, _scenario, workflow_id, marker_dir = argv
    crash_app.MARKER_DIR = Path(marker_dir)
    DBOS(
        config={
            "name": "enqueue-crash-app",
            "system_database_url": os.environ[crash_app.DATABASE_URL_ENV],
            "log_level": "WARNING",
        }
    )
    if role == "recover":
        (crash_app.MARKER_DIR / RELEASE).touch()
    DBOS.launch()
    DBOS.register_queue(QUEUE)
    if role == "start":
        with SetEnqueueOptions(deduplication_id=DEDUP), SetWorkflowID(HOLDER_ID):
            DBOS.enqueue_workflow(QUEUE, options_child, 100)
        with SetWorkflowID(workflow_id):
            options_parent(1)  # killed at its hold()
        raise AssertionError("unreachable")
    result = DBOS.retrieve_workflow(workflow_id).get_result()
    steps = DBOS.list_workflow_steps(workflow_id)
    children = DBOS.list_workflows(name="crash.options_child")
    report: dict[str, Any] = {
        "pid": os.getpid(),
        "result": result,
        "steps": [[s["function_id"], s["function_name"], s["child_workflow_id"]] for s in steps],
        "children": sorted(
            (c.workflow_id, DBOS.retrieve_workflow(c.workflow_id).get_result()) for c in children
        ),
    }
    print(json.dumps(report), flush=True)
    DBOS.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Worker program for `tests/test_auth.py`: a workflow that requires a role, started for a user,
killed with SIGKILL mid-step and recovered by a process that has no user of its own.

Usage: ``python tests/programs/auth_app.py ROLE SCENARIO WORKFLOW_ID MARKER_DIR`` (as
`crash_app.py`:
``start`` runs it and blocks at the kill point, ``recover`` launches and reports its outcome);
SCENARIO ``direct`` calls the workflow, ``queued`` enqueues it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import crash_app
from crash_app import RELEASE, hold, mark

from dbos import DBOS, DBOSContextSetAuth, Queue, SetWorkflowID

queue = Queue("auth-app-queue")


@DBOS.step()
def who_am_i(hold_here: bool) -> dict[str, Any]:
    mark("who_am_i")
    if hold_here:
        hold()
    seen = [DBOS.authenticated_user, DBOS.authenticated_roles, DBOS.assumed_role]
    return {"value": seen, "pid": os.getpid()}


@DBOS.workflow()
def child() -> dict[str, Any]:
    return who_am_i(False)


@DBOS.required_roles(["admin"])
@DBOS.workflow()
def admin_only() -> dict[str, Any]:
    before = who_am_i(False)
    during = who_am_i(True)  # the kill point of the first process
    return {"before": before, "during": during, "child": child()}


def main(argv: list[str]) -> int:
    role, scenario, workflow_id, marker_dir = argv
    crash_app.MARKER_DIR = Path(marker_dir)
    DBOS(
        config={
            "name": "auth-app",
            "system_database_url": os.environ[crash_app.DATABASE_URL_ENV],
            "log_level": "WARNING",
        }
    )
    if role == "recover":
        (crash_app.MARKER_DIR / RELEASE).touch()
    DBOS.launch()
    if role == "start":
        with DBOSContextSetAuth("alice", ["reader", "admin"]), SetWorkflowID(workflow_id):
            if scenario == "queued":
                queue.enqueue(admin_only).get_result()
            else:
                admin_only()
        raise AssertionError("unreachable: killed at the hold")
    result = DBOS.retrieve_workflow(workflow_id).get_result()
    status = DBOS.get_workflow_status(workflow_id)
    assert status is not None
    recorded = [status.authenticated_user, status.authenticated_roles, status.assumed_role]
    print(json.dumps({"pid": os.getpid(), "result": result, "recorded": recorded}), flush=True)
    DBOS.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

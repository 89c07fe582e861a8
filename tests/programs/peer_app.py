"""A second process for `tests/test_notifier.py`: runs one workflow that waits on something the
test process does, and prints how it ended as one JSON line.

Usage: ``python tests/programs/peer_app.py SCENARIO WORKFLOW_ID`` with the database URL in
``$PEER_APP_SYSTEM_DATABASE_URL``. It prints ``ready`` once its workflow has begun to wait.
"""

from __future__ import annotations

import json
import os
import sys
import time

from dbos import DBOS, SetWorkflowID
from dbos.error import DBOSAwaitedWorkflowCancelledError


@DBOS.workflow()
def waits_in_recv() -> object:
    return DBOS.recv("ping", timeout_seconds=60)


@DBOS.workflow()
def publishes_after_recv() -> str:
    value = DBOS.recv("go", timeout_seconds=60)
    DBOS.set_event("answer", value)
    return "published"


def _sleep_recorded(workflow_id: str) -> bool:
    return any(s["function_name"] == "DBOS.sleep" for s in DBOS.list_workflow_steps(workflow_id))


def main(scenario: str, workflow_id: str) -> int:
    DBOS(
        config={
            "name": "peer",
            "system_database_url": os.environ["PEER_APP_SYSTEM_DATABASE_URL"],
            "executor_id": "peer",
            "log_level": "WARNING",
        }
    )
    DBOS.launch()
    body = {"recv": waits_in_recv, "event": publishes_after_recv}[scenario]
    with SetWorkflowID(workflow_id):
        handle = DBOS.start_workflow(body)
    while not _sleep_recorded(workflow_id):  # its recv has begun to wait
        time.sleep(0.01)
    print("ready", flush=True)
    started = time.monotonic()
    try:
        outcome: dict[str, object] = {"result": handle.get_result()}
    except DBOSAwaitedWorkflowCancelledError:
        outcome = {"cancelled": True}
    outcome["waited"] = time.monotonic() - started
    print(json.dumps(outcome), flush=True)
    DBOS.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))

"""Worker program for `tests/test_messaging_crashes.py`: messages, sleeps and streams under
SIGKILL. Usage, as `crash_app.py`:
``python tests/programs/messaging_app.py ROLE SCENARIO WORKFLOW_ID MARKER_DIR``, the database URL
in ``$CRASH_APP_SYSTEM_DATABASE_URL``.

``start`` launches and runs the scenario's workflow until it is killed at its kill point;
``recover`` releases the kill points, launches (recovery happens there) and prints a JSON report
of the workflow's outcome.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import crash_app
from crash_app import DATABASE_URL_ENV, RELEASE, hold, mark

from dbos import DBOS, SendMessage, SetWorkflowID

DESTINATION = "message-sink"


@DBOS.step()
def before(label: str) -> int:
    mark(label)
    return os.getpid()


@DBOS.step()
def held() -> int:
    mark("held")
    hold()
    return os.getpid()


@DBOS.step()
def clock() -> float:
    mark("clock")
    return time.time()


@DBOS.workflow()
def sink() -> str:
    return "kept"


@DBOS.workflow()
def waits_for_payment() -> dict[str, Any]:
    before("before_recv")
    message = DBOS.recv("payment", timeout_seconds=120)
    return {"message": message, "after": before("after_recv")}


@DBOS.workflow()
def receives_then_holds() -> dict[str, Any]:
    before("before_recv")
    message = DBOS.recv("payment", timeout_seconds=120)
    held()
    return {"message": message, "after": before("after_recv")}


def send_to_own_receiver(workflow_id: str) -> None:
    """Start the receiver here and send it its message from this process once it waits (a
    handoff: the send records the recv's step); a receive that consumes a message itself is
    marked `received_itself`. Blocks in the receiver's `held` step until killed."""
    from dbos._core.runtime import get_runtime

    messages = get_runtime().sysdb.messages
    store = type(messages)
    original = store.receive_message

    def marked(self: Any, *args: Any) -> Any:
        found = original(self, *args)
        if found[0]:
            mark("received_itself")
        return found

    store.receive_message = marked  # type: ignore[method-assign]
    with SetWorkflowID(workflow_id):
        handle = DBOS.start_workflow(receives_then_holds)
    while messages.receivers.waiting(workflow_id, "payment") is None:
        time.sleep(0.005)
    DBOS.send(workflow_id, {"status": "paid"}, topic="payment")
    handle.get_result()


@DBOS.workflow()
def sends_then_holds() -> str:
    DBOS.send(DESTINATION, "exactly once", topic="t")
    held()
    return "sent"


@DBOS.workflow()
def sends_bulk_then_holds() -> str:
    DBOS.send_bulk(
        [
            SendMessage(DESTINATION, "first of the bulk", topic="t"),
            SendMessage(DESTINATION, "keyed", topic="t", idempotency_key="bulk-key"),
        ]
    )
    held()
    return "sent"


@DBOS.workflow()
def naps(seconds: float) -> dict[str, Any]:
    before("before_nap")
    DBOS.sleep(seconds)
    return {"woke_at": clock()}


@DBOS.workflow()
def streams_tokens(n: int, hold_after: int) -> int:
    for i in range(n):
        DBOS.write_stream("tokens", i)
        if i == hold_after:
            held()
    DBOS.close_stream("tokens")
    return n


def run(scenario: str, workflow_id: str) -> Any:
    with SetWorkflowID(DESTINATION):
        sink()
    with SetWorkflowID(workflow_id):
        if scenario == "recv":
            return waits_for_payment()
        if scenario == "send":
            return sends_then_holds()
        if scenario == "handoff":
            return receives_then_holds()
        if scenario == "send_bulk":
            return sends_bulk_then_holds()
        if scenario == "sleep":
            return naps(4.0)
        if scenario == "stream":
            return streams_tokens(10, 4)
    raise SystemExit(f"unknown scenario {scenario!r}")


def main(argv: list[str]) -> int:
    role, scenario, workflow_id, marker_dir = argv
    crash_app.MARKER_DIR = Path(marker_dir)
    DBOS(
        config={
            "name": "messaging-app",
            "system_database_url": os.environ[DATABASE_URL_ENV],
            "log_level": "WARNING",
        }
    )
    if role == "recover":
        (Path(marker_dir) / RELEASE).touch()
    DBOS.launch()
    if role == "start":
        if scenario == "handoff":
            send_to_own_receiver(workflow_id)
        run(scenario, workflow_id)
        raise SystemExit("the start role must be killed at its kill point")
    result = DBOS.retrieve_workflow(workflow_id).get_result()
    steps = [
        {"function_id": s["function_id"], "name": s["function_name"], "output": s["output"]}
        for s in DBOS.list_workflow_steps(workflow_id)
    ]
    print(json.dumps({"pid": os.getpid(), "result": result, "steps": steps}), flush=True)
    DBOS.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

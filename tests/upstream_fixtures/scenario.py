"""The application whose system database the upstream fixtures capture (run by `generate.py`).

It runs under a released upstream `dbos` in that release's own venv, never under ours: it
leaves finished work (a success with an event and a closed stream, an error) and work in flight
(a workflow asleep, one blocked in `recv`, one asleep with a message waiting for it, a queued
one), then dies by SIGKILL, as a process does in production. `enqueue` then queues work from
a `DBOSClient` with no worker running. The same functions, by the same names, live in
`tests/programs/upstream_app.py` for our runtime to recover and finish.

    python scenario.py run URL      # then it kills itself
    python scenario.py enqueue URL
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

from dbos import DBOS, DBOSConfig, Queue, SetWorkflowID

SLEEP_SEC = 20  # long past by the time a test recovers the sleeper
# recv's timeout is recorded as a deadline when it starts waiting: one that fixtures never
# outlive (30 years), so a recovered receiver still waits for its message.
WAIT_SEC = 10**9
PORTABLE: Any = None
try:  # portable JSON arrived in upstream 2.14
    from dbos import WorkflowSerializationFormat

    PORTABLE = WorkflowSerializationFormat.PORTABLE
except ImportError:
    pass

fixture_queue = Queue("fixture_queue")


@DBOS.step()
def double(x: int) -> int:
    return x * 2


@DBOS.workflow()
def finished_wf(order: str) -> dict[str, Any]:
    total = double(21)
    DBOS.set_event("status", "shipped")
    for i in range(3):
        DBOS.write_stream("progress", i)
    DBOS.close_stream("progress")
    return {"order": order, "total": total}


@DBOS.workflow()
def failing_wf(reason: str) -> None:
    raise ValueError(f"refused: {reason}")


@DBOS.workflow()
def sleeper(x: int) -> str:
    y = double(x)
    DBOS.sleep(SLEEP_SEC)
    return f"slept-{double(y)}"


@DBOS.workflow()
def waiter() -> str:
    double(1)
    payment = DBOS.recv("payment", timeout_seconds=WAIT_SEC)
    return f"paid:{payment}"


@DBOS.workflow()
def late_receiver() -> str:
    double(2)
    DBOS.sleep(SLEEP_SEC)
    note = DBOS.recv("note", timeout_seconds=WAIT_SEC)
    return f"got:{note}"


@DBOS.workflow()
def queued_wf(x: int) -> int:
    return double(x) + 1


if PORTABLE is not None:

    @DBOS.workflow(serialization_type=PORTABLE)
    def portable_wf(name: str) -> dict[str, Any]:
        DBOS.set_event("greeting", f"hello {name}", serialization_type=PORTABLE)
        return {"name": name, "items": [1, 2, 3]}


def _config(url: str) -> DBOSConfig:
    return {"name": "upstream-fixture", "system_database_url": url}


def _wait_for_steps(workflow_id: str, count: int) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        if len(DBOS.list_workflow_steps(workflow_id)) >= count:
            return
        time.sleep(0.05)
    raise SystemExit(f"{workflow_id} never reached step {count}")


def run(url: str) -> None:
    DBOS(config=_config(url))
    DBOS.launch()
    with SetWorkflowID("finished-wf"):
        finished_wf("alpha")
    with SetWorkflowID("failing-wf"):
        try:
            failing_wf("no stock")
        except ValueError:
            pass
    if PORTABLE is not None:
        with SetWorkflowID("portable-wf"):
            portable_wf("bob")
    with SetWorkflowID("sleeper-wf"):
        DBOS.start_workflow(sleeper, 7)
    with SetWorkflowID("waiter-wf"):
        DBOS.start_workflow(waiter)
    with SetWorkflowID("late-receiver-wf"):
        DBOS.start_workflow(late_receiver)
    _wait_for_steps("sleeper-wf", 2)  # double, then the sleep's wake-up time
    _wait_for_steps("waiter-wf", 2)  # double, then recv's timeout deadline
    _wait_for_steps("late-receiver-wf", 2)
    DBOS.send("late-receiver-wf", "hello", topic="note")
    if hasattr(DBOS, "create_schedule"):  # schedules as data arrived in upstream 2.13
        DBOS.create_schedule(
            schedule_name="nightly", workflow_fn=nightly, schedule="0 3 * * *", context=None
        )
    if hasattr(DBOS, "register_queue"):  # queues as data arrived in upstream 2.20
        DBOS.register_queue("registered_queue", concurrency=3)
    print("READY", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


@DBOS.workflow()
def nightly(scheduled_at: Any, context: Any) -> None:
    pass


def enqueue(url: str) -> None:
    from dbos import DBOSClient

    client = DBOSClient(system_database_url=url)
    try:
        client.enqueue(
            {
                "workflow_name": "queued_wf",
                "queue_name": "fixture_queue",
                "workflow_id": "queued-wf",
            },
            5,
        )
        if PORTABLE is not None:
            client.enqueue(
                {
                    "workflow_name": "queued_wf",
                    "queue_name": "fixture_queue",
                    "workflow_id": "queued-portable-wf",
                    "serialization_type": PORTABLE,
                },
                6,
            )
    finally:
        client.destroy()


if __name__ == "__main__":
    {"run": run, "enqueue": enqueue}[sys.argv[1]](sys.argv[2])

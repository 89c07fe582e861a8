"""The workflows of tests/upstream_fixtures/scenario.py, by the same names, for our runtime: a
database written by upstream's run of them is recovered and finished by these."""

from __future__ import annotations

from typing import Any

from dbos import DBOS, Queue

SLEEP_SEC = 20  # as in the scenario: the recorded wake-up time decides, not this
WAIT_SEC = 10**9

fixture_queue = Queue("fixture_queue")


@DBOS.step()
def double(x: int) -> int:
    return x * 2


@DBOS.workflow()
def finished_wf(order: str) -> dict[str, Any]:
    raise AssertionError("finished upstream: never runs here")


@DBOS.workflow()
def failing_wf(reason: str) -> None:
    raise AssertionError("finished upstream: never runs here")


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


@DBOS.workflow()
def portable_wf(name: str) -> dict[str, Any]:
    raise AssertionError("finished upstream: never runs here")


@DBOS.workflow()
def nightly(scheduled_at: Any, context: Any) -> None:
    pass

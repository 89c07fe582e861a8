"""Messages, durable sleep and streams survive SIGKILL of the workflow's process, on both
backends: the recovered run receives a message sent after the crash exactly once, does not send
again what it sent before, wakes at the originally recorded time, and a reader of its stream
sees every value once. `tests/messaging_app.py` is the program killed and recovered; this
process talks to it through its own DBOS (another executor ID, so it recovers nothing itself).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import query_system_sql
from programs import program
from test_crash_recovery import WORKFLOW_ID, Launcher

from dbos import DBOS

APP = program("messaging_app")
DESTINATION = "message-sink"  # messaging_app.DESTINATION


@pytest.fixture
def launcher(system_database_url: str, tmp_path: Path) -> Iterator[Launcher]:
    markers = tmp_path / "markers"
    markers.mkdir()
    launcher = Launcher(system_database_url, markers, app=APP)
    try:
        yield launcher
    finally:
        launcher.kill_all()


@pytest.fixture
def tester(system_database_url: str) -> Iterator[None]:
    DBOS.destroy()
    DBOS(
        config={
            "name": "messaging-tester",
            "system_database_url": system_database_url,
            "executor_id": "tester",
            "log_level": "WARNING",
        }
    )
    DBOS.launch()
    yield
    DBOS.destroy()


def _wait_for_step(url: str, name: str, timeout: float = 30.0) -> list[tuple[object, ...]]:
    """Poll until the workflow has recorded a step called `name`; its (id, output) rows."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = query_system_sql(
            url,
            "SELECT function_id, output FROM {prefix}operation_outputs "
            f"WHERE workflow_uuid = '{WORKFLOW_ID}' AND function_name = '{name}'",
        )
        if rows:
            return rows
        time.sleep(0.02)
    pytest.fail(f"step {name} was not recorded within {timeout}s")


@pytest.mark.timeout(120)
def test_a_message_sent_after_a_crash_in_recv_is_received_once_by_the_recovery(
    launcher: Launcher, tester: None, system_database_url: str
) -> None:
    first = launcher.spawn("start", "recv")
    launcher.wait_for_marker("before_recv", [first])
    deadline_row = _wait_for_step(system_database_url, "DBOS.sleep")  # it waits in recv now
    launcher.sigkill(first)
    DBOS.send(WORKFLOW_ID, {"status": "paid"}, topic="payment")
    report = launcher.recover("recv")
    assert report["result"]["message"] == {"status": "paid"}
    assert launcher.pids("before_recv") == [first.pid]  # replayed, not re-run
    assert launcher.pids("after_recv") == [report["pid"]]
    names = [(s["function_id"], s["name"]) for s in report["steps"]]
    assert names == [(1, "before"), (2, "DBOS.recv"), (3, "DBOS.sleep"), (4, "before")]
    # The recovered wait used the deadline recorded by the first run, not a new one.
    assert _wait_for_step(system_database_url, "DBOS.sleep") == deadline_row
    consumed = query_system_sql(
        system_database_url,
        f"SELECT consumed FROM {{prefix}}notifications WHERE destination_uuid = '{WORKFLOW_ID}'",
    )
    assert [bool(c[0]) for c in consumed] == [True]


@pytest.mark.timeout(120)
def test_a_message_handed_to_a_receiver_survives_a_crash_before_it_ran_on(
    launcher: Launcher, tester: None, system_database_url: str
) -> None:
    """A send from the receiver's own process records the message as the recv's step (no
    write by the receiver); killed in the step after it, the recovery returns that message."""
    first = launcher.spawn("start", "handoff")
    launcher.wait_for_marker("held", [first])
    launcher.sigkill(first)
    report = launcher.recover("handoff")
    assert report["result"]["message"] == {"status": "paid"}
    assert launcher.pids("received_itself") == []  # the send completed the receive
    assert launcher.pids("before_recv") == [first.pid]
    assert launcher.pids("held") == [first.pid, report["pid"]]
    names = [(s["function_id"], s["name"]) for s in report["steps"]]
    assert names == [(1, "before"), (2, "DBOS.recv"), (3, "DBOS.sleep"), (4, "held"), (5, "before")]
    consumed = query_system_sql(
        system_database_url,
        f"SELECT consumed FROM {{prefix}}notifications WHERE destination_uuid = '{WORKFLOW_ID}'",
    )
    assert [bool(c[0]) for c in consumed] == [True]


@pytest.mark.timeout(120)
def test_a_send_checkpointed_before_a_crash_is_not_sent_again(
    launcher: Launcher, tester: None, system_database_url: str
) -> None:
    first = launcher.spawn("start", "send")
    launcher.wait_for_marker("held", [first])
    launcher.sigkill(first)
    report = launcher.recover("send")
    assert report["result"] == "sent"
    assert launcher.pids("held") == [first.pid, report["pid"]]  # the unrecorded step re-ran
    rows = query_system_sql(
        system_database_url,
        f"SELECT message FROM {{prefix}}notifications WHERE destination_uuid = '{DESTINATION}'",
    )
    assert rows == [('"exactly once"',)]


@pytest.mark.timeout(120)
def test_a_recovered_sleep_wakes_at_the_original_time(
    launcher: Launcher, tester: None, system_database_url: str
) -> None:
    first = launcher.spawn("start", "sleep")
    launcher.wait_for_marker("before_nap", [first])
    [(_, wake_text)] = _wait_for_step(system_database_url, "DBOS.sleep")
    launcher.sigkill(first)
    time.sleep(1.5)  # a recovery that slept the full 4 s again would wake >= 1.5 s late
    report = launcher.recover("sleep")
    wake_at = float(str(wake_text))
    woke_at = report["result"]["woke_at"]
    assert wake_at <= woke_at < wake_at + 1.0, (wake_at, woke_at)


@pytest.mark.timeout(120)
def test_a_reader_sees_every_stream_value_once_across_the_writers_crash(
    launcher: Launcher, tester: None, system_database_url: str
) -> None:
    got: list[object] = []
    failure: list[BaseException] = []

    def read() -> None:
        try:
            # The workflow may not exist yet when reading begins: retry until it does.
            while True:
                try:
                    for value in DBOS.read_stream(WORKFLOW_ID, "tokens", timeout_seconds=60):
                        got.append(value)
                    return
                except Exception as exc:  # DBOSNonExistentWorkflowError before the start
                    if "Non-existent target workflow ID" not in str(exc):
                        raise
                    time.sleep(0.02)
        except BaseException as exc:
            failure.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    first = launcher.spawn("start", "stream")
    launcher.wait_for_marker("held", [first])
    launcher.sigkill(first)
    report = launcher.recover("stream")
    reader.join(30)
    assert not reader.is_alive() and not failure, failure
    assert report["result"] == 10
    assert got == list(range(10))

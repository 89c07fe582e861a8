"""Waiters wake on writes made by other processes: through LISTEN/NOTIFY on PostgreSQL (with a
re-check after the listener reconnects) and through the shared change poller on SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from conftest import run_system_sql
from programs import program

from dbos import DBOS, SetWorkflowID
from dbos._core.runtime import get_runtime
from dbos._services.pg_listener import PostgresListener

PEER = program("peer_app")


@pytest.fixture
def tester(system_database_url: str) -> Iterator[str]:
    DBOS.destroy()
    DBOS(
        config={
            "name": "notifier-tester",
            "system_database_url": system_database_url,
            "executor_id": "tester",
            "log_level": "WARNING",
        }
    )
    DBOS.launch()
    yield system_database_url
    DBOS.destroy()


class Peer:
    def __init__(self, url: str, scenario: str, workflow_id: str) -> None:
        env = dict(os.environ, PEER_APP_SYSTEM_DATABASE_URL=url)
        self.proc = subprocess.Popen(
            [sys.executable, str(PEER), scenario, workflow_id],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.proc.kill()
            pytest.fail(f"peer did not start: {line!r} {self.proc.stderr.read()}")  # type: ignore[union-attr]

    def outcome(self) -> dict[str, object]:
        out, err = self.proc.communicate(timeout=60)
        assert self.proc.returncode == 0, err
        result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
        return result


@pytest.mark.timeout(120)
def test_a_send_wakes_a_recv_in_another_process(tester: str) -> None:
    peer = Peer(tester, "recv", "peer-recv")
    DBOS.send("peer-recv", "pong", topic="ping")
    outcome = peer.outcome()
    assert outcome["result"] == "pong"
    assert float(outcome["waited"]) < 10  # woken by the write, not by its 60 s timeout  # type: ignore[arg-type]


@pytest.mark.timeout(120)
def test_get_event_here_wakes_on_set_event_there(tester: str) -> None:
    peer = Peer(tester, "event", "peer-event")
    DBOS.send("peer-event", 42, topic="go")
    assert DBOS.get_event("peer-event", "answer", timeout_seconds=30) == 42
    assert DBOS.retrieve_workflow("peer-event").get_result() == "published"
    peer.outcome()


@pytest.mark.timeout(120)
def test_a_cancel_here_ends_a_recv_there(tester: str) -> None:
    peer = Peer(tester, "recv", "peer-cancel")
    DBOS.cancel_workflow("peer-cancel")
    outcome = peer.outcome()
    assert outcome["cancelled"] is True
    assert float(outcome["waited"]) < 10  # type: ignore[arg-type]


def _launch_listening(url: str, name: str) -> PostgresListener:
    """DBOS launched afresh on PostgreSQL `url`; its notification listener."""
    DBOS.destroy()
    DBOS(config={"name": name, "system_database_url": url, "log_level": "WARNING"})
    DBOS.launch()
    return next(s for s in get_runtime().services if isinstance(s, PostgresListener))


@DBOS.workflow()
def waits_here() -> object:
    return DBOS.recv("t", timeout_seconds=120)


@pytest.mark.timeout(120)
def test_a_write_missed_while_the_listener_was_down_is_found_after_it_reconnects(
    postgres_database_url: str,
) -> None:
    listener = _launch_listening(postgres_database_url, "relisten")
    try:
        assert listener.connected.wait(10)
        with SetWorkflowID("relisten-wf"):
            handle = DBOS.start_workflow(waits_here)
        while not any(
            s["function_name"] == "DBOS.sleep" for s in DBOS.list_workflow_steps("relisten-wf")
        ):
            time.sleep(0.01)
        # A write nobody announces: no trigger fires, and it is not made through this runtime.
        run_system_sql(
            postgres_database_url,
            "ALTER TABLE {prefix}notifications DISABLE TRIGGER dbos_wake_message",
        )
        run_system_sql(
            postgres_database_url,
            "INSERT INTO {prefix}notifications (message_uuid, destination_uuid, topic, message, "
            "serialization, consumed, created_at_epoch_ms) VALUES ('m1', 'relisten-wf', 't', "
            "'\"missed\"', 'dbos_json', false, 0)",
        )
        time.sleep(0.3)
        assert DBOS.get_workflow_status("relisten-wf").status == "PENDING"  # type: ignore[union-attr]
        connections = listener.connections
        run_system_sql(
            postgres_database_url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN%%' AND datname = current_database()",
        )
        assert handle.get_result() == "missed"  # re-checked after the reconnect
        assert listener.connections > connections
    finally:
        DBOS.destroy()


def test_launch_returns_listening_so_its_first_connection_wakes_no_parked_workflow(
    postgres_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listener's first connection wakes every waiter to re-check (writes before it were
    not heard). Were launch to return before it, a workflow parked in the meantime was resumed
    by replay for nothing, once more than the application sees (a CI flake, slow connect)."""
    from dbos._db.connections import Connections

    slow_connect = Connections.listen_connection

    def listen_connection_after_a_pause(self: Connections) -> tuple[object, bool]:
        time.sleep(0.5)
        return slow_connect(self)

    monkeypatch.setattr(Connections, "listen_connection", listen_connection_after_a_pause)
    listener = _launch_listening(postgres_database_url, "listening-at-launch")
    try:
        assert listener.connected.is_set()
        assert listener.connections == 1
    finally:
        DBOS.destroy()

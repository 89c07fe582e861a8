"""Garbage collection: finished workflows past the bound go with everything they own, in
bounded batches; live ones stay; an interrupted collection leaves nothing orphaned; a reused
workflow ID afterwards runs its body afresh."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import query_system_sql
from programs import program

from dbos import DBOS, Queue, SetWorkflowID
from dbos._db.records import now_ms
from dbos.error import DBOSException

APP = program("gc_app")
parked = Queue("gc-parked")  # declared, never served (listen_queues([])): its work stays queued
RUNS: dict[str, int] = {}

CHILD_TABLES = {
    "operation_outputs": "workflow_uuid",
    "notifications": "destination_uuid",
    "workflow_events": "workflow_uuid",
    "workflow_events_history": "workflow_uuid",
    "streams": "workflow_uuid",
    "transaction_outputs": "workflow_uuid",
}


@DBOS.step()
def gc_step(x: int) -> int:
    RUNS[f"step-{DBOS.workflow_id}"] = RUNS.get(f"step-{DBOS.workflow_id}", 0) + 1
    return x


@DBOS.transaction()
def gc_txn(x: int) -> int:
    DBOS.sql_session.execute(sa.text("SELECT 1"))
    return x


@DBOS.workflow()
def finished_wf(x: int) -> str:
    out = f"{gc_step(x)}-{gc_txn(x)}"
    DBOS.set_event("k", x)
    DBOS.write_stream("s", x)
    DBOS.close_stream("s")
    return out


@DBOS.workflow()
def waiting_wf() -> object:
    return DBOS.recv("never", timeout_seconds=3600)


@DBOS.workflow()
def parent_wf() -> str:
    child = DBOS.start_workflow(finished_wf, 7)
    child.get_result()
    return str(DBOS.recv("go", timeout_seconds=3600))


def _launch(url: str, **extra: object) -> None:
    DBOS.destroy()
    DBOS(
        config={"name": "gc-test", "system_database_url": url, "log_level": "WARNING", **extra}  # type: ignore[typeddict-item]
    )
    DBOS.listen_queues([])


@pytest.fixture
def gc_db(system_database_url: str) -> Iterator[str]:
    _launch(system_database_url)
    DBOS.reset_system_database()
    DBOS.launch()
    RUNS.clear()
    yield system_database_url
    DBOS.destroy()


def _seed_finished(prefix: str, count: int) -> list[str]:
    ids = []
    for i in range(count):
        workflow_id = f"{prefix}-{i:03d}"
        with SetWorkflowID(workflow_id):
            assert finished_wf(i) == f"{i}-{i}"
        DBOS.send(workflow_id, "late message")  # a message to a finished workflow: its row
        ids.append(workflow_id)
    return ids


def _seed_live() -> list[str]:
    with SetWorkflowID("live-pending"):
        DBOS.start_workflow(waiting_wf)
    with SetWorkflowID("live-enqueued"):
        parked.enqueue(finished_wf, 1)
    from dbos import SetEnqueueOptions

    with SetWorkflowID("live-delayed"), SetEnqueueOptions(delay_seconds=3600):
        parked.enqueue(finished_wf, 2)
    return ["live-pending", "live-enqueued", "live-delayed"]


def _later() -> int:
    """A cutoff past everything finished so far (completion times are whole milliseconds)."""
    time.sleep(0.005)
    return now_ms()


def _statuses(url: str) -> dict[str, str]:
    rows = query_system_sql(url, "SELECT workflow_uuid, status FROM {prefix}workflow_status")
    return {str(r[0]): str(r[1]) for r in rows}


def _orphans(url: str) -> dict[str, int]:
    counts = {}
    for table, column in CHILD_TABLES.items():
        rows = query_system_sql(
            url,
            f"SELECT count(*) FROM {{prefix}}{table} c WHERE NOT EXISTS ("
            f"SELECT 1 FROM {{prefix}}workflow_status w WHERE w.workflow_uuid = c.{column})",
        )
        counts[table] = int(rows[0][0])
    return counts


def _owned_rows(url: str, workflow_id: str) -> dict[str, int]:
    out = {}
    for table, column in CHILD_TABLES.items():
        rows = query_system_sql(
            url, f"SELECT count(*) FROM {{prefix}}{table} WHERE {column} = '{workflow_id}'"
        )
        out[table] = int(rows[0][0])
    return out


# Per finished workflow: steps (gc_step, gc_txn, set_event, write_stream, close_stream), one
# message, one event, one history entry, two stream rows (a value and the end), one output.
OWNED = {
    "operation_outputs": 5,
    "notifications": 1,
    "workflow_events": 1,
    "workflow_events_history": 1,
    "streams": 2,
    "transaction_outputs": 1,
}


def test_collects_finished_workflows_with_what_they_own_and_keeps_live_ones(
    gc_db: str,
) -> None:
    old = _seed_finished("old", 12)
    live = _seed_live()
    assert _owned_rows(gc_db, old[0]) == OWNED
    time.sleep(0.01)
    cutoff = now_ms()
    time.sleep(0.01)
    new = _seed_finished("new", 3)
    progress: list[int] = []
    from dbos._core.retention import garbage_collect
    from dbos._core.runtime import get_runtime

    runtime = get_runtime()
    assert runtime.app_db is not None
    deleted = garbage_collect(
        runtime.sysdb,
        [runtime.app_db],
        cutoff_epoch_ms=cutoff,
        batch_size=5,
        progress=progress.append,
    )
    assert deleted == 12
    assert progress == [5, 10, 12]  # three bounded batches
    statuses = _statuses(gc_db)
    assert set(statuses) == set(live) | set(new)
    assert {statuses[w] for w in live} == {"PENDING", "ENQUEUED", "DELAYED"}
    assert all(v == 0 for v in _owned_rows(gc_db, old[3]).values())
    assert _owned_rows(gc_db, new[0]) == OWNED
    assert _orphans(gc_db) == dict.fromkeys(CHILD_TABLES, 0)
    # Nothing more is past the bound: a second run deletes nothing.
    assert DBOS.garbage_collect(cutoff_epoch_ms=cutoff) == 0


def test_rows_threshold_keeps_the_newest_workflows(gc_db: str) -> None:
    ids = _seed_finished("row", 6)
    assert DBOS.garbage_collect(rows_threshold=2, batch_size=3) == 4
    assert set(_statuses(gc_db)) == set(ids[-2:])


def test_a_finished_child_of_a_live_parent_is_kept(gc_db: str) -> None:
    with SetWorkflowID("parent"):
        handle = DBOS.start_workflow(parent_wf)
    deadline = time.monotonic() + 20
    while _statuses(gc_db).get("parent-1") != "SUCCESS":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert DBOS.garbage_collect(cutoff_epoch_ms=_later()) == 0
    assert _statuses(gc_db)["parent-1"] == "SUCCESS"
    DBOS.send("parent", "done", topic="go")
    assert handle.get_result() == "done"
    # Both finished now: both go.
    assert DBOS.garbage_collect(cutoff_epoch_ms=_later()) == 2


def test_a_reused_workflow_id_runs_afresh_after_collection(gc_db: str) -> None:
    with SetWorkflowID("reused"):
        assert finished_wf(1) == "1-1"
    assert DBOS.garbage_collect(cutoff_epoch_ms=_later()) == 1
    with SetWorkflowID("reused"):
        assert finished_wf(2) == "2-2"  # not the old run's recorded "1-1"
    assert RUNS["step-reused"] == 2
    assert _owned_rows(gc_db, "reused") == OWNED | {"notifications": 0}


def test_bad_arguments_are_refused_with_a_clear_message(gc_db: str) -> None:
    with pytest.raises(DBOSException, match="needs cutoff_epoch_ms="):
        DBOS.garbage_collect()
    with pytest.raises(DBOSException, match="rows_threshold must be a whole number >= 0"):
        DBOS.garbage_collect(rows_threshold=-1)
    with pytest.raises(DBOSException, match="batch_size must be a whole number >= 1"):
        DBOS.garbage_collect(cutoff_epoch_ms=1, batch_size=0)
    with pytest.raises(DBOSException, match="in the future"):
        DBOS.garbage_collect(cutoff_epoch_ms=now_ms() + 3_600_000)


def test_retention_config_collects_in_the_background(system_database_url: str) -> None:
    _launch(
        system_database_url,
        retention_older_than="0s",
        retention_interval_sec=0.1,
        retention_batch_size=2,
    )
    DBOS.reset_system_database()
    DBOS.launch()
    try:
        live = _seed_live()
        ids = _seed_finished("auto", 3)
        deadline = time.monotonic() + 20
        while set(ids) & set(_statuses(system_database_url)):
            assert time.monotonic() < deadline, "retention never collected"
            time.sleep(0.05)
        assert set(live) <= set(_statuses(system_database_url))
    finally:
        DBOS.destroy()


def test_bad_retention_config_is_refused(tmp_path: Path) -> None:
    from dbos.error import DBOSInitializationError

    DBOS.destroy()
    with pytest.raises(DBOSInitializationError, match="retention_older_than 'thirty days'"):
        DBOS(config={"name": "x", "retention_older_than": "thirty days"})  # type: ignore[typeddict-item]
    with pytest.raises(DBOSInitializationError, match="retention_interval_sec"):
        DBOS(config={"name": "x", "retention_older_than": "1d", "retention_interval_sec": 0})  # type: ignore[typeddict-item]


@pytest.mark.timeout(120)
def test_sigkill_mid_batch_leaves_no_orphans_and_a_rerun_finishes(
    gc_db: str, tmp_path: Path
) -> None:
    old = _seed_finished("crash", 20)
    live = _seed_live()
    time.sleep(0.01)
    cutoff = now_ms()
    DBOS.destroy()  # the collector is another process; this one only looks afterwards

    proc = subprocess.Popen(
        [sys.executable, str(APP), gc_db, str(tmp_path), str(cutoff), "5", "pause"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "midbatch").exists():
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "the collector never reached its second batch"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    # The first batch committed; the second, killed inside its transaction, rolled back whole
    # in the system database. Its transaction outputs (application database) went first, by
    # design: finished workflows never run a transaction again, and no output outlives its
    # workflow.
    statuses = _statuses(gc_db)
    remaining = [w for w in old if w in statuses]
    assert remaining == old[5:]
    assert all(_owned_rows(gc_db, w) == OWNED | {"transaction_outputs": 0} for w in old[5:10])
    assert all(_owned_rows(gc_db, w) == OWNED for w in old[10:])
    assert _orphans(gc_db) == dict.fromkeys(CHILD_TABLES, 0)

    rerun = subprocess.run(
        [sys.executable, str(APP), gc_db, str(tmp_path), str(cutoff), "5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout.strip().splitlines()[-1]) == {"deleted": 15}
    statuses = _statuses(gc_db)
    assert set(statuses) == set(live)
    assert {statuses[w] for w in live} == {"PENDING", "ENQUEUED", "DELAYED"}
    assert _orphans(gc_db) == dict.fromkeys(CHILD_TABLES, 0)

    # A collected ID, reused, runs its body afresh (no stale step or transaction output).
    _launch(gc_db)
    DBOS.launch()
    with SetWorkflowID(old[7]):
        assert finished_wf(70) == "70-70"
    assert RUNS[f"step-{old[7]}"] == 2

"""Faults of the machine under an embedded SQLite system database are infrastructure faults, as a
lost PostgreSQL connection is: a full disk or a file system gone read-only leaves the running
workflow PENDING, its writes retried with back-off until the fault clears, and it then finishes
with every step run once. A database file deleted or replaced under the process is not waited
out: every write stops with an error naming the file, and no new, empty file is started."""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dbos import DBOS, SetWorkflowID
from dbos._core.runtime import get_runtime
from dbos.error import DBOSDatabaseReplacedError

fault_gate = threading.Event()
fault_runs: list[int] = []


@DBOS.step()
def fault_payload(i: int) -> str:
    fault_runs.append(i)
    return "x" * 4000  # fills a small disk soon


@DBOS.step()
def fault_slow(i: int) -> int:
    fault_runs.append(i)
    time.sleep(0.01)
    return i


@DBOS.workflow()
def fault_slow_workflow(n: int) -> int:
    fault_gate.wait(60)
    return sum(fault_slow(i) for i in range(n))


@DBOS.workflow()
def fault_workflow(n: int) -> int:
    total = 0
    for i in range(n):
        if i == 3:
            fault_gate.wait(60)
        total += len(fault_payload(i))
    return total


def _launch(directory: Path) -> str:
    path = str(directory / "sys.sqlite")
    DBOS.destroy()
    DBOS(
        config={
            "name": "sqlite-faults",
            "system_database_url": f"sqlite:///{path}",
            "log_level": "WARNING",
            # A failing test ends within a minute, not after the 3-minute default.
            "database_retry_timeout_sec": 60,
        }
    )
    DBOS.launch()
    return path


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    fault_gate.clear()
    fault_runs.clear()
    yield
    fault_gate.set()
    DBOS.destroy()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs, to fill up: needs root (CI runs as root). Room for the write-ahead log
    to grow meanwhile (it is checkpointed only every 1,000 pages), so only the filler fills it."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small tmpfs, on which a full disk is staged")
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        DBOS.destroy()
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _status(workflow_id: str) -> str:
    status = DBOS.get_workflow_status(workflow_id)
    assert status is not None
    return status.status


def test_a_full_disk_is_waited_out(small_disk: Path, dbos_log: pytest.LogCaptureFixture) -> None:
    _launch(small_disk)
    with SetWorkflowID("fills-the-disk"):
        handle = DBOS.start_workflow(fault_workflow, 40)
    while len(fault_runs) < 3:
        time.sleep(0.01)
    filler = small_disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:
        pass  # the disk is full
    finally:
        os.close(fd)
    fault_gate.set()
    time.sleep(1.0)
    filler.unlink()  # space again (reads work while full, so the status can be read after)
    assert handle.get_result() == 40 * 4000
    assert _status("fills-the-disk") == "SUCCESS"
    assert sorted(fault_runs) == list(range(40))  # each step ran once
    assert "database or disk is full" in dbos_log.text


def test_a_file_system_gone_read_only_is_waited_out(
    tmp_path: Path, dbos_log: pytest.LogCaptureFixture
) -> None:
    _launch(tmp_path)
    sysdb = get_runtime().sysdb
    healthy = sysdb._execute_once
    back_at = time.monotonic() + 3600.0

    def read_only_for_a_while(sql: str, params: object) -> int:
        # What SQLite says on a file system remounted read-only after an I/O error (a remount
        # of a busy file system cannot be staged in a test, so its answer is).
        if time.monotonic() < back_at:
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return healthy(sql, params)  # type: ignore[arg-type]

    with SetWorkflowID("read-only-meanwhile"):
        handle = DBOS.start_workflow(fault_workflow, 6)
    while len(fault_runs) < 3:
        time.sleep(0.01)
    sysdb._execute_once = read_only_for_a_while  # type: ignore[method-assign]
    back_at = time.monotonic() + 1.0
    fault_gate.set()
    time.sleep(0.5)
    assert _status("read-only-meanwhile") == "PENDING"
    assert handle.get_result() == 6 * 4000
    assert _status("read-only-meanwhile") == "SUCCESS"
    assert sorted(fault_runs) == list(range(6))
    assert "readonly database" in dbos_log.text


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_database_file_taken_away_stops_writes_with_a_clear_error(
    tmp_path: Path, how: str
) -> None:
    path = _launch(tmp_path)
    with SetWorkflowID("loses-its-file"):
        DBOS.start_workflow(fault_slow_workflow, 500)
    backup = tmp_path / "backup.sqlite"
    if how == "replaced":
        with sqlite3.connect(path) as source, sqlite3.connect(backup) as copy:
            source.backup(copy)
    for name in glob.glob(path + "*"):
        os.remove(name)
    if how == "replaced":
        os.rename(backup, path)  # another file (a restored backup) at the same path
    fault_gate.set()
    with pytest.raises(DBOSDatabaseReplacedError, match=f"{path} was (deleted|replaced)"):
        DBOS.list_workflows()
    time.sleep(1.0)
    stopped_at = len(fault_runs)
    time.sleep(1.0)
    # Writes look at the file at least every 0.2 s: the workflow stopped soon after.
    assert len(fault_runs) == stopped_at < 100
    if how == "deleted":
        assert not os.path.exists(path)  # no new, empty database was started there
    else:
        with sqlite3.connect(path) as restored:  # the restored file was not written to
            (count,) = restored.execute("SELECT count(*) FROM operation_outputs").fetchone()
        assert count == 0

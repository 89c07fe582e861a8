"""Garbage collection of finished workflows: `DBOS.garbage_collect`, the retention service and
`dbos gc` all come here.

Per batch, the application databases' transaction outputs of the batch go first, then the
workflows themselves with everything they own in one system-database transaction. Stopped
between the two, the workflows are still there (finished, so they never run a transaction
again) and the next collection finishes them; the other order could leave outputs behind that
a new workflow reusing the ID would replay.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .._db.records import now_ms
from .._db.retention_store import DEFAULT_BATCH_SIZE
from .._db.system import SystemDatabase
from .._error import DBOSException

if TYPE_CHECKING:
    from .._db.application import ApplicationDatabase

Progress = Callable[[int], None]


def _check_bound(name: str, value: int | None, minimum: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DBOSException(f"{name} must be a whole number >= {minimum}, got {value!r}")


def garbage_collect(
    sysdb: SystemDatabase,
    app_dbs: Sequence[ApplicationDatabase] = (),
    *,
    cutoff_epoch_ms: int | None = None,
    rows_threshold: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Delete finished workflows that completed before `cutoff_epoch_ms` and those older than
    the newest `rows_threshold` workflows; returns how many were deleted. Live workflows
    (PENDING, ENQUEUED, DELAYED) and finished children of live parents are kept."""
    if cutoff_epoch_ms is None and rows_threshold is None:
        raise DBOSException("garbage_collect needs cutoff_epoch_ms=, rows_threshold= or both")
    _check_bound("cutoff_epoch_ms", cutoff_epoch_ms, 0)
    _check_bound("rows_threshold", rows_threshold, 0)
    _check_bound("batch_size", batch_size, 1)
    if cutoff_epoch_ms is not None and cutoff_epoch_ms > now_ms() + 1:
        raise DBOSException(f"cutoff_epoch_ms {cutoff_epoch_ms} is in the future")
    collector = _Collector(sysdb, app_dbs, batch_size, progress, stop)
    if cutoff_epoch_ms is not None:
        collector.run(created_before=cutoff_epoch_ms, finished_before=cutoff_epoch_ms)
    if rows_threshold is not None:
        boundary = sysdb.retention.gc_rows_boundary(rows_threshold)
        if boundary is not None:
            collector.run(created_before=boundary, finished_before=None)
    return collector.deleted


class _Collector:
    def __init__(
        self,
        sysdb: SystemDatabase,
        app_dbs: Sequence[ApplicationDatabase],
        batch_size: int,
        progress: Progress | None,
        stop: threading.Event | None,
    ) -> None:
        self.sysdb = sysdb
        self.app_dbs = list(app_dbs)
        self.batch_size = batch_size
        self.progress = progress
        self.stop = stop
        self.deleted = 0

    def run(self, created_before: int, finished_before: int | None) -> None:
        from_ms = -(2**62)
        while self.stop is None or not self.stop.is_set():
            batch = self.sysdb.retention.gc_candidates(
                from_ms, created_before, finished_before, self.batch_size
            )
            if not batch:
                return
            ids = [workflow_id for workflow_id, _ in batch]
            for app_db in self.app_dbs:
                app_db.delete_outputs(ids)
            gone = self.sysdb.retention.gc_delete(ids)
            self.deleted += len(gone)
            if self.progress is not None:
                self.progress(self.deleted)
            if len(batch) < self.batch_size:
                return
            # Resumed meanwhile, all of them: step past their creation time, or this batch
            # would be found again (they are not finished any more, but be sure).
            last = batch[-1][1]
            from_ms = last if gone else last + 1


def delete_workflows(
    sysdb: SystemDatabase,
    app_dbs: Sequence[ApplicationDatabase],
    workflow_ids: Sequence[str],
    *,
    delete_children: bool = False,
) -> list[str]:
    """`DBOS.delete_workflows`: these workflows (and with `delete_children` their descendants),
    whatever their status, with their steps, messages, events, streams and transaction
    outputs; the outputs first, as garbage collection does. Returns the IDs deleted."""
    if isinstance(workflow_ids, str):
        raise DBOSException("delete_workflows takes a list of workflow IDs")
    ids = list(dict.fromkeys(workflow_ids))
    if delete_children:
        ids += [c for c in sysdb.retention.descendants(ids) if c not in ids]
    deleted: list[str] = []
    for start in range(0, len(ids), DEFAULT_BATCH_SIZE):
        batch = ids[start : start + DEFAULT_BATCH_SIZE]
        for app_db in app_dbs:
            app_db.delete_outputs(batch)
        deleted += sysdb.retention.delete_workflows(batch)
    return deleted

"""`DBOS.garbage_collect`: retention on demand, for the process that owns the databases."""

from __future__ import annotations

from .._core.checkpoint import active_workflow
from .._error import DBOSException


class Maintenance:
    @classmethod
    def garbage_collect(
        cls,
        cutoff_epoch_ms: int | None = None,
        rows_threshold: int | None = None,
        *,
        batch_size: int = 500,
    ) -> int:
        """Delete finished workflows that completed before `cutoff_epoch_ms` and those older
        than the newest `rows_threshold`, with their steps, messages, events, streams and
        transaction outputs, `batch_size` workflows per transaction. Live workflows and
        finished children of live parents are kept. Returns how many were deleted."""
        from .._core.retention import garbage_collect
        from .._core.runtime import get_runtime

        if active_workflow() is not None:
            raise DBOSException("DBOS.garbage_collect cannot be called from a workflow")
        runtime = get_runtime()
        return garbage_collect(
            runtime.sysdb,
            [runtime.app_db] if runtime.app_db is not None else [],
            cutoff_epoch_ms=cutoff_epoch_ms,
            rows_threshold=rows_threshold,
            batch_size=batch_size,
        )

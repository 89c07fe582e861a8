"""Garbage collection in the system database: bounded batches, each one transaction.

A batch deletes its workflow rows and everything they own (steps, messages sent to them,
events and their history, streams) together, so an interrupted collection (a SIGKILL
mid-batch) rolls back whole: no step output outlives its workflow, which is what would let a
reused workflow ID replay another run's result (upstream py#769).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .sql import in_list
from .store import Store

# The most workflows one batch deletes: it holds the write lock (SQLite) or row locks
# (PostgreSQL) for the time of one such transaction, a few milliseconds to tens of them.
DEFAULT_BATCH_SIZE = 500
_NEVER = 2**62  # a time bound that excludes nothing


class RetentionStore(Store):
    def gc_rows_boundary(self, keep: int) -> int | None:
        """The creation time before which workflows are past the newest `keep`; None when
        there are no more than `keep` workflows."""
        row = self.db.fetchone(self.sql.GC_ROWS_BOUNDARY, {"offset": max(keep - 1, 0)})
        return None if row is None else int(row[0])

    def gc_candidates(
        self, from_ms: int, created_before: int, finished_before: int | None, limit: int
    ) -> list[tuple[str, int]]:
        """Up to `limit` finished workflows created in [from_ms, created_before) and finished
        before `finished_before`, oldest first, whose parent is not live."""
        params = {
            "from_ms": from_ms,
            "created_before": created_before,
            "finished_before": _NEVER if finished_before is None else finished_before,
            "limit": limit,
        }
        return [(str(r[0]), int(r[1])) for r in self.db.fetchall(self.sql.GC_CANDIDATES, params)]

    def gc_delete(self, workflow_ids: Sequence[str]) -> list[str]:
        """Delete these workflows, if still finished, with all they own, in one transaction;
        returns the IDs actually deleted."""
        if not workflow_ids:
            return []
        return self.db.retrying(lambda _attempt: self._gc_delete_once(list(workflow_ids)))

    def delete_workflows(self, workflow_ids: Sequence[str]) -> list[str]:
        """Delete these workflows, whatever their status, with all they own, in one
        transaction; returns the IDs that existed."""
        if not workflow_ids:
            return []
        ids = list(workflow_ids)
        return self.db.retrying(
            lambda _attempt: self._gc_delete_once(ids, self.sql.DELETE_WORKFLOWS)
        )

    def descendants(self, workflow_ids: Sequence[str]) -> list[str]:
        """Every child workflow of these, their children, and so on."""
        found: list[str] = []
        seen = set(workflow_ids)
        frontier = list(workflow_ids)
        while frontier:
            sql, params = in_list(self.sql.CHILDREN_OF, self.backend, frontier)
            children = [str(r[0]) for r in self.db.fetchall(sql, params)]
            frontier = [c for c in children if c not in seen]
            seen.update(frontier)
            found.extend(frontier)
        return found

    def _gc_delete_once(self, workflow_ids: list[str], delete_sql: str | None = None) -> list[str]:
        with self.db.transaction() as cur:
            sql, params = in_list(
                delete_sql or self.sql.GC_DELETE_WORKFLOWS, self.backend, workflow_ids
            )
            cur.execute(sql, params)
            deleted = [str(r[0]) for r in cur.fetchall()]
            if deleted:
                for statement in (
                    self.sql.GC_DELETE_STEPS,
                    self.sql.GC_DELETE_MESSAGES,
                    self.sql.GC_DELETE_EVENTS,
                    self.sql.GC_DELETE_EVENT_HISTORY,
                    self.sql.GC_DELETE_STREAMS,
                ):
                    child_sql, child_params = in_list(statement, self.backend, deleted)
                    self._gc_statement(cur, child_sql, child_params)
        return deleted

    def _gc_statement(self, cur: Any, sql: str, params: dict[str, str]) -> None:
        """One statement of a batch (a seam: the crash test stops a process right here)."""
        cur.execute(sql, params)

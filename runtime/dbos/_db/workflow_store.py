"""Reads and writes of workflow rows and their step checkpoints."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._storable_text import WORKFLOW_ROW_NAMES, require_storable, require_storable_fields
from .listing import WorkflowFilter, workflow_query
from .records import (
    FINAL,
    QUEUE,
    StepRecord,
    StepWrite,
    WorkflowRow,
    is_unique_violation,
    now_ms,
)
from .sql.workflows import WORKFLOW_COLUMN_COUNT
from .store import Store


class WorkflowStore(Store):
    def update_attributes(self, workflow_id: str, attributes: str | None) -> bool:
        params = {"workflow_uuid": workflow_id, "attributes": attributes, "now": now_ms()}
        return self.db.execute(self.sql.UPDATE_ATTRIBUTES, params) == 1

    def list_workflows(self, workflow_filter: WorkflowFilter) -> list[Any]:
        """Workflow rows (mappings by column name) matching the filter."""
        table = self.db.table("workflow_status")
        return self.db.run_query(workflow_query(table, workflow_filter, self.backend))

    def insert_workflow(self, row: Mapping[str, Any]) -> bool:
        """Insert a new workflow row; False when the ID exists already (nothing is changed).

        A row found with this very insert's creation time and owner is ours: its first attempt
        committed before the connection died."""
        require_storable_fields(row, WORKFLOW_ROW_NAMES)
        if self._start_committer.execute(self.sql.INSERT_WORKFLOW, row) == 1:
            return True
        return self.created_by(row)

    def insert_sql(self, row: Mapping[str, Any]) -> str:
        """The INSERT of a new row: one joining a partition of a partitioned queue takes its
        fair round (every enqueue path asks here)."""
        if row.get("partitioned") and row.get("queue_partition_key") is not None:
            return self.sql.INSERT_PARTITIONED_WORKFLOW
        return self.sql.INSERT_WORKFLOW

    def created_by(self, row: Mapping[str, Any]) -> bool:
        found = self.db.fetchone(self.sql.SELECT_CREATED, {"workflow_uuid": row["workflow_uuid"]})
        return found is not None and tuple(found) == (row["name"], row["now"], row["owner_xid"])

    def get_workflow(self, workflow_id: str) -> Sequence[Any] | None:
        require_storable(workflow_id, "A workflow ID")
        return self.db.fetchone(self.sql.SELECT_WORKFLOW, {"workflow_uuid": workflow_id})

    def record_step(
        self,
        workflow_id: str,
        owner: str,
        function_id: int,
        function_name: str,
        output: str | None,
        error: str | None,
        child_workflow_id: str | None,
        serialization: str | None,
        started_at: int,
        attempts: int | None = None,
        companion: StepWrite | None = None,
    ) -> bool:
        """Checkpoint one step; False when this execution no longer owns a PENDING workflow.
        `companion`: a step committed with it unless recorded already (a wait's deadline)."""
        step = StepWrite(
            workflow_id,
            owner,
            function_id,
            function_name,
            output,
            error,
            child_workflow_id,
            serialization,
            started_at,
            attempts,
        )
        params = step.params()
        try:
            if companion is not None:
                counts = self._committer.execute_unit(
                    [
                        (self.sql.RECORD_STEP, params),
                        (self.sql.RECORD_STEP_IF_ABSENT, companion.params()),
                    ]
                )
                return counts[0] == 1
            return self._committer.execute(self.sql.RECORD_STEP, params) == 1
        except Exception as exc:
            if is_unique_violation(exc) and self.recorded_as(params):
                return True  # our own write, committed before its reply was lost
            raise

    def recorded_as(self, params: Mapping[str, Any]) -> bool:
        """Whether the step row at these params' number is exactly the one they describe."""
        row = self.db.fetchone(self.sql.SELECT_STEP, params)
        if row is None:
            return False
        wanted = (
            params["function_name"],
            params["output"],
            params["error"],
            params["child_workflow_id"],
            params["completed_at"],
        )
        return tuple(row[:5]) == wanted

    def complete_workflow(
        self, workflow_id: str, owner: str, status: str, output: str | None, error: str | None
    ) -> bool:
        """Record a workflow's outcome while it is this execution's (False: it was not)."""
        params = _outcome(workflow_id, owner, status, output, error)
        return self._completed(
            workflow_id, [self._committer.execute(self.sql.COMPLETE_WORKFLOW, params)]
        )

    def complete_workflow_later(
        self,
        workflow_id: str,
        owner: str,
        status: str,
        output: str | None,
        then: Callable[[bool, BaseException | None], None],
    ) -> None:
        """`complete_workflow` without waiting for the commit: `then(done, error)` is called
        once it committed (or failed), from the thread that committed it."""

        def committed(counts: list[int], error: BaseException | None) -> None:
            then(error is None and self._completed(workflow_id, counts), error)

        params = _outcome(workflow_id, owner, status, output, None)
        self._committer.submit_unit([(self.sql.COMPLETE_WORKFLOW, params)], committed)

    def _completed(self, workflow_id: str, counts: list[int]) -> bool:
        """Whether the outcome's update found the workflow ours; if so, its waiters here wake."""
        done = counts == [1]
        if done:
            self.db.wake((FINAL, workflow_id, ""))
        return done

    def record_parked(
        self, workflow_id: str, owner: str, waiting_for: str, waiting_until_ms: int | None
    ) -> None:
        """Note what a parked workflow waits for and until when (commits shared under load)."""
        params = {
            "workflow_uuid": workflow_id,
            "owner_xid": owner,
            "waiting_for": waiting_for,
            "waiting_until": waiting_until_ms,
        }
        self._committer.execute(self.sql.RECORD_PARKED, params)

    def record_sleep_ended(self, workflow_id: str, function_id: int, wake_at_ms: int) -> None:
        self.db.execute(
            self.sql.SLEEP_ENDED,
            {
                "workflow_uuid": workflow_id,
                "function_id": function_id,
                "completed_at": now_ms(),
                "wake_at": wake_at_ms,
            },
        )

    def load_steps(self, workflow_id: str) -> dict[int, StepRecord]:
        rows = self.db.fetchall(self.sql.SELECT_STEPS, {"workflow_uuid": workflow_id})
        return {int(r[0]): StepRecord(int(r[0]), *r[1:]) for r in rows}

    def load_with_steps(
        self, workflow_id: str
    ) -> tuple[Sequence[Any] | None, dict[int, StepRecord]]:
        """`get_workflow` and `load_steps` in one query (a parked workflow's resume, where a
        round trip is a good part of the wake-up's latency)."""
        rows = self.db.fetchall(self.sql.SELECT_WORKFLOW_AND_STEPS, {"workflow_uuid": workflow_id})
        if not rows or rows[0][0] != 0:
            return None, {}
        first_step = 1 + WORKFLOW_COLUMN_COUNT
        steps = {
            int(r[first_step]): StepRecord(int(r[first_step]), *r[first_step + 1 :])
            for r in rows[1:]
        }
        return tuple(rows[0][1:first_step]), steps

    def claim_workflow(
        self, workflow_id: str, old_owner: str | None, new_owner: str, executor_id: str
    ) -> bool:
        params = {
            "workflow_uuid": workflow_id,
            "old_owner": old_owner,
            "new_owner": new_owner,
            "executor_id": executor_id,
            "now": now_ms(),
        }
        if self._committer.execute(self.sql.CLAIM_WORKFLOW, params) == 1:
            return True
        row = self.get_workflow(workflow_id)  # ours already, if a retried claim had committed
        return row is not None and row[WorkflowRow.OWNER] == new_owner

    def mark_max_recovery_exceeded(self, workflow_id: str) -> None:
        self.db.execute(self.sql.MARK_MAX_RECOVERY, {"workflow_uuid": workflow_id, "now": now_ms()})
        self.db.wake((FINAL, workflow_id, ""))

    def pending_for_executor(self, executor_id: str) -> list[Sequence[Any]]:
        """This executor's PENDING workflows, in the column order of `get_workflow`."""
        return self.db.fetchall(self.sql.SELECT_PENDING_FOR_EXECUTOR, {"executor_id": executor_id})

    def cancel_workflow(self, workflow_id: str, cascade: bool) -> list[str]:
        """Mark CANCELLED (unless finished); with cascade, every descendant too. Returns IDs hit."""
        require_storable(workflow_id, "A workflow ID")
        cancelled: list[str] = []
        frontier = [workflow_id]
        seen: set[str] = set()
        while frontier:
            wf = frontier.pop()
            if wf in seen:
                continue
            seen.add(wf)
            if self.db.execute(self.sql.CANCEL_WORKFLOW, {"workflow_uuid": wf, "now": now_ms()}):
                cancelled.append(wf)
                self.db.wake((FINAL, wf, ""))
            if cascade:
                rows = self.db.fetchall(self.sql.SELECT_CHILDREN, {"workflow_uuid": wf})
                frontier.extend(str(r[0]) for r in rows)
        return cancelled

    def resume_workflow(
        self, workflow_id: str, owner: str, executor_id: str, deadline: int | None
    ) -> bool:
        params = {
            "workflow_uuid": workflow_id,
            "owner_xid": owner,
            "executor_id": executor_id,
            "deadline": deadline,
            "now": now_ms(),
        }
        return self.db.execute(self.sql.RESUME_WORKFLOW, params) == 1

    def fork_workflow(
        self,
        row: Mapping[str, Any],
        original_id: str,
        start_step: int,
        replacement_children: Mapping[str, str] | None = None,
    ) -> bool:
        """Insert the fork's row and copy the original's checkpoints before `start_step` (the
        children they name swapped per `replacement_children`); False (and nothing written)
        when the fork's ID is taken."""
        require_storable_fields(row, WORKFLOW_ROW_NAMES)
        replacements = dict(replacement_children or {})
        return self.db.retrying(
            lambda number: self._fork_once(row, original_id, start_step, replacements, number)
        )

    def _fork_once(
        self,
        row: Mapping[str, Any],
        original_id: str,
        start_step: int,
        replacements: dict[str, str],
        attempt: int,
    ) -> bool:
        with self.db.transaction() as cur:
            cur.execute(self.sql.INSERT_WORKFLOW, row)
            if cur.rowcount != 1:
                # A retry meeting its own first attempt's fork: that one committed in full.
                return attempt > 0 and self.created_by(row)
            if start_step > 1:
                copy = {
                    "new_workflow_uuid": row["workflow_uuid"],
                    "workflow_uuid": original_id,
                    "start_step": start_step,
                }
                for statement in (
                    self.sql.COPY_STEPS_FOR_FORK,
                    self.sql.COPY_EVENT_HISTORY_FOR_FORK,
                    self.sql.REBUILD_EVENTS_FOR_FORK,
                    self.sql.COPY_STREAMS_FOR_FORK,
                ):
                    cur.execute(statement, copy)
                for old_child, new_child in replacements.items():
                    cur.execute(
                        self.sql.REPLACE_CHILD_FOR_FORK,
                        {
                            "new_workflow_uuid": row["workflow_uuid"],
                            "old_child": old_child,
                            "new_child": new_child,
                        },
                    )
            cur.execute(self.sql.MARK_FORKED, {"workflow_uuid": original_id})
        if row["queue_name"] is not None:
            self.db.wake((QUEUE, str(row["queue_name"]), ""))
        return True


def _outcome(
    workflow_id: str, owner: str, status: str, output: str | None, error: str | None
) -> dict[str, Any]:
    return {
        "workflow_uuid": workflow_id,
        "owner_xid": owner,
        "status": status,
        "output": output,
        "error": error,
        "now": now_ms(),
    }

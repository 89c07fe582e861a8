"""Replay mode: running a workflow against a recorded history without running anything new.

Recovery already re-runs a workflow from its checkpoints: each recorded step returns its stored
outcome and the first step that is not recorded runs for real. A replay (`dbos.testing.replay`,
`dbos replay`) takes the same path with one difference, made here: the checkpoints are a
`ReplayHistory`, and where the history ends (the code calls a step the history lacks) or
disagrees with the code (another name at that step number), the run stops with a control
exception instead of running the step or failing the workflow. Both derive from
`BaseException`, so a workflow's own `except Exception` cannot swallow them; the history keeps
the first one anyway, for a workflow that catches everything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._db.records import StepRecord
    from .context import WorkflowContext


class ReplayStop(BaseException):
    """A replayed run stopped at `step_id`, where the code called `called`."""

    def __init__(self, workflow_id: str, step_id: int, called: str) -> None:
        super().__init__(workflow_id, step_id, called)
        self.workflow_id = workflow_id
        self.step_id = step_id
        self.called = called


class HistoryEnded(ReplayStop):
    """The code reached a step the history does not hold: the replay got this far and
    succeeded (a recovery would run that step now)."""

    def __str__(self) -> str:
        return (
            f"workflow {self.workflow_id}: the history ends before step {self.step_id} "
            f"({self.called})"
        )


class StepMismatch(ReplayStop):
    """The code called `called` at a step number where the history recorded `recorded`:
    a recovery of this run would fail with DBOSUnexpectedStepError."""

    def __init__(self, workflow_id: str, step_id: int, called: str, recorded: str) -> None:
        super().__init__(workflow_id, step_id, called)
        self.recorded = recorded

    def __str__(self) -> str:
        return (
            f"workflow {self.workflow_id} step {self.step_id}: recorded {self.recorded}, "
            f"called {self.called}"
        )


class ReplayHistory(dict[int, "StepRecord"]):
    """The recorded steps of a replayed run, by step number; never empty to the core's
    `if ctx.recorded` checks, so even a history without steps is consulted (and ends)."""

    def __init__(self, steps: dict[int, StepRecord]) -> None:
        super().__init__(steps)
        self.stop: ReplayStop | None = None  # the first stop, whatever the code did with it
        self.context: WorkflowContext | None = None  # the run, once it consulted the history

    def __bool__(self) -> bool:
        return True

    def check(self, ctx: WorkflowContext, step_id: int, name: str) -> None:
        """Raise where the replay must stop: the history lacks `step_id`, or names another
        step there. Once stopped, every later call stops again with the first reason."""
        self.context = ctx
        if self.stop is not None:
            raise self.stop
        record = self.get(step_id)
        if record is None:
            self.stop = HistoryEnded(ctx.workflow_id, step_id, name)
        elif record.function_name != name:
            self.stop = StepMismatch(ctx.workflow_id, step_id, name, record.function_name)
        else:
            return
        raise self.stop


def replaying(ctx: WorkflowContext) -> bool:
    """Whether this execution replays a history (and so must not wait out recorded time)."""
    return type(ctx.recorded) is ReplayHistory

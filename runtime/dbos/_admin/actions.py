"""Cancel, resume and fork from outside the application, through the runtime's own control
code (`_core.control`), so an admin tool changes workflows exactly as `DBOS.*` calls do.
Resumes and forks are queued for the workers: nothing runs in the admin process."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

from .._core import control
from .._core.context import SetWorkflowID
from .._db.listing import WorkflowFilter
from .._error import DBOSException
from .connect import AdminError, AdminSession, first_line
from .views import get_workflow, is_finished


def _run(what: str, action: Callable[[], object]) -> None:
    try:
        action()
    except DBOSException as exc:
        raise AdminError(f"cannot {what}: {first_line(exc)}") from None


def cancel(s: AdminSession, workflow_id: str, cascade: bool = False) -> str:
    """Cancel one workflow (and its descendants with `cascade`); returns its status after."""
    before = get_workflow(s, workflow_id)["status"]
    if is_finished(before):
        return str(before)
    _run(
        f"cancel {workflow_id}",
        lambda: control.cancel_workflow(workflow_id, cascade, runtime=s.runtime),
    )
    return str(get_workflow(s, workflow_id)["status"])


def matching_live(s: AdminSession, workflow_filter: WorkflowFilter) -> list[str]:
    """IDs of the live workflows a bulk cancel would hit."""
    rows = s.sysdb.workflows.list_workflows(workflow_filter)
    return [str(r._mapping["workflow_uuid"]) for r in rows if not is_finished(r._mapping["status"])]


def cancel_many(
    s: AdminSession, workflow_ids: Sequence[str], progress: Callable[[int], None] | None = None
) -> int:
    """Cancel each of these (already checked to exist); returns how many it cancelled."""
    done = 0
    for index, workflow_id in enumerate(workflow_ids, 1):
        if s.sysdb.workflows.cancel_workflow(workflow_id, cascade=False):
            done += 1
        if progress is not None:
            progress(index)
    return done


def resume(s: AdminSession, workflow_id: str) -> str:
    """Put a cancelled, dead-lettered or stuck workflow back on its queue (the internal one
    when it had none) for a worker to continue from its last completed step."""
    status = get_workflow(s, workflow_id)["status"]
    if status in ("SUCCESS", "ERROR"):
        raise AdminError(f"workflow {workflow_id} has finished ({status}): nothing to resume")
    _run(
        f"resume {workflow_id}",
        lambda: control.resume_workflow(workflow_id, runtime=s.runtime, run_here=False),
    )
    return str(get_workflow(s, workflow_id)["status"])


def fork(
    s: AdminSession,
    workflow_id: str,
    start_step: int,
    new_id: str | None = None,
    app_version: str | None = None,
) -> str:
    """A new workflow (queued for a worker) with the same inputs, reusing the original's
    steps before `start_step`; returns its ID."""
    if start_step < 1:
        raise AdminError(f"--step must be 1 or more, got {start_step}")
    get_workflow(s, workflow_id)
    forked: list[str] = []

    def run() -> None:
        with SetWorkflowID(new_id) if new_id else contextlib.nullcontext():
            handle = control.fork_workflow(
                workflow_id,
                start_step,
                application_version=app_version,
                runtime=s.runtime,
                run_here=False,
            )
        forked.append(handle.workflow_id)

    _run(f"fork {workflow_id}", run)
    return forked[0]

"""Reading workflow records for callers: statuses, listings and step histories.

Everything a user sees is read from the system database, so any process (or an admin tool)
sees the same workflows. Values that cannot be decoded are shown raw, never hidden.
"""

from __future__ import annotations

import json
from typing import Any

from .._db.listing import WorkflowFilter
from .._serialization import PORTABLE_FORMAT, portable
from .._status import StepInfo, WorkflowStatus
from .filters import check_count
from .runtime import Runtime, get_runtime, logger


def _safe(runtime: Runtime, text: str | None, fmt: str | None, what: str, workflow_id: str) -> Any:
    """Decode a stored value for display; a value that can't be decoded is shown raw, with a
    warning, rather than hiding the whole listing."""
    if text is None:
        return None
    try:
        return runtime.decode(text, fmt)
    except Exception as exc:
        logger.warning("Cannot decode the %s of workflow %s: %s", what, workflow_id, exc)
        return text


def _safe_inputs(runtime: Runtime, text: str | None, fmt: str | None, workflow_id: str) -> Any:
    """A workflow's arguments as `{"args": ..., "kwargs": ...}`; the portable format's
    `{"namedArgs", "positionalArgs"}` shown in that shape too, its arguments as a tuple."""
    if fmt != PORTABLE_FORMAT:
        return _safe(runtime, text, fmt, "input", workflow_id)
    try:
        args, kwargs = portable.decode_inputs(text)
    except Exception as exc:
        logger.warning("Cannot decode the input of workflow %s: %s", workflow_id, exc)
        return text
    return {"args": args, "kwargs": kwargs}


def _safe_error(runtime: Runtime, text: str | None, fmt: str | None, workflow_id: str) -> Any:
    if text is None:
        return None
    try:
        return runtime.decode_error(text, fmt)
    except Exception as exc:
        logger.warning("Cannot decode the error of workflow %s: %s", workflow_id, exc)
        return text


def _status_from_row(
    runtime: Runtime, r: Any, load_input: bool, load_output: bool
) -> WorkflowStatus:
    m = r._mapping
    wf = m["workflow_uuid"]
    fmt = m["serialization"]
    return WorkflowStatus(
        workflow_id=wf,
        status=m["status"],
        name=m["name"],
        class_name=m["class_name"],
        config_name=m["config_name"],
        authenticated_user=m["authenticated_user"],
        assumed_role=m["assumed_role"],
        authenticated_roles=(
            json.loads(m["authenticated_roles"]) if m["authenticated_roles"] else None
        ),
        input=_safe_inputs(runtime, m["inputs"], fmt, wf) if load_input else None,
        output=_safe(runtime, m["output"], fmt, "output", wf) if load_output else None,
        error=_safe_error(runtime, m["error"], fmt, wf) if load_output else None,
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        completed_at=m["completed_at"],
        queue_name=m["queue_name"],
        executor_id=m["executor_id"],
        app_version=m["application_version"],
        app_id=m["application_id"],
        recovery_attempts=m["recovery_attempts"],
        workflow_timeout_ms=m["workflow_timeout_ms"],
        workflow_deadline_epoch_ms=m["workflow_deadline_epoch_ms"],
        deduplication_id=m["deduplication_id"],
        priority=m["priority"],
        queue_partition_key=m["queue_partition_key"],
        forked_from=m["forked_from"],
        was_forked_from=bool(m["was_forked_from"]),
        parent_workflow_id=m["parent_workflow_id"],
        dequeued_at=m["started_at_epoch_ms"],
        delay_until_epoch_ms=m["delay_until_epoch_ms"],
        attributes=json.loads(m["attributes"]) if m["attributes"] is not None else None,
        schedule_name=m["schedule_name"],
    )


def list_workflows(
    runtime: Runtime,
    workflow_filter: WorkflowFilter,
    *,
    load_input: bool = True,
    load_output: bool = True,
) -> list[WorkflowStatus]:
    rows = runtime.sysdb.workflows.list_workflows(workflow_filter)
    return [_status_from_row(runtime, r, load_input, load_output) for r in rows]


def get_workflow_status(workflow_id: str, runtime: Runtime | None = None) -> WorkflowStatus | None:
    runtime = runtime or get_runtime()
    found = list_workflows(runtime, WorkflowFilter(workflow_ids=(workflow_id,)))
    return found[0] if found else None


def list_workflow_steps(
    workflow_id: str,
    runtime: Runtime | None = None,
    *,
    load_output: bool = True,
    limit: int | None = None,
    offset: int | None = None,
) -> list[StepInfo]:
    """The workflow's recorded steps in step order; `offset` skips that many, `limit` bounds the
    rest (a long workflow's page)."""
    check_count(limit, "limit")
    check_count(offset, "offset")
    runtime = runtime or get_runtime()
    records = sorted(
        runtime.sysdb.workflows.load_steps(workflow_id).values(), key=lambda r: r.function_id
    )
    start = offset or 0
    records = records[start:] if limit is None else records[start : start + limit]
    steps: list[StepInfo] = []
    for rec in records:
        steps.append(
            {
                "function_id": rec.function_id,
                "function_name": rec.function_name,
                "output": (
                    _safe(runtime, rec.output, rec.serialization, "step output", workflow_id)
                    if load_output
                    else None
                ),
                "error": (
                    _safe_error(runtime, rec.error, rec.serialization, workflow_id)
                    if load_output
                    else None
                ),
                "child_workflow_id": rec.child_workflow_id,
                "started_at_epoch_ms": rec.started_at_epoch_ms,
                "completed_at_epoch_ms": rec.completed_at_epoch_ms,
            }
        )
    return steps

"""Workflows, steps, queues and workers as plain JSON-ready dicts, for the `dbos` command's
`--json`, its tables, and the dashboard alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._db.listing import QUEUED_STATUSES, WorkflowFilter
from .._db.records import StepRecord, now_ms
from .._status import TERMINAL_STATUSES, WorkflowStatusString
from .connect import AdminError, AdminSession, NotFound
from .values import display, display_error

STATUSES = tuple(s.value for s in WorkflowStatusString)
LIVE_STATUSES = QUEUED_STATUSES
TIMELINE_LIMIT = 1000  # messages or stream values shown per workflow


def check_statuses(statuses: Sequence[str] | None) -> tuple[str, ...] | None:
    if not statuses:
        return None
    wanted = tuple(s.strip().upper() for s in statuses if s.strip())
    unknown = [s for s in wanted if s not in STATUSES]
    if unknown:
        raise AdminError(f"unknown status {unknown[0]!r}: expected one of {', '.join(STATUSES)}")
    return wanted or None


def workflow_view(m: Mapping[str, Any], values: bool = True) -> dict[str, Any]:
    """One workflow row (a mapping by column name) for display."""
    fmt = m["serialization"]
    created, completed = m["created_at"], m["completed_at"]
    view: dict[str, Any] = {
        "workflow_id": m["workflow_uuid"],
        "status": m["status"],
        "name": m["name"],
        "class_name": m["class_name"],
        "config_name": m["config_name"],
        "queue_name": m["queue_name"],
        "executor_id": m["executor_id"],
        "app_version": m["application_version"],
        "created_at": created,
        "updated_at": m["updated_at"],
        "completed_at": completed,
        "duration_ms": (completed - created) if completed is not None else None,
        "recovery_attempts": m["recovery_attempts"],
        "parent_workflow_id": m["parent_workflow_id"],
        "forked_from": m["forked_from"],
        "deduplication_id": m["deduplication_id"],
        "priority": m["priority"],
        "queue_partition_key": m["queue_partition_key"],
        "deadline_epoch_ms": m["workflow_deadline_epoch_ms"],
        "delay_until_epoch_ms": m["delay_until_epoch_ms"],
    }
    if values:
        view["input"] = display(m["inputs"], fmt)
        view["output"] = display(m["output"], fmt)
        view["error"] = display_error(m["error"], fmt)
    return view


def list_workflows(
    s: AdminSession, workflow_filter: WorkflowFilter, values: bool = True
) -> list[dict[str, Any]]:
    rows = s.sysdb.workflows.list_workflows(workflow_filter)
    return [workflow_view(r._mapping, values) for r in rows]


def get_workflow(s: AdminSession, workflow_id: str) -> dict[str, Any]:
    found = list_workflows(s, WorkflowFilter(workflow_ids=(workflow_id,)))
    if not found:
        raise NotFound(f"no workflow with ID {workflow_id!r}")
    return found[0]


def step_view(rec: StepRecord) -> dict[str, Any]:
    started, completed = rec.started_at_epoch_ms, rec.completed_at_epoch_ms
    return {
        "step_id": rec.function_id,
        "name": rec.function_name,
        "started_at": started,
        "completed_at": completed,
        "duration_ms": (completed - started) if started and completed else None,
        "attempts": rec.attempts or 1,
        "output": display(rec.output, rec.serialization),
        "error": display_error(rec.error, rec.serialization),
        "child_workflow_id": rec.child_workflow_id,
    }


def list_steps(s: AdminSession, workflow_id: str) -> list[dict[str, Any]]:
    get_workflow(s, workflow_id)  # an unknown ID is an error, not an empty list
    return [step_view(r) for r in s.sysdb.workflows.load_steps(workflow_id).values()]


def timeline(s: AdminSession, workflow_id: str) -> dict[str, Any]:
    """Everything the dashboard shows of one workflow: its row, steps, children, messages
    received, events (and the step that set each value) and streams."""
    workflow = get_workflow(s, workflow_id)
    db = s.sysdb
    children = list_workflows(
        s, WorkflowFilter(parent_workflow_id=(workflow_id,), limit=TIMELINE_LIMIT), values=False
    )
    history: dict[str, list[dict[str, Any]]] = {}
    for function_id, key, value, fmt in db.inspection.event_history_of(workflow_id):
        history.setdefault(str(key), []).append(
            {"step_id": function_id, "value": display(value, fmt)}
        )
    streams: dict[str, dict[str, Any]] = {}
    for key, _seq, value, fmt, function_id in db.inspection.streams_of(workflow_id, TIMELINE_LIMIT):
        stream = streams.setdefault(str(key), {"key": key, "values": [], "closed": False})
        if value is None:
            stream["closed"] = True
        else:
            stream["values"].append({"step_id": function_id, "value": display(value, fmt)})
    return {
        "workflow": workflow,
        "steps": [step_view(r) for r in db.workflows.load_steps(workflow_id).values()],
        "children": children,
        "messages": [
            {
                "seq": seq,
                "topic": None if topic == "__null__topic__" else topic,
                "message": display(message, fmt),
                "consumed": bool(consumed),
                "sent_at": sent_at,
            }
            for seq, _uuid, topic, message, fmt, consumed, sent_at in db.inspection.messages_to(
                workflow_id, TIMELINE_LIMIT
            )
        ],
        "events": [
            {"key": key, "value": display(value, fmt), "history": history.get(str(key), [])}
            for key, value, fmt in db.inspection.events_of(workflow_id)
        ],
        "streams": list(streams.values()),
    }


def workers(s: AdminSession, stale_after_sec: float = 60.0) -> list[dict[str, Any]]:
    """Each process that has run against this database: its executor ID, last heartbeat, and
    how many workflows its executor ID has running."""
    running = s.sysdb.inspection.running_by_executor()
    now = now_ms()
    out = []
    for instance, executor, version, host, pid, started, beat in s.sysdb.inspection.executors():
        beat_ms = int(beat)
        if beat_ms == 0:
            state = "stopped"
        elif now - beat_ms > stale_after_sec * 1000:
            state = "silent"
        else:
            state = "alive"
        out.append(
            {
                "instance_id": instance,
                "executor_id": executor,
                "app_version": version,
                "hostname": host,
                "pid": pid,
                "started_at": started,
                "heartbeat_at": beat_ms or None,
                "state": state,
                "executor_running": running.get(str(executor), 0),
            }
        )
    return out


def is_finished(status: str) -> bool:
    return status in TERMINAL_STATUSES

"""Reading workflows' recorded histories out of a system database (`dbos workflow export`,
`dbos.testing.export_history`), in the format of `history_format`.

Only reads, and nothing is decoded: every stored value goes out as the text it is stored as,
with its format label.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from .._db.listing import WorkflowFilter
from .._db.records import now_ms
from .._db.schema import NULL_TOPIC
from .._db.system import SystemDatabase
from .connect import NotFound
from .history_format import history_document

# Per workflow, at most this many messages and stream values are exported (a replay needs
# neither: what the workflow received is in its steps; they are there for people and tools).
EXPORT_ROWS_LIMIT = 100_000


def workflow_fields(m: Mapping[str, Any]) -> dict[str, Any]:
    """The exported fields of one workflow row (a mapping by column name)."""
    attributes = m["attributes"]
    return {
        "workflow_id": m["workflow_uuid"],
        "name": m["name"],
        "class_name": m["class_name"],
        "config_name": m["config_name"],
        "status": m["status"],
        "serialization": m["serialization"],
        "inputs": m["inputs"],
        "output": m["output"],
        "error": m["error"],
        "application_version": m["application_version"],
        "executor_id": m["executor_id"],
        "queue_name": m["queue_name"],
        "queue_partition_key": m["queue_partition_key"],
        "deduplication_id": m["deduplication_id"],
        "priority": m["priority"],
        "parent_workflow_id": m["parent_workflow_id"],
        "forked_from": m["forked_from"],
        "created_at": m["created_at"],
        "updated_at": m["updated_at"],
        "started_at": m["started_at_epoch_ms"],
        "completed_at": m["completed_at"],
        "recovery_attempts": m["recovery_attempts"],
        "timeout_ms": m["workflow_timeout_ms"],
        "deadline_epoch_ms": m["workflow_deadline_epoch_ms"],
        "delay_until_epoch_ms": m["delay_until_epoch_ms"],
        "attributes": None if attributes is None else json.loads(attributes),
        "authenticated_user": m["authenticated_user"],
        "authenticated_roles": m["authenticated_roles"],
        "assumed_role": m["assumed_role"],
    }


def _history_of_row(sysdb: SystemDatabase, row: Mapping[str, Any]) -> dict[str, Any]:
    workflow_id = str(row["workflow_uuid"])
    children = sysdb.workflows.list_workflows(WorkflowFilter(parent_workflow_id=(workflow_id,)))
    received = sysdb.inspection.messages_to(workflow_id, EXPORT_ROWS_LIMIT)
    messages = [
        {
            "message_id": message_id,
            "topic": None if topic == NULL_TOPIC else topic,
            "message": message,
            "serialization": fmt,
            "consumed": bool(consumed),
            "sent_at": sent_at,
        }
        for _seq, message_id, topic, message, fmt, consumed, sent_at in received
    ]
    events = [
        {"key": key, "value": value, "serialization": fmt, "step_id": function_id}
        for function_id, key, value, fmt in sysdb.inspection.event_history_of(workflow_id)
    ]
    streams = [
        {"key": key, "offset": seq, "value": value, "serialization": fmt, "step_id": function_id}
        for key, seq, value, fmt, function_id in sysdb.inspection.streams_of(
            workflow_id, EXPORT_ROWS_LIMIT
        )
    ]
    return history_document(
        workflow_fields(row),
        sysdb.workflows.load_steps(workflow_id).values(),
        children=[str(c._mapping["workflow_uuid"]) for c in children],
        messages=messages,
        events=events,
        streams=streams,
        exported_at=now_ms(),
    )


def export_workflow(sysdb: SystemDatabase, workflow_id: str) -> dict[str, Any]:
    """One workflow's history; NotFound for an unknown ID."""
    rows = sysdb.workflows.list_workflows(WorkflowFilter(workflow_ids=(workflow_id,)))
    if not rows:
        raise NotFound(f"no workflow with ID {workflow_id!r}")
    return _history_of_row(sysdb, rows[0]._mapping)


def export_with_children(sysdb: SystemDatabase, workflow_id: str) -> Iterator[dict[str, Any]]:
    """The workflow's history, then each descendant's, depth first in the order they were
    started (each once, however the family is linked)."""
    seen: set[str] = set()
    pending = [workflow_id]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        history = export_workflow(sysdb, current)
        yield history
        pending.extend(reversed(history["children"]))


def export_matching(
    sysdb: SystemDatabase, workflow_filter: WorkflowFilter
) -> Iterator[dict[str, Any]]:
    """The history of every workflow the filter matches, in the filter's order."""
    for row in sysdb.workflows.list_workflows(workflow_filter):
        yield _history_of_row(sysdb, row._mapping)

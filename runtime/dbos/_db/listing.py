"""The listing query behind `list_workflows`, `list_queued_workflows`, the client and the admin
tools: one definition of the filters, built with SQLAlchemy Core (its shape varies per call)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

QUEUED_STATUSES = ("DELAYED", "ENQUEUED", "PENDING")


@dataclass(frozen=True)
class WorkflowFilter:
    """Every filter is optional; lists match any of their values. Times are epoch ms."""

    workflow_ids: Sequence[str] | None = None
    status: Sequence[str] | None = None
    name: Sequence[str] | None = None
    app_version: Sequence[str] | None = None
    user: Sequence[str] | None = None
    queue_name: Sequence[str] | None = None
    parent_workflow_id: Sequence[str] | None = None
    forked_from: Sequence[str] | None = None
    executor_id: Sequence[str] | None = None
    workflow_id_prefix: Sequence[str] | None = None
    schedule_name: Sequence[str] | None = None
    start_time_ms: int | None = None
    end_time_ms: int | None = None
    completed_after_ms: int | None = None
    completed_before_ms: int | None = None
    dequeued_after_ms: int | None = None
    dequeued_before_ms: int | None = None
    has_parent: bool | None = None  # True: children only; False: top-level workflows only
    was_forked_from: bool | None = None  # True: workflows some fork was made from
    attributes: dict[str, Any] | None = None  # every key with this value (see attribute_match)
    queued_only: bool = False  # on a queue: DELAYED, ENQUEUED or PENDING unless `status` says
    limit: int | None = None
    offset: int | None = None
    sort_desc: bool = False


def enqueue_order(table: sa.Table) -> Any:
    """A total order of rows in creation order: PostgreSQL's `seq`, SQLite's rowid."""
    return table.c.seq if "seq" in table.c else sa.literal_column("rowid")


def attribute_match(table: sa.Table, attributes: dict[str, Any], backend: str) -> list[Any]:
    """Conditions for `list_workflows(attributes=...)`: on PostgreSQL, JSON containment (nested
    values too); on SQLite, each key equal to a plain JSON value (string, number, bool, null)."""
    column = table.c.attributes
    if backend == "postgresql":
        # Imported here: the PostgreSQL dialect costs `import dbos` some 40 ms otherwise.
        from sqlalchemy.dialects.postgresql import JSONB

        return [sa.cast(column, JSONB).contains(attributes)]
    conditions = []
    for key, value in attributes.items():
        if isinstance(value, (dict, list)):
            raise ValueError(
                f"attribute {key!r}: on SQLite, attributes are matched on plain values only"
            )
        path = "$." + json.dumps(key)
        extracted = sa.func.json_extract(column, path)
        conditions.append(extracted.is_(None) if value is None else extracted == value)
    return conditions


def workflow_query(table: sa.Table, f: WorkflowFilter, backend: str = "sqlite") -> sa.Select[Any]:
    t = table
    query = sa.select(t)
    for column, values in (
        (t.c.workflow_uuid, f.workflow_ids),
        (t.c.status, f.status),
        (t.c.name, f.name),
        (t.c.application_version, f.app_version),
        (t.c.authenticated_user, f.user),
        (t.c.queue_name, f.queue_name),
        (t.c.parent_workflow_id, f.parent_workflow_id),
        (t.c.forked_from, f.forked_from),
        (t.c.executor_id, f.executor_id),
        (t.c.schedule_name, f.schedule_name),
    ):
        if values is not None:
            query = query.where(column.in_(list(values)))
    if f.has_parent is not None:
        parent = t.c.parent_workflow_id
        query = query.where(parent.is_not(None) if f.has_parent else parent.is_(None))
    if f.was_forked_from is not None:
        query = query.where(t.c.was_forked_from.is_(sa.true() if f.was_forked_from else sa.false()))
    if f.attributes:
        query = query.where(*attribute_match(t, f.attributes, backend))
    if f.queued_only:
        query = query.where(t.c.queue_name.is_not(None))
        if f.status is None:
            query = query.where(t.c.status.in_(QUEUED_STATUSES))
    if f.start_time_ms is not None:
        query = query.where(t.c.created_at >= f.start_time_ms)
    if f.end_time_ms is not None:
        query = query.where(t.c.created_at <= f.end_time_ms)
    if f.completed_after_ms is not None:
        query = query.where(t.c.completed_at >= f.completed_after_ms)
    if f.completed_before_ms is not None:
        query = query.where(t.c.completed_at <= f.completed_before_ms)
    if f.dequeued_after_ms is not None:
        query = query.where(t.c.started_at_epoch_ms >= f.dequeued_after_ms)
    if f.dequeued_before_ms is not None:
        query = query.where(t.c.started_at_epoch_ms <= f.dequeued_before_ms)
    if f.workflow_id_prefix:
        query = query.where(
            sa.or_(
                *(t.c.workflow_uuid.startswith(p, autoescape=True) for p in f.workflow_id_prefix)
            )
        )
    seq = enqueue_order(t)
    if f.sort_desc:
        query = query.order_by(t.c.created_at.desc(), seq.desc())
    else:
        query = query.order_by(t.c.created_at.asc(), seq.asc())
    if f.limit is not None:
        query = query.limit(f.limit)
    if f.offset is not None:
        query = query.offset(f.offset)
    return query

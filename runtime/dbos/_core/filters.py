"""The filters of `list_workflows` and `list_queued_workflows`, defined once.

`WorkflowFilterArgs` is the keyword surface every listing call shares (`DBOS`, `DBOSClient`, sync
and async): their signatures are derived from it, so a new filter is one line here plus its
condition in `_db/listing.py`. `to_filter` turns what a caller wrote (a string or a list,
a datetime or an ISO string) into the database layer's normalized `WorkflowFilter`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict

from .._db.listing import WorkflowFilter

Moment = str | datetime | int
"""A point in time: a datetime, an ISO 8601 string, or epoch milliseconds. A naive datetime or
string is read as local time, as `datetime.timestamp` does."""

Names = str | Sequence[str]
"""One value, or any of several."""


class WorkflowFilterArgs(TypedDict, total=False):
    """Keyword filters of a workflow listing; every one given must match, lists match any of
    their values. Times bound inclusively."""

    workflow_ids: Names | None
    workflow_id: Names | None  # an alias of workflow_ids (the seed's FastAPI example uses it)
    status: Names | None
    name: Names | None
    app_version: Names | None
    user: Names | None
    queue_name: Names | None
    parent_workflow_id: Names | None
    forked_from: Names | None
    executor_id: Names | None
    workflow_id_prefix: Names | None
    schedule_name: Names | None  # started by these schedules' ticks, triggers or backfills
    start_time: Moment | None  # created at or after
    end_time: Moment | None  # created at or before
    completed_after: Moment | None
    completed_before: Moment | None
    dequeued_after: Moment | None  # started from its queue at or after
    dequeued_before: Moment | None
    has_parent: bool | None  # True: child workflows only; False: top-level only
    was_forked_from: bool | None  # True: workflows some fork was made from
    attributes: dict[str, Any] | None  # SetWorkflowAttributes values, all of them
    queues_only: bool  # on a queue and (unless `status` says) DELAYED, ENQUEUED or PENDING
    limit: int | None
    offset: int | None
    sort_desc: bool  # newest first


class ListingArgs(WorkflowFilterArgs, total=False):
    """A listing's filters and what to decode of each row: inputs and outputs can be large."""

    load_input: bool
    load_output: bool


def epoch_ms(value: Moment, what: str = "time") -> int:
    """Epoch milliseconds of a datetime, an ISO 8601 string or an int (already epoch ms)."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a datetime, an ISO 8601 string or epoch ms")
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{what} is not an ISO 8601 time: {value!r}") from None
    else:
        raise TypeError(f"{what} must be a datetime, an ISO 8601 string or epoch ms")
    return int(moment.timestamp() * 1000)


def _names(value: Names | None, what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Sequence):
        raise TypeError(f"{what} must be a string or a list of strings, got {value!r}")
    return tuple(str(v) for v in value)


def _moment(args: WorkflowFilterArgs, key: str) -> int | None:
    value = args.get(key)
    return None if value is None else epoch_ms(value, key)  # type: ignore[arg-type]


# A bound on `limit` and `offset`: beyond any listing a process could hold, and within what
# both databases take (PostgreSQL refuses a LIMIT past a bigint with the whole statement).
MAX_COUNT = 10**9


def check_count(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise ValueError(f"{what} must be a whole number from 0 to {MAX_COUNT:,}, got {value!r}")
    return value


_KNOWN = frozenset(ListingArgs.__annotations__)


def to_filter(args: WorkflowFilterArgs, *, queued_only: bool = False) -> WorkflowFilter:
    """The database filter for a listing call's keywords; a bad value names its keyword."""
    unknown = set(args) - _KNOWN
    if unknown:
        raise TypeError(f"Unknown workflow filter(s): {', '.join(sorted(unknown))}")
    ids, alias = args.get("workflow_ids"), args.get("workflow_id")
    if ids is not None and alias is not None:
        raise ValueError("Pass workflow_ids= or workflow_id=, not both")
    return WorkflowFilter(
        workflow_ids=_names(ids if ids is not None else alias, "workflow_ids"),
        status=_names(args.get("status"), "status"),
        name=_names(args.get("name"), "name"),
        app_version=_names(args.get("app_version"), "app_version"),
        user=_names(args.get("user"), "user"),
        queue_name=_names(args.get("queue_name"), "queue_name"),
        parent_workflow_id=_names(args.get("parent_workflow_id"), "parent_workflow_id"),
        forked_from=_names(args.get("forked_from"), "forked_from"),
        executor_id=_names(args.get("executor_id"), "executor_id"),
        workflow_id_prefix=_names(args.get("workflow_id_prefix"), "workflow_id_prefix"),
        schedule_name=_names(args.get("schedule_name"), "schedule_name"),
        start_time_ms=_moment(args, "start_time"),
        end_time_ms=_moment(args, "end_time"),
        completed_after_ms=_moment(args, "completed_after"),
        completed_before_ms=_moment(args, "completed_before"),
        dequeued_after_ms=_moment(args, "dequeued_after"),
        dequeued_before_ms=_moment(args, "dequeued_before"),
        has_parent=args.get("has_parent"),
        was_forked_from=args.get("was_forked_from"),
        attributes=args.get("attributes"),
        queued_only=queued_only or bool(args.get("queues_only")),
        limit=check_count(args.get("limit"), "limit"),
        offset=check_count(args.get("offset"), "offset"),
        sort_desc=bool(args.get("sort_desc")),
    )

"""Query parameters of the dashboard's pages and API, checked: a bad one is a 400 with a
message, never a 500 from deeper down."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import QueryParams

from .._admin.connect import AdminError
from .._admin.queues import PARTITIONS_SHOWN
from .._admin.times import epoch_ms
from .._admin.views import check_statuses
from .._db.listing import WorkflowFilter

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
FILTER_KEYS = ("status", "name", "queue", "schedule", "executor", "since", "limit", "offset")


class BadRequest(AdminError):
    """A parameter a request got wrong (the answer is a 400)."""


def _values(params: QueryParams, key: str) -> list[str] | None:
    """Repeated `?k=a&k=b` and comma lists `?k=a,b` alike; empty means no filter."""
    out = [v.strip() for raw in params.getlist(key) for v in raw.split(",") if v.strip()]
    return out or None


def _int(params: QueryParams, key: str, default: int, low: int, high: int) -> int:
    raw = params.get(key, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{key} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise BadRequest(f"{key} must be between {low} and {high}, got {value}")
    return value


def partitions_shown(params: QueryParams) -> int:
    """How many of a queue's largest partitions to show (`?partitions=`, 10 by default)."""
    return _int(params, "partitions", PARTITIONS_SHOWN, 0, MAX_LIMIT)


def workflow_filter(params: QueryParams) -> WorkflowFilter:
    """The list's filters: status, name, queue, schedule, executor (each one or several), since
    (an ISO time or a duration ago), limit, offset; newest first."""
    since = params.get("since", "").strip()
    return WorkflowFilter(
        status=check_statuses(_values(params, "status")),
        name=_values(params, "name"),
        queue_name=_values(params, "queue"),
        schedule_name=_values(params, "schedule"),
        executor_id=_values(params, "executor"),
        start_time_ms=epoch_ms(since, "since") if since else None,
        limit=_int(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=_int(params, "offset", 0, 0, 10**9),
        sort_desc=True,
    )


def form_values(params: QueryParams) -> Mapping[str, str]:
    """The filters as typed, to fill the page's form back in."""
    return {key: params.get(key, "") for key in FILTER_KEYS}


def fork_step(body: object) -> int:
    step = body.get("step", 1) if isinstance(body, dict) else None
    if isinstance(step, str) and step.strip().isdigit():
        step = int(step)
    if isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise BadRequest(f"step must be a whole number of 1 or more, got {step!r}")
    return step

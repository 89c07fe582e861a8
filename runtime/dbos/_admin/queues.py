"""Queues for the admin tools (`dbos queue ...` and the dashboard): every queue with its settings
and depth, one queue with its largest partitions, and registering or deleting a queue exactly
as `DBOSClient` does (the same operations: the same checks, and a delete that would strand work
refused with the count unless forced)."""

from __future__ import annotations

from typing import Any

from .._error import DBOSException
from .._facade.operations import Caller, ClientCaller
from .._facade.queues_api import QueueAdministration
from .._registry.queues import QueueSpec, spec_from_row
from .connect import AdminError, AdminSession, NotFound, first_line

PARTITIONS_SHOWN = 10  # largest partitions shown for one queue


def _rate(limit: int | None, period: float | None) -> dict[str, Any] | None:
    return None if limit is None else {"limit": limit, "period_sec": period}


def settings_view(spec: QueueSpec) -> dict[str, Any]:
    """A queue's stored settings, and `limits`: what they bound, in words (the deprecated
    `partition_queue=True` applies every limit per partition)."""
    return {
        "name": spec.name,
        "kind": "declared" if spec.declared_in_code else "registered",
        "concurrency": spec.concurrency,
        "worker_concurrency": spec.worker_concurrency,
        "rate_limit": _rate(spec.limit, spec.period),
        "partition_concurrency": spec.partition_concurrency,
        "partition_worker_concurrency": spec.partition_worker_concurrency,
        "partition_rate_limit": _rate(spec.partition_limit, spec.partition_period),
        "priority_enabled": spec.priority_enabled,
        "partition_queue": spec.partition_queue,
        "polling_interval_sec": spec.polling_interval_sec,
        "limits": spec.describe(),
    }


def _unrecorded(name: str) -> dict[str, Any]:
    """A queue with live work but no row (deleted, or named by workers of an older version)."""
    return {
        "name": name,
        "kind": "unknown",
        "concurrency": None,
        "worker_concurrency": None,
        "rate_limit": None,
        "partition_concurrency": None,
        "partition_worker_concurrency": None,
        "partition_rate_limit": None,
        "priority_enabled": False,
        "partition_queue": False,
        "polling_interval_sec": None,
        "limits": "not recorded",
    }


def queues(s: AdminSession) -> list[dict[str, Any]]:
    """Every queue (declared or registered, and any other with live work): settings, depth
    by status, and how many partitions hold work."""
    depth: dict[str, dict[str, int]] = {}
    for name, status, count in s.sysdb.inspection.queue_depths():
        depth.setdefault(str(name), {})[str(status)] = int(count)
    partitions = s.sysdb.inspection.partition_counts()
    out: dict[str, dict[str, Any]] = {}
    for row in s.sysdb.queue_table.queue_rows():
        view = settings_view(spec_from_row(row))
        view["application_name"], view["created_at"], view["updated_at"] = row[13:16]
        out[view["name"]] = view
    for name in depth:
        out.setdefault(name, _unrecorded(name))
    for name, view in out.items():
        counts = depth.get(name, {})
        view["enqueued"] = counts.get("ENQUEUED", 0)
        view["running"] = counts.get("PENDING", 0)
        view["delayed"] = counts.get("DELAYED", 0)
        view["partitions"] = partitions.get(name, 0)
    return [out[name] for name in sorted(out)]


def queue(s: AdminSession, name: str, partitions: int = PARTITIONS_SHOWN) -> dict[str, Any]:
    """One queue as `queues` shows it, with its `partitions` largest partitions (live
    workflows by status, largest first)."""
    if partitions < 0:
        raise AdminError(f"partitions to show must be 0 or more, got {partitions}")
    found = [q for q in queues(s) if q["name"] == name]
    if not found:
        raise NotFound(f"no queue named {name!r}")
    view = found[0]
    view["largest_partitions"] = [
        {"key": key, "enqueued": enqueued, "running": running, "delayed": delayed}
        for key, enqueued, running, delayed in s.sysdb.inspection.largest_partitions(
            name, partitions
        )
    ]
    return view


class _Administration(QueueAdministration):
    """`DBOSClient`'s queue operations over an admin session's database."""

    def __init__(self, s: AdminSession) -> None:
        self._caller = ClientCaller(lambda: s.runtime)

    @classmethod
    def _caller_of(cls, instance: object | None) -> Caller | None:
        return instance._caller if isinstance(instance, _Administration) else None


def register(s: AdminSession, name: str, settings: dict[str, Any], update: bool) -> bool:
    """Register the queue (or, with `update`, replace the settings of the one there); True
    when it is new. Settings are checked as `DBOSClient.register_queue` checks them."""
    existed = s.sysdb.queue_table.queue_row(name) is not None
    try:
        _Administration(s).register_queue(
            name, on_conflict="always_update" if update else "never_update", **settings
        )
    except (DBOSException, ValueError, TypeError) as exc:
        raise AdminError(first_line(exc)) from None
    return not existed


def delete(s: AdminSession, name: str, force: bool) -> None:
    """Delete a registered queue; one holding work is refused with the count, unless `force`
    (its work is cancelled)."""
    if s.sysdb.queue_table.queue_row(name) is None:
        raise NotFound(f"no queue named {name!r}")
    try:
        _Administration(s).delete_queue(name, force=force)
    except DBOSException as exc:
        raise AdminError(first_line(exc)) from None

"""Reads and writes of cron schedules (`workflow_schedules`) and of the workflows their ticks
start. Cron arithmetic is the caller's: the scheduler hands `claim_due` a function that plans
each claimed row's ticks, and this store writes the plan in the claim's own transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from .records import QUEUE, is_unique_violation, now_ms
from .sql.schedules import SCHEDULE_COLUMN_NAMES
from .store import Store


@dataclass(frozen=True)
class ScheduleRecord:
    """One row of `workflow_schedules` (columns in `SCHEDULE_COLUMN_NAMES` order)."""

    schedule_id: str
    schedule_name: str
    workflow_name: str
    workflow_class_name: str | None
    schedule: str
    status: str
    context: str
    context_serialization: str | None
    last_fired_at: str | None
    automatic_backfill: bool
    cron_timezone: str | None
    queue_name: str | None
    application_name: str | None
    source: str
    catch_up_limit: int | None
    next_tick_at: int | None
    created_at: int | None
    updated_at: int | None

    @classmethod
    def of(cls, row: Sequence[Any]) -> ScheduleRecord:
        values = dict(zip(SCHEDULE_COLUMN_NAMES, row, strict=True))
        values["automatic_backfill"] = bool(values["automatic_backfill"])
        return cls(**values)


@dataclass(frozen=True)
class ScheduleFilter:
    """`list_schedules` filters; each given must match, lists match any of their values
    (`application_name` also matches schedules no application claimed)."""

    status: Sequence[str] | None = None
    workflow_name: Sequence[str] | None = None
    schedule_name_prefix: Sequence[str] | None = None
    application_name: Sequence[str] | None = None
    sources: Sequence[str] | None = None


@dataclass
class TickPlan:
    """What a claim writes: the ticks' workflow rows (`INSERT_TICK` parameters) and each
    claimed schedule's next tick and latest tick fired (`ADVANCE_SCHEDULE` parameters)."""

    ticks: list[dict[str, Any]] = field(default_factory=list)
    advances: list[dict[str, Any]] = field(default_factory=list)


class _Refused(Exception):
    """Rolls an all-or-none upsert back."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(names)
        self.names = names


class ScheduleStore(Store):
    # ------------------------------------------------------------------ definitions

    def insert_schedule(self, row: Mapping[str, Any]) -> bool:
        """Create a schedule; False when one of that name exists (nothing written). A retry
        that meets its own first attempt's row counts as created."""
        try:
            self.db.execute(self.sql.INSERT_SCHEDULE, dict(row) | {"now": now_ms()})
            return True
        except Exception as exc:
            if not is_unique_violation(exc):
                raise
        found = self.get_schedule(str(row["schedule_name"]))
        return found is not None and found.schedule_id == row["schedule_id"]

    def upsert_schedules(
        self, rows: Sequence[Mapping[str, Any]], all_or_none: bool = False
    ) -> list[str]:
        """Create or replace these schedules in one transaction, pipelined (see
        `UPSERT_SCHEDULE`); the names that belong to a schedule of another source, which are
        left as they are. With `all_or_none`, such a name writes nothing at all."""
        if not rows:
            return []
        check, names = self._names(
            self.sql.SELECT_OTHER_SOURCE, [str(r["schedule_name"]) for r in rows]
        )
        source = str(rows[0]["source"])

        def once(_attempt: int) -> list[str]:
            now = now_ms()
            with self.db.transaction() as cur:
                cur.executemany(self.sql.UPSERT_SCHEDULE, [dict(r) | {"now": now} for r in rows])
                cur.execute(check, {"names": names, "source": source})
                refused = [str(r[0]) for r in cur.fetchall()]
                if refused and all_or_none:
                    raise _Refused(refused)
            return refused

        try:
            return self.db.retrying(once)
        except _Refused as refused:
            return refused.names

    def get_schedule(self, name: str) -> ScheduleRecord | None:
        row = self.db.fetchone(self.sql.SELECT_SCHEDULE, {"schedule_name": name})
        return None if row is None else ScheduleRecord.of(row)

    def list_schedules(self, schedule_filter: ScheduleFilter) -> list[ScheduleRecord]:
        t = self.db.table("workflow_schedules")
        query = sa.select(*(t.c[name] for name in SCHEDULE_COLUMN_NAMES))
        f = schedule_filter
        for column, values in (
            (t.c.status, f.status),
            (t.c.workflow_name, f.workflow_name),
            (t.c.source, f.sources),
        ):
            if values is not None:
                query = query.where(column.in_(list(values)))
        if f.application_name is not None:
            query = query.where(
                sa.or_(t.c.application_name.is_(None), t.c.application_name.in_(f.application_name))
            )
        if f.schedule_name_prefix is not None:
            query = query.where(
                sa.or_(
                    *(
                        t.c.schedule_name.startswith(p, autoescape=True)
                        for p in f.schedule_name_prefix
                    )
                )
            )
        query = query.order_by(t.c.schedule_name)
        return [ScheduleRecord.of(r) for r in self.db.run_query(query)]

    def pause_schedule(self, name: str) -> bool:
        return (
            self.db.execute(self.sql.PAUSE_SCHEDULE, {"schedule_name": name, "now": now_ms()}) > 0
        )

    def resume_schedule(self, name: str, next_tick_at: int) -> bool:
        params = {"schedule_name": name, "next_tick_at": next_tick_at, "now": now_ms()}
        return self.db.execute(self.sql.RESUME_SCHEDULE, params) > 0

    def delete_schedule(self, name: str) -> bool:
        return self.db.execute(self.sql.DELETE_SCHEDULE, {"schedule_name": name}) > 0

    # ------------------------------------------------------------------ the scheduler

    def _names(self, sql: str, names: Sequence[str]) -> tuple[str, Any]:
        """Fill a statement's `{names}` (a list of workflow or schedule names; as one array or
        JSON parameter, whatever its length) and `{lock}`."""
        sql = sql.replace(
            "{lock}", "FOR UPDATE SKIP LOCKED" if self.backend == "postgresql" else ""
        )
        if self.backend == "postgresql":
            return sql.replace("{names}", "= ANY(%(names)s)"), list(names)
        return sql.replace("{names}", "IN (SELECT value FROM json_each(:names))"), json.dumps(
            list(names)
        )

    def claim_due(
        self,
        workflow_names: Sequence[str],
        limit: int,
        plan: Callable[[list[ScheduleRecord], int], TickPlan],
    ) -> int:
        """Claim up to `limit` active schedules of these workflows whose next tick has come,
        and in the same transaction write what `plan(rows, now_ms)` makes of them. How many
        were claimed (a full batch: look again at once). Retried whole after a lost connection:
        a repeated commit finds the rows advanced and the ticks' IDs taken."""
        select, names = self._names(self.sql.SELECT_DUE_SCHEDULES, workflow_names)

        def once(_attempt: int) -> tuple[int, set[str]]:
            with self.db.transaction() as cur:
                now = now_ms()
                cur.execute(select, {"now": now, "limit": limit, "names": names})
                rows = [ScheduleRecord.of(r) for r in cur.fetchall()]
                if not rows:
                    return 0, set()
                planned = plan(rows, now)
                if planned.ticks:
                    cur.executemany(self.sql.INSERT_TICK, planned.ticks)
                if planned.advances:
                    cur.executemany(self.sql.ADVANCE_SCHEDULE, planned.advances)
                return len(rows), {str(t["queue_name"]) for t in planned.ticks}

        claimed, queues = self.db.retrying(once)
        for queue in queues:
            self.db.wake((QUEUE, queue, ""))
        return claimed

    def next_tick_due(self, workflow_names: Sequence[str]) -> int | None:
        """Epoch ms of the earliest next tick of an active schedule of these workflows."""
        sql, names = self._names(self.sql.NEXT_TICK_DUE, workflow_names)
        row = self.db.fetchone(sql, {"names": names})
        return None if row is None or row[0] is None else int(row[0])

    def untimed_schedules(self, workflow_names: Sequence[str]) -> list[ScheduleRecord]:
        sql, names = self._names(self.sql.SELECT_UNTIMED_SCHEDULES, workflow_names)
        return [ScheduleRecord.of(r) for r in self.db.fetchall(sql, {"names": names})]

    def set_next_tick(self, schedule_id: str, next_tick_at: int) -> None:
        params = {"schedule_id": schedule_id, "next_tick_at": next_tick_at}
        self.db.execute(self.sql.SET_NEXT_TICK, params)

    def decorator_schedules_of(self, workflow_names: Sequence[str]) -> list[str]:
        """Names of the `@DBOS.scheduled` schedules of these workflows."""
        sql, names = self._names(self.sql.SELECT_DECORATOR_SCHEDULES, workflow_names)
        return [str(r[0]) for r in self.db.fetchall(sql, {"names": names})]

    def delete_decorator_schedule(self, name: str) -> None:
        self.db.execute(self.sql.DELETE_DECORATOR_SCHEDULE, {"schedule_name": name})

    # ------------------------------------------------------------------ ticks

    def insert_ticks(self, ticks: Sequence[Mapping[str, Any]]) -> int:
        """Enqueue tick workflows in one transaction; how many were new (a tick whose ID
        exists already was fired before, by a scheduler, a trigger or another backfill)."""

        def once(_attempt: int) -> int:
            with self.db.transaction() as cur:
                cur.executemany(self.sql.INSERT_TICK, ticks)
                return int(cur.rowcount)

        if not ticks:
            return 0
        inserted = self.db.retrying(once)
        for queue in {str(t["queue_name"]) for t in ticks}:
            self.db.wake((QUEUE, queue, ""))
        return inserted

    # ------------------------------------------------------------------ executors

    def record_workflow_names(self, instance_id: str, workflow_names: Sequence[str]) -> None:
        params = {"instance_id": instance_id, "workflow_names": json.dumps(sorted(workflow_names))}
        self.db.execute(self.sql.SET_EXECUTOR_WORKFLOWS, params)

    def executor_workflow_names(self) -> list[tuple[str, int, list[str] | None]]:
        """(instance ID, heartbeat epoch ms, registered workflow names or None) per process."""
        out = []
        for instance_id, heartbeat_at, names in self.db.fetchall(
            self.sql.SELECT_EXECUTOR_WORKFLOWS, {}
        ):
            out.append((str(instance_id), int(heartbeat_at), json.loads(names) if names else None))
        return out

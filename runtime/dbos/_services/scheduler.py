"""The cron scheduler: one thread per process for every schedule of the system database.

Schedules are rows (`workflow_schedules`), whether created at run time or declared with
`@DBOS.scheduled`, and each row carries the time of its next tick. The scheduler sleeps until
the earliest next tick among the schedules of the workflows this process has registered (or a
polling interval, to see schedules other processes create; one query however many schedules
there are), then claims the due rows in batches: in one transaction it enqueues their ticks'
workflows and moves each row to its following tick. Row locks (PostgreSQL) or the single
writer (SQLite) keep two processes from claiming the same rows, and a tick's deterministic
workflow ID keeps it from running twice even if they did. A schedule created, resumed or
re-declared in this process wakes the scheduler at once.

Ticks that came due while this scheduler ran (or just before it started) all fire, however
late; ticks missed while no scheduler ran fire only for a schedule that catches up
(`automatic_backfill`, `@DBOS.scheduled(catch_up=n)`). See `schedule_ticks.FiringRule`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .. import _clock
from .._core.runtime import Runtime, logger
from .._core.schedule_ticks import DEFAULT_MAX_BACKFILL_TICKS, FiringRule, plan_ticks
from .._core.schedules import DECORATOR, ScheduleDefinition, cron_of, epoch_ms, utcnow
from .._db.records import now_ms
from .._db.schedule_store import ScheduleRecord
from .._registry import registry as _registry
from .._registry import schedules as _schedules
from .._registry.cron import Cron
from .._registry.schedules import ScheduleSpec

CLAIM_BATCH = 200  # schedules claimed per transaction
# A tick due this long before the scheduler started still fires: a peer that was running it
# may have been a little late, and a quick restart should not lose a tick.
LATE_GRACE_MS = 3_000
DEFAULT_POLLING_INTERVAL_SEC = 1.0
_PEER_CLAIM_WAIT_MS = 20  # due rows locked by another process's claim: its commit is near
_RECORD_NAMES_EVERY_SEC = 60.0  # re-recorded in case a takeover forgot this process's row


@dataclass(frozen=True)
class ScheduleSettings:
    """The configuration the schedule API and the scheduler read (`DBOSConfig` keys)."""

    app_name: str | None = None
    polling_interval_sec: float = DEFAULT_POLLING_INTERVAL_SEC  # scheduler_polling_interval_sec
    max_backfill_ticks: int = DEFAULT_MAX_BACKFILL_TICKS  # max_backfill_ticks

    @classmethod
    def from_config(cls, config: Any) -> ScheduleSettings:
        """From a `DBOSConfig` that `validate_config` accepted."""
        poll = config.get("scheduler_polling_interval_sec")
        max_ticks = config.get("max_backfill_ticks")
        return cls(
            app_name=config.get("name"),
            polling_interval_sec=DEFAULT_POLLING_INTERVAL_SEC if poll is None else float(poll),
            max_backfill_ticks=DEFAULT_MAX_BACKFILL_TICKS if max_ticks is None else int(max_ticks),
        )


def registered_workflow_names() -> list[str]:
    return sorted(i.name for i in _registry.all_functions() if i.kind == "workflow")


class Scheduler:
    starts_work = True  # stopped first when destroy() lets running workflows finish
    keeps_durable_timers = True  # the next tick (see `_clock`)

    def __init__(self, runtime: Runtime, settings: ScheduleSettings | None = None) -> None:
        self._runtime = runtime
        self.settings = settings or ScheduleSettings()
        self.started_ms = now_ms()
        self._rule = FiringRule(self.started_ms - LATE_GRACE_MS, self.settings.max_backfill_ticks)
        self._stopped = threading.Event()
        self._wake = _clock.Alarm()
        self._names: list[str] = []
        self._names_recorded_at = 0.0
        self.claims = 0  # claim transactions that found due schedules (tests, benchmarks)
        self._declare(_schedules.all_schedules(), prune=True)
        _schedules.on_declare(self._declared)
        self._thread = threading.Thread(target=self._run, name="dbos-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        _schedules.forget_listener(self._declared)
        self._stopped.set()
        self._wake.set()
        self._thread.join(timeout=5)

    def wake(self) -> None:
        """A schedule of this process changed: look for due ticks now, not at the next poll."""
        self._wake.set()

    # ------------------------------------------------------------------ @DBOS.scheduled

    def _declared(self, spec: ScheduleSpec) -> None:
        """A schedule declared after launch fires from its next tick on."""
        try:
            self._declare([spec], prune=False)
        except Exception as exc:
            logger.error("Schedule %s not recorded: %s", spec.schedule_name, exc)
        self.wake()

    def _declare(self, specs: list[ScheduleSpec], prune: bool) -> None:
        """Record the code's schedules; with `prune`, drop the recorded `@DBOS.scheduled`
        schedules of this process's workflows that its code no longer declares."""
        runtime = self._runtime
        definitions = [
            ScheduleDefinition(
                schedule_name=spec.schedule_name,
                workflow_name=spec.workflow_name,
                workflow_class_name=None,
                cron=Cron.parse(spec.cron),
                cron_timezone=None,
                context=None,
                automatic_backfill=spec.catch_up > 0,
                queue_name=spec.queue_name,
                application_name=self.settings.app_name,
                source=DECORATOR,
                catch_up_limit=spec.catch_up or None,
            )
            for spec in specs
        ]
        if definitions:
            refused = runtime.sysdb.schedules.upsert_schedules(
                [d.row(runtime) for d in definitions]
            )
            for name in refused:
                logger.error(
                    "@DBOS.scheduled %s does not fire: a schedule of that name was created "
                    "with DBOS.create_schedule; delete it or rename one of them",
                    name,
                )
        if prune:
            declared = {spec.schedule_name for spec in specs}
            for name in runtime.sysdb.schedules.decorator_schedules_of(registered_workflow_names()):
                if name not in declared:
                    runtime.sysdb.schedules.delete_decorator_schedule(name)
                    logger.info("Schedule %s is no longer declared: removed", name)

    # ------------------------------------------------------------------ the loop

    def _run(self) -> None:
        poll = self.settings.polling_interval_sec
        while not self._stopped.is_set():
            self._wake.clear()  # before looking: a wake during the look is not lost
            timeout = poll
            due = None
            try:
                names = self._refresh_names()
                due = self._runtime.sysdb.schedules.next_tick_due(
                    names
                )  # idle: this one query a poll
                while due is not None and due <= now_ms() and not self._stopped.is_set():
                    if not self._claim_all(names):
                        break  # due rows another process is claiming: look again shortly
                    due = self._runtime.sysdb.schedules.next_tick_due(names)
                if due is not None:
                    timeout = min(poll, max(due - now_ms() + 1, _PEER_CLAIM_WAIT_MS) / 1000)
            except Exception as exc:
                if self._stopped.is_set():
                    return
                logger.warning("Scheduler: %s", exc)
            until = None if due is None else due / 1000
            _clock.sleep(self._wake, timeout, until=until, owner=self)

    def _claim_all(self, names: list[str]) -> int:
        """Claim batches while they come back full; how many schedules were claimed."""
        total = 0
        while not self._stopped.is_set():
            claimed = self._claim(names)
            total += claimed
            if claimed < CLAIM_BATCH:
                break
        return total

    def _claim(self, names: list[str]) -> int:
        runtime, rule = self._runtime, self._rule
        claimed = runtime.sysdb.schedules.claim_due(
            names, CLAIM_BATCH, lambda rows, now: plan_ticks(runtime, rows, now, rule)
        )
        if claimed:
            self.claims += 1
        return claimed

    def _refresh_names(self) -> list[str]:
        """The workflows this process can run, recorded for the admin tools when they change
        (and once a minute); schedules of a newly registered workflow get their first tick."""
        names = registered_workflow_names()
        changed = names != self._names
        if changed or time.monotonic() - self._names_recorded_at > _RECORD_NAMES_EVERY_SEC:
            self._runtime.sysdb.schedules.record_workflow_names(self._runtime.instance_id, names)
            self._names_recorded_at = time.monotonic()
        if changed:
            self._time_untimed(names)
            self._names = names
        return names

    def _time_untimed(self, names: list[str]) -> None:
        """Rows written without a next tick (an upstream database carried over): from their
        last tick fired, else from now."""
        for record in self._runtime.sysdb.schedules.untimed_schedules(names):
            try:
                self._runtime.sysdb.schedules.set_next_tick(record.schedule_id, _first_tick(record))
            except Exception as exc:
                logger.error("Schedule %s cannot run: %s", record.schedule_name, exc)


def _first_tick(record: ScheduleRecord) -> int:
    cron = cron_of(record)
    if record.last_fired_at:
        return epoch_ms(cron.next_after(datetime.fromisoformat(record.last_fired_at)))
    return epoch_ms(cron.next_after(utcnow()))

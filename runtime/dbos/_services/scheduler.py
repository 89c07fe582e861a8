"""The cron scheduler: one thread for every schedule of the process.

Each tick is one workflow, enqueued on the schedule's queue (the internal one by default) under
the ID `sched-<workflow>-<tick time>`: however many processes run the schedule, one insert wins
and the tick runs once; a crash mid-tick recovers that tick, not a new one. A process costs one
insert attempt per tick; only the winner records the tick as fired. After downtime the next
tick is the next one due from now (a schedule may opt in to catch up on a bounded number of
missed ticks); a scheduler that wakes late (the machine slept) fires only the latest tick due.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any

from .._core.context import EnqueueOptions
from .._core.inputs import encode_inputs
from .._core.runtime import Runtime, logger
from .._core.workflows import QueuedStart, new_workflow_row
from .._registry import registry as _registry
from .._registry import schedules as _schedules
from .._registry.schedules import ScheduleSpec


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def tick_id(name: str, tick: datetime) -> str:
    return f"sched-{name}-{tick.isoformat()}"


class Scheduler:
    starts_work = True  # stopped first when destroy() lets running workflows finish

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._stopped = threading.Event()
        self._specs = _schedules.all_schedules()
        self._next: dict[str, datetime] = {}
        now = utcnow()
        for spec in self._specs:
            runtime.sysdb.record_schedule(spec.name, spec.cron, spec.queue_name)
            self._next[spec.name] = spec.next_after(now)
        for spec in self._specs:
            if spec.catch_up > 0:
                self._catch_up(spec, now)
        self._thread = threading.Thread(target=self._run, name="dbos-scheduler", daemon=True)
        if self._specs:
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def next_fire_times(self) -> dict[str, datetime]:
        return dict(self._next)

    def _catch_up(self, spec: ScheduleSpec, now: datetime) -> None:
        last = self._runtime.sysdb.schedule_last_fired(spec.name)
        if last is None:
            return  # never fired: nothing was missed
        since = datetime.fromtimestamp(last / 1000, timezone.utc)
        missed = spec.ticks_between(since, now, spec.catch_up)
        for tick in missed:
            self._fire(spec, tick)
        if missed:
            logger.info("Schedule %s: caught up on %d missed ticks", spec.name, len(missed))

    def _run(self) -> None:
        while not self._stopped.is_set():
            now = utcnow()
            for spec in self._specs:
                due = self._next[spec.name]
                if due > now:
                    continue
                # Late (the machine slept, the process stalled): the latest due tick only.
                latest = due
                while (later := spec.next_after(latest)) <= now:
                    latest = later
                try:
                    self._fire(spec, latest)
                except Exception as exc:
                    logger.warning("Schedule %s: tick %s not enqueued: %s", spec.name, latest, exc)
                self._next[spec.name] = spec.next_after(latest)
            wake = min(self._next.values())
            self._stopped.wait(max((wake - utcnow()).total_seconds(), 0.001))

    def _fire(self, spec: ScheduleSpec, tick: datetime) -> None:
        """Enqueue the tick's workflow; recorded as fired by whichever process's insert wins."""
        runtime = self._runtime
        info = _registry.get_function(spec.name)
        if info is None:
            return
        args = (tick, utcnow())
        row: dict[str, Any] = new_workflow_row(
            runtime,
            info,
            tick_id(spec.name, tick),
            None,
            encode_inputs(runtime, info, args, {}),
            None,
            None,
            None,
            None,
            None,
            QueuedStart(spec.queue_name, EnqueueOptions()),
        )
        if runtime.sysdb.enqueue_workflow(row):
            runtime.sysdb.tick_fired(spec.name, int(tick.timestamp() * 1000))

"""Workload 9: what do many schedules cost the scheduler? One process, ``n`` schedules created at
run time with ``DBOS.apply_schedules``, measured over a window of ``window`` seconds after
``warmup`` seconds:

* ``idle``: every schedule fires once a year (none comes due): the scheduler's cost of just
  having them;
* ``busy``: every schedule fires once a minute, their seconds spread evenly over the minute:
  ``n / 60`` ticks come due each second.

The ticks go to a queue this process does not serve (``listen_queues``), so what is measured is
the scheduler firing them, not the queue running them. Statements are counted on the database
driver (psycopg cursor calls; SQLite's trace callback, every statement SQLite runs), in total and
on the scheduler's threads; CPU is the process's. Runs unchanged under upstream DBOS (its
scheduler is a thread per schedule plus a loop that lists every schedule).

Metrics: ``sched_stmts_per_s``, ``stmts_per_s``, ``ticks_per_s``, ``sched_stmts_per_tick``,
``cpu_pct``, ``threads``, ``setup_s``.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from typing import Any

from _common import emit, hard_exit, make_config, parse_args

ARGS = parse_args()
N = ARGS.get_int("n", 1000)
SCENARIO = str(ARGS.params.get("scenario", "idle"))
WINDOW = ARGS.get_float("window", 20.0)
WARMUP = ARGS.get_float("warmup", 5.0)
UNSERVED = "bench_sched_unserved"

# ------------------------------------------------------------------ statement counters

_lock = threading.Lock()
_counts = {"all": 0, "scheduler": 0}
_quiet = threading.local()  # the workload's own measuring queries are not counted


def _is_scheduler(name: str) -> bool:
    # ours: "dbos-scheduler"; upstream: "Thread-N (dynamic_scheduler_loop)" and "(_loop)".
    return "scheduler" in name or name.endswith("(_loop)")


def _count(times: int = 1) -> None:
    if getattr(_quiet, "on", False):
        return
    scheduler = _is_scheduler(threading.current_thread().name)
    with _lock:
        _counts["all"] += times
        if scheduler:
            _counts["scheduler"] += times


def _install_counters() -> None:
    try:
        import psycopg
    except ImportError:
        psycopg = None  # type: ignore[assignment]
    if psycopg is not None:
        execute, executemany = psycopg.Cursor.execute, psycopg.Cursor.executemany

        def counted_execute(self: Any, *args: Any, **kwargs: Any) -> Any:
            _count()
            return execute(self, *args, **kwargs)

        def counted_executemany(self: Any, *args: Any, **kwargs: Any) -> Any:
            _count()  # one pipelined batch: one round trip
            return executemany(self, *args, **kwargs)

        psycopg.Cursor.execute = counted_execute  # type: ignore[method-assign]
        psycopg.Cursor.executemany = counted_executemany  # type: ignore[method-assign]
    connect = sqlite3.connect

    def traced_connect(*args: Any, **kwargs: Any) -> Any:
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(lambda _sql: _count())
        return conn

    sqlite3.connect = traced_connect  # type: ignore[assignment]
    sqlite3.dbapi2.connect = traced_connect  # type: ignore[attr-defined]


_install_counters()

from dbos import DBOS, Queue  # noqa: E402  (after the counters are in place)

DBOS(config=make_config(ARGS.db, "bench-schedules"))
unserved = Queue(UNSERVED)
served = Queue("bench_sched_served")


@DBOS.workflow()
def bench_tick(scheduled_at: Any, ctx: Any) -> None:
    pass


def _enqueued_ticks() -> int:
    """Ticks waiting on the unserved queue, read on a connection of our own."""
    _quiet.on = True
    try:
        if ARGS.db.startswith("sqlite"):
            conn = sqlite3.connect(ARGS.db.split("///", 1)[1])
            try:
                row = conn.execute(
                    "SELECT count(*) FROM workflow_status WHERE queue_name = ?", (UNSERVED,)
                ).fetchone()
            finally:
                conn.close()
            return int(row[0])
        import psycopg

        url = ARGS.db.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM dbos.workflow_status WHERE queue_name = %s", (UNSERVED,)
            ).fetchone()
        return int(row[0]) if row else 0
    finally:
        _quiet.on = False


def _cron(i: int) -> str:
    """Busy: once a minute, the seconds spread evenly over the minute (n / 60 ticks a second
    from 60 schedules on); idle: once a year."""
    return f"{i * 60 // N % 60} * * * * *" if SCENARIO == "busy" else "0 0 1 1 *"


def main() -> None:
    DBOS.listen_queues([served])
    DBOS.launch()
    started = time.perf_counter()
    for first in range(0, N, 1000):
        DBOS.apply_schedules(
            [
                {
                    "schedule_name": f"bench-{i:05}",
                    "workflow_fn": bench_tick,
                    "schedule": _cron(i),
                    "queue_name": UNSERVED,
                }
                for i in range(first, min(first + 1000, N))
            ]
        )
    setup_s = time.perf_counter() - started
    time.sleep(WARMUP)
    ticks_before = _enqueued_ticks()
    with _lock:
        before = dict(_counts)
    cpu_before = sum(os.times()[:2])
    t0 = time.perf_counter()
    time.sleep(WINDOW)
    elapsed = time.perf_counter() - t0
    cpu = sum(os.times()[:2]) - cpu_before
    with _lock:
        after = dict(_counts)
    ticks = _enqueued_ticks() - ticks_before
    sched = after["scheduler"] - before["scheduler"]
    emit(
        "w9_schedules",
        ARGS,
        {
            "sched_stmts_per_s": round(sched / elapsed, 2),
            "stmts_per_s": round((after["all"] - before["all"]) / elapsed, 2),
            "ticks_per_s": round(ticks / elapsed, 2),
            "sched_stmts_per_tick": round(sched / ticks, 3) if ticks else None,
            "cpu_pct": round(100 * cpu / elapsed, 1),
            "threads": threading.active_count(),
            "setup_s": round(setup_s, 2),
        },
    )


if __name__ == "__main__":
    main()
    hard_exit(0)

"""What do 10, 1,000 and 10,000 schedules cost the scheduler? Runs workload 9
(`workloads/w9_schedules.py`) for each size, idle (no schedule comes due) and busy (each fires
once a minute, so n/60 ticks a second), on SQLite and PostgreSQL, each run a fresh process on a
fresh database, and prints a table: the scheduler's statements a second (its threads only) and
per tick fired, the whole process's, its CPU and its threads.

The claim to check: the scheduler's cost does not grow with the number of schedules. Idle, it
is one query per polling interval (1 s) however many there are; busy, it grows with the ticks
that come due (each is a workflow to insert), claimed in batches, not with the schedules that
exist. `--upstream PYTHON` runs the same workload under upstream DBOS 2.31.1 too (an
interpreter with `dbos==2.31.1` installed; never this project's venv): a thread per schedule
that checks, inserts and records each of its ticks, plus a loop that reads every schedule once a
second in its first minute (every 30 s after).

Run: ``python benchmarks/schedule_bench.py [--sizes 10,1000,10000] [--backends sqlite,postgres]
[--window 20] [--upstream /path/to/python]``
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from run import WORKLOAD_DIR, PostgresServer, fresh_sqlite, log, run_script

SCRIPT = WORKLOAD_DIR / "w9_schedules.py"
COLUMNS = (
    ("sched_stmts_per_s", "scheduler stmts/s"),
    ("sched_stmts_per_tick", "scheduler stmts/tick"),
    ("ticks_per_s", "ticks/s"),
    ("stmts_per_s", "process stmts/s"),
    ("cpu_pct", "CPU %"),
    ("threads", "threads"),
    ("setup_s", "create (s)"),
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10,1000,10000")
    p.add_argument("--scenarios", default="idle,busy")
    p.add_argument("--backends", default="sqlite,postgres")
    p.add_argument("--window", type=float, default=20.0, help="seconds measured per run")
    p.add_argument("--warmup", type=float, default=5.0, help="seconds after creating them")
    p.add_argument("--upstream", help="a Python with upstream dbos==2.31.1, to compare")
    p.add_argument("--json", help="also write every run's result to this file")
    return p.parse_args(argv)


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    return f"{value:,}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    impls = [("ours", sys.executable)]
    if args.upstream:
        impls.append(("upstream", args.upstream))
    sizes = [int(s) for s in args.sizes.split(",")]
    backends = args.backends.split(",")
    server = PostgresServer() if "postgres" in backends else None
    results: list[dict[str, Any]] = []
    try:
        for backend in backends:
            for scenario in args.scenarios.split(","):
                for n in sizes:
                    for impl, python in impls:
                        params = {
                            "n": n,
                            "scenario": scenario,
                            "window": args.window,
                            "warmup": args.warmup,
                        }
                        log(f"{backend} {scenario} n={n} {impl} ...")
                        if backend == "sqlite":
                            with fresh_sqlite() as url:
                                result = run_script(python, SCRIPT, url, params, 600)
                        else:
                            assert server is not None
                            with server.fresh_database("sched") as url:
                                result = run_script(python, SCRIPT, url, params, 600)
                        result.update(impl=impl, backend=backend, params=params)
                        results.append(result)
                        if result.get("status") != "ok":
                            log(
                                f"  failed: {result.get('error')} {result.get('stderr', '')[-300:]}"
                            )
    finally:
        if server is not None:
            server.stop()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    header = ["backend", "scenario", "schedules", "impl", *(label for _, label in COLUMNS)]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * 4 + "---:|" * len(COLUMNS))
    for r in results:
        metrics = r.get("metrics") or {}
        values = [cell(metrics.get(key)) for key, _ in COLUMNS]
        if r.get("status") != "ok":
            values = [f"failed: {r.get('error')}"] + [""] * (len(COLUMNS) - 1)
        p = r["params"]
        row = [r["backend"], p["scenario"], f"{p['n']:,}", r["impl"], *values]
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

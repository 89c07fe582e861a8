"""Benchmark runner: this project vs upstream DBOS (``dbos==2.31.1``), same run, same machine.

Usage (from the repository root)::

    .venv/bin/python benchmarks/run.py [--quick] [--backend sqlite|postgres|both]
                                       [--workloads 1,2,...] [--rounds N] [--impls ours,upstream]
                                       [--publish]

* Creates ``benchmarks/.upstream-venv`` (git-ignored) with ``dbos==2.31.1`` (and matplotlib, for
  the chart) when it is missing. Upstream is never installed into this project's venv.
* Starts one throwaway PostgreSQL server (``tests/servers/pg_cluster.py``, ``fsync=on``) for
  the run.
* Every workload run gets a fresh system database (SQLite: a new temp file; PostgreSQL: a new
  database, dropped afterwards) and its own process, killed (with its process group) on timeout.
* Rounds alternate the order of the implementations (ours first in even rounds, upstream first in
  odd ones); the raw-database limit (single-row INSERT+COMMIT loop) is measured in every round.
* Prints a markdown table of medians and ratios plus the targets of issue 4 (met / missed),
  writes ``benchmarks/results/bench-<timestamp>.{json,md,png}``; ``--publish`` also copies the
  chart to ``benchmarks/chart.png`` and the table into ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
WORKLOAD_DIR = BENCH_DIR / "workloads"
RESULTS_DIR = BENCH_DIR / "results"
UPSTREAM_VENV = BENCH_DIR / ".upstream-venv"
UPSTREAM_SPEC = "dbos==2.31.1"
UPSTREAM_EXTRA_PACKAGES = ("psycopg[binary]>=3.1", "matplotlib")
README = BENCH_DIR / "README.md"
TABLE_BEGIN = "<!-- bench-table:begin -->"
TABLE_END = "<!-- bench-table:end -->"

PGQUEUER_VENV = BENCH_DIR / ".pgqueuer-venv"
PGQUEUER_SPEC = "pgqueuer==1.6.0"
PGQUEUER_EXTRA_PACKAGES = ("asyncpg",)

# pgqueuer, the job queue users would pick instead, runs only the queue workload (its own
# script, w3_pgqueuer.py) and only on PostgreSQL.
IMPLS = ("ours", "upstream", "pgqueuer")


# --------------------------------------------------------------------------- workloads
@dataclass(frozen=True)
class Workload:
    key: str
    script: str
    title: str
    full: dict[str, Any]
    quick: dict[str, Any]
    timeout_s: float = 300.0
    repeat: dict[str, int] = field(default_factory=lambda: {"full": 1, "quick": 1})
    # Scripts of implementations other than ours and upstream (which share `script`).
    others: dict[str, str] = field(default_factory=dict)

    def script_for(self, impl: str) -> str | None:
        if impl in ("ours", "upstream"):
            return self.script
        return self.others.get(impl)


WORKLOADS: dict[str, Workload] = {
    w.key: w
    for w in (
        Workload(
            "1",
            "w1_sequential.py",
            "sequential workflows (0/3/10 steps)",
            {"n": 100, "warmup": 10},
            {"n": 20, "warmup": 3},
        ),
        Workload(
            "2",
            "w2_concurrent.py",
            "concurrent start_workflow, 3 steps each",
            {"n": 1000, "steps": 3, "warmup": 20},
            {"n": 200, "steps": 3, "warmup": 10},
        ),
        Workload(
            "3",
            "w3_queue.py",
            "queue: enqueue, drain with 10 in flight, idle enqueue-to-start",
            {"n": 2000, "latency_samples": 10, "budget_s": 30},
            {"n": 300, "latency_samples": 3, "budget_s": 10},
            timeout_s=420.0,
            others={"pgqueuer": "w3_pgqueuer.py"},
        ),
        Workload(
            "4",
            "w4_messaging.py",
            "send->recv, set_event->get_event, one and two processes",
            {"samples": 50, "budget_s": 20},
            {"samples": 10, "budget_s": 8},
        ),
        Workload(
            "5",
            "w5_recovery.py",
            "recovery of pending workflows after SIGKILL",
            {"n": 1000, "timeout_s": 150},
            {"n": 200, "timeout_s": 60},
            timeout_s=420.0,
        ),
        Workload(
            "6",
            "w6_startup.py",
            "import + launch, peak RSS (fresh process)",
            {},
            {},
            timeout_s=120.0,
            repeat={"full": 3, "quick": 1},
        ),
        Workload(
            "7",
            "w7_backlog.py",
            "dequeue with a deep backlog (1k/10k/100k queued)",
            {"n": 1000, "sizes": "1000,10000,100000"},
            {"n": 300, "sizes": "300,3000"},
            timeout_s=600.0,
        ),
        Workload(
            "8",
            "w8_fairness.py",
            "partitioned queue: a hot tenant's 10k vs 100 cold tenants, partition cost",
            {},
            {"hot": 2000, "cold_tenants": 20, "cold_each": 5, "many": 200, "flat_n": 2000},
            timeout_s=900.0,
        ),
        Workload(
            "9",
            "w9_schedules.py",
            "10k schedules, one tick a minute each: the scheduler's statements/s and per tick",
            {"n": 10000, "scenario": "busy", "window": 20, "warmup": 5},
            {"n": 1000, "scenario": "busy", "window": 5, "warmup": 2},
            timeout_s=600.0,  # upstream takes minutes to create 10,000 (a thread each)
        ),
        Workload(
            "10",
            "w10_parked.py",
            "10k sync workflows waiting in recv: threads, RSS, new workflow, release; wake-up",
            {"n": 10000, "samples": 30, "budget_s": 600},
            {"n": 1000, "samples": 5, "budget_s": 120},
            timeout_s=1800.0,
        ),
        Workload(
            "11",
            "w10_parked.py",
            "10k sync workflows waiting in DBOS.sleep(3600): threads, RSS, new workflow",
            {"n": 10000, "wait": "sleep", "phase": "many", "budget_s": 600},
            {"n": 1000, "wait": "sleep", "phase": "many", "budget_s": 120},
            timeout_s=1800.0,
        ),
    )
}
RAW = Workload("raw", "raw_db.py", "raw INSERT+COMMIT", {"n": 500, "batches": 5}, {"n": 200})


@dataclass(frozen=True)
class Metric:
    workload: str
    key: str
    label: str
    higher_is_better: bool = False
    raw: str = ""  # "latency": compare with raw ms; "rate": show raw commits/s for context


METRICS: tuple[Metric, ...] = (
    Metric("1", "wf0_ms", "workflow, 0 steps (ms)", raw="latency"),
    Metric("1", "wf3_ms", "workflow, 3 steps (ms)"),
    Metric("1", "wf10_ms", "workflow, 10 steps (ms)"),
    Metric("1", "step_ms", "per step, slope 3->10 (ms)", raw="latency"),
    Metric("2", "wf_per_s", "concurrent workflows/s", higher_is_better=True, raw="rate"),
    Metric(
        "3", "drain_wf_per_s", "drain, 10 in flight, workflows/s", higher_is_better=True, raw="rate"
    ),
    Metric("3", "drain_unbounded_wf_per_s", "drain, no limit, workflows/s", higher_is_better=True),
    Metric("3", "enqueue_per_s", "enqueues/s, one by one", higher_is_better=True),
    Metric("3", "batch_enqueue_per_s", "enqueues/s, one call", higher_is_better=True),
    Metric("3", "idle_latency_ms", "idle enqueue->start, one process (ms)"),
    Metric("3", "xproc_idle_latency_ms", "idle enqueue->start, two processes (ms)"),
    Metric("4", "send_recv_ms", "send->recv, one process, median (ms)"),
    Metric("4", "send_recv_p99_ms", "send->recv, one process, p99 (ms)"),
    Metric("4", "set_get_event_ms", "set_event->get_event, one process, median (ms)"),
    Metric("4", "set_get_event_p99_ms", "set_event->get_event, one process, p99 (ms)"),
    Metric("4", "xproc_send_recv_ms", "send->recv, two processes, median (ms)"),
    Metric("4", "xproc_send_recv_p99_ms", "send->recv, two processes, p99 (ms)"),
    Metric("4", "xproc_set_get_event_ms", "set_event->get_event, two processes, median (ms)"),
    Metric("4", "xproc_set_get_event_p99_ms", "set_event->get_event, two processes, p99 (ms)"),
    Metric("5", "recovery_s", "recover pending workflows (s)"),
    Metric("5", "recovered_wf_per_s", "recovered workflows/s", higher_is_better=True),
    Metric("6", "import_launch_ms", "import + launch (ms)"),
    Metric("6", "import_ms", "import dbos (ms)"),
    Metric("6", "maxrss_mb", "peak RSS (MiB)"),
    Metric("7", "drain_shallow_wf_per_s", "drain, 1k queued, wf/s", higher_is_better=True),
    Metric("7", "drain_deep_wf_per_s", "drain, 100k queued, wf/s", higher_is_better=True),
    Metric("7", "flatness", "rate at 100k / rate at 1k", higher_is_better=True),
    Metric("8", "cold_wait_p50_ms", "cold tenant's wait, partitioned, median (ms)"),
    Metric("8", "cold_wait_p99_ms", "cold tenant's wait, partitioned, p99 (ms)"),
    Metric("8", "plain_cold_wait_p99_ms", "cold tenant's wait, unpartitioned, p99 (ms)"),
    Metric("8", "phase_wf_per_s", "drain, many partitions with work, wf/s", higher_is_better=True),
    Metric("8", "plain_wf_per_s", "drain, same work unpartitioned, wf/s", higher_is_better=True),
    Metric("8", "phase_vs_plain", "partitioned / unpartitioned drain", higher_is_better=True),
    Metric("8", "many_partitions_wf_per_s", "drain over 1,000 partitions, wf/s", True),
    Metric("8", "few_partitions_wf_per_s", "drain over 100 partitions, wf/s", True),
    Metric("8", "partition_flatness", "1,000 partitions / 100 partitions", True),
    Metric("9", "sched_stmts_per_s", "schedules firing: scheduler statements/s"),
    Metric("9", "sched_stmts_per_tick", "schedules firing: scheduler statements per tick"),
    Metric("9", "ticks_per_s", "schedules firing: ticks fired/s", higher_is_better=True),
    Metric("9", "cpu_pct", "schedules firing: process CPU (%)"),
    Metric("10", "wake_ms", "parked recv woken by send, median (ms)"),
    Metric("10", "wake_p99_ms", "parked recv woken by send, p99 (ms)"),
    Metric("10", "short_wake_ms", "short recv (thread held) woken, median (ms)"),
    Metric("10", "short_wake_p99_ms", "short recv (thread held) woken, p99 (ms)"),
    Metric("10", "start_s", "start N waiting in recv (s)"),
    Metric("10", "reached", "of N, reached their recv", higher_is_better=True),
    Metric("10", "threads_max", "threads while N start (most)"),
    Metric("10", "threads", "threads while N wait in recv"),
    Metric("10", "rss_mb", "RSS while N wait in recv (MiB)"),
    Metric("10", "new_wf_ms", "new workflow meanwhile, median (ms)"),
    Metric("10", "release_s", "send N messages until all done (s)"),
    Metric("11", "start_s", "start N waiting in sleep (s)"),
    Metric("11", "threads_max", "threads while N start (most)"),
    Metric("11", "threads", "threads while N sleep"),
    Metric("11", "rss_mb", "RSS while N sleep (MiB)"),
    Metric("11", "new_wf_ms", "new workflow meanwhile, median (ms)"),
)


# --------------------------------------------------------------------------- processes
def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.pop("DBOS_SYSTEM_DATABASE_URL", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_script(
    python: str, script: Path, db_url: str, params: dict[str, Any], timeout_s: float
) -> dict[str, Any]:
    """Run one workload process; return its JSON line, or an ``error`` record.

    The process runs in its own session; on timeout the whole process group is SIGKILLed (so the
    recovery workload's grandchildren go too).
    """
    cmd = [python, str(script), "--db", db_url, "--params", json.dumps(params)]
    load_1m = round(os.getloadavg()[0], 2)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
        cwd=str(REPO),
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return {
            "status": "error",
            "error": f"timeout after {timeout_s:.0f}s",
            "stderr": err[-2000:],
        }
    finally:
        # Whatever happened, nothing of this run may outlive it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    wall_s = time.perf_counter() - t0
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {
            "status": "error",
            "error": f"exit code {proc.returncode}",
            "stderr": err[-2000:],
            "stdout": out[-500:],
        }
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except json.JSONDecodeError as e:
        return {"status": "error", "error": f"bad JSON: {e}", "stdout": out[-500:]}
    result["wall_s"] = round(wall_s, 3)
    result["loadavg_1m"] = load_1m
    return result


def venv_python(venv: Path) -> str:
    return str(venv / "bin" / "python")


def ensure_upstream_venv() -> str:
    """Create ``benchmarks/.upstream-venv`` with upstream DBOS unless it is already there."""
    py = venv_python(UPSTREAM_VENV)
    probe = "import dbos, psycopg, importlib.metadata as m; print(m.version('dbos'))"
    if os.access(py, os.X_OK):
        r = subprocess.run([py, "-c", probe], capture_output=True, text=True, check=False)
        if r.returncode == 0 and r.stdout.strip() == UPSTREAM_SPEC.split("==")[1]:
            return py
    log(f"creating {UPSTREAM_VENV} with {UPSTREAM_SPEC} ...")
    base = shutil.which("python3") or sys.executable
    subprocess.run([base, "-m", "venv", str(UPSTREAM_VENV)], check=True)
    subprocess.run(
        [py, "-m", "pip", "install", "-q", UPSTREAM_SPEC, *UPSTREAM_EXTRA_PACKAGES], check=True
    )
    subprocess.run([py, "-c", probe], check=True, capture_output=True)
    return py


def ensure_pgqueuer_venv() -> str:
    """Create ``benchmarks/.pgqueuer-venv`` with pgqueuer and asyncpg unless it is there."""
    py = venv_python(PGQUEUER_VENV)
    probe = "import pgqueuer, asyncpg; print(pgqueuer.__version__)"
    if os.access(py, os.X_OK):
        r = subprocess.run([py, "-c", probe], capture_output=True, text=True, check=False)
        if r.returncode == 0 and r.stdout.strip() == PGQUEUER_SPEC.split("==")[1]:
            return py
    log(f"creating {PGQUEUER_VENV} with {PGQUEUER_SPEC} ...")
    base = shutil.which("python3") or sys.executable
    subprocess.run([base, "-m", "venv", str(PGQUEUER_VENV)], check=True)
    subprocess.run(
        [py, "-m", "pip", "install", "-q", PGQUEUER_SPEC, *PGQUEUER_EXTRA_PACKAGES], check=True
    )
    subprocess.run([py, "-c", probe], check=True, capture_output=True)
    return py


def ours_importable(python: str) -> tuple[bool, str]:
    r = subprocess.run(
        [python, "-c", "from dbos import DBOS, DBOSConfig"],
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(),
        cwd=str(WORKLOAD_DIR),
    )
    return r.returncode == 0, (r.stderr.strip().splitlines() or [""])[-1]


# --------------------------------------------------------------------------- databases
class PostgresServer:
    """One throwaway server for the whole run (``tests/servers/pg_cluster.py``), fsync on."""

    def __init__(self) -> None:
        sys.path.insert(0, str(REPO / "tests"))
        from servers.pg_cluster import ThrowawayCluster

        self.cluster = ThrowawayCluster(fsync=True)
        self.settings = {
            name: self._scalar(f"SHOW {name}")
            for name in ("server_version", "fsync", "synchronous_commit", "full_page_writes")
        }

    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(self.cluster.conninfo("postgres"), autocommit=True)

    def _scalar(self, sql: str) -> str:
        with self._admin() as conn:
            row = conn.execute(sql).fetchone()
            return str(row[0]) if row else ""

    @contextlib.contextmanager
    def fresh_database(self, tag: str) -> Iterator[str]:
        name = f"bench_{tag}_{uuid.uuid4().hex[:8]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield self.cluster.url_for(name)
        finally:
            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        self.cluster.stop()


@contextlib.contextmanager
def fresh_sqlite() -> Iterator[str]:
    d = tempfile.mkdtemp(prefix="dbos-bench-")
    try:
        yield f"sqlite:///{d}/system.sqlite"
    finally:
        shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------- aggregation
Runs = dict[str, dict[str, dict[str, list[dict[str, Any]]]]]  # backend -> workload -> impl -> runs


def cell(runs: list[dict[str, Any]], key: str) -> tuple[float | None, str]:
    """Median of ``key`` over the successful runs, and a status: ok | n/a | error | missing."""
    values = [
        float(r["metrics"][key])
        for r in runs
        if r.get("status") == "ok" and r.get("metrics", {}).get(key) is not None
    ]
    if values:
        return statistics.median(values), "ok"
    if any(r.get("status") == "n/a" for r in runs):
        return None, "n/a"
    if any(r.get("status") == "error" for r in runs):
        return None, "error"
    return None, "missing"


def fmt(value: float | None, status: str = "ok") -> str:
    if value is None:
        return {"n/a": "n/a (not implemented)", "error": "error", "missing": "—"}.get(status, "—")
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


@dataclass
class Target:
    label: str
    backend: str
    value: float | None
    goal: str
    met: bool | None


def round_values(runs: list[dict[str, Any]], key: str) -> dict[int, float]:
    """Per round, the median of ``key`` over that round's successful runs."""
    by_round: dict[int, list[float]] = {}
    for i, r in enumerate(runs):
        value = r.get("metrics", {}).get(key) if r.get("status") == "ok" else None
        if value is not None:
            by_round.setdefault(int(r.get("round", i)), []).append(float(value))
    return {rnd: statistics.median(vs) for rnd, vs in by_round.items()}


def paired_ratio(
    a_runs: list[dict[str, Any]], a_key: str, b_runs: list[dict[str, Any]], b_key: str
) -> float | None:
    """Median over rounds of a/b, both measured in the same round.

    The machine's load drifts (other jobs share its 2 cores); within a round the two sides saw
    nearly the same load, so per-round ratios are much steadier than a ratio of medians.
    """
    a, b = round_values(a_runs, a_key), round_values(b_runs, b_key)
    ratios = [a[rnd] / b[rnd] for rnd in sorted(a.keys() & b.keys()) if b[rnd] != 0]
    return statistics.median(ratios) if ratios else None


def at_most(limit: float) -> Callable[[float], bool]:
    return lambda v: v <= limit


def at_least(limit: float) -> Callable[[float], bool]:
    return lambda v: v >= limit


def below(limit: float) -> Callable[[float], bool]:
    return lambda v: v < limit


RAW_KEY = "insert_commit_ms"


def evaluate_targets(runs: Runs, raw_runs: dict[str, list[dict[str, Any]]]) -> list[Target]:
    targets: list[Target] = []

    def add(
        label: str, backend: str, value: float | None, goal: str, ok: Callable[[float], bool]
    ) -> None:
        targets.append(Target(label, backend, value, goal, None if value is None else ok(value)))

    for backend in runs:

        def side(workload: str, impl: str, backend: str = backend) -> list[dict[str, Any]]:
            return runs[backend].get(workload, {}).get(impl, [])

        raw = raw_runs.get(backend, [])
        add(
            "per-step cost / raw INSERT+COMMIT",
            backend,
            paired_ratio(side("1", "ours"), "step_ms", raw, RAW_KEY),
            "<= 1.5x",
            at_most(1.5),
        )
        need = 10.0 if backend == "sqlite" else 6.0
        add(
            "per-step cost: upstream / ours",
            backend,
            paired_ratio(side("1", "upstream"), "step_ms", side("1", "ours"), "step_ms"),
            f">= {need:g}x",
            at_least(need),
        )
        if backend == "postgres":
            add(
                "concurrent workflows/s: ours / upstream",
                backend,
                paired_ratio(side("2", "ours"), "wf_per_s", side("2", "upstream"), "wf_per_s"),
                ">= 10x",
                at_least(10.0),
            )
        add(
            "queue drain, 10 in flight: ours / upstream",
            backend,
            paired_ratio(
                side("3", "ours"), "drain_wf_per_s", side("3", "upstream"), "drain_wf_per_s"
            ),
            ">= 10x",
            at_least(10.0),
        )
        if backend == "postgres":
            for key, label in (
                ("drain_wf_per_s", "queue drain, 10 in flight: ours / pgqueuer"),
                ("drain_unbounded_wf_per_s", "queue drain, no limit: ours / pgqueuer"),
            ):
                add(
                    label,
                    backend,
                    paired_ratio(side("3", "ours"), key, side("3", "pgqueuer"), key),
                    ">= 1x",
                    at_least(1.0),
                )
        add(
            "idle enqueue->start in one process, ours (ms)",
            backend,
            cell(side("3", "ours"), "idle_latency_ms")[0],
            "< 2 ms",
            below(2.0),
        )
        if backend == "postgres":
            add(
                "idle enqueue->start across processes, ours (ms)",
                backend,
                cell(side("3", "ours"), "xproc_idle_latency_ms")[0],
                "< 5 ms",
                below(5.0),
            )
        if backend == "postgres":
            add(
                "dequeue at 100k queued / at 1k, ours",
                backend,
                cell(side("7", "ours"), "flatness")[0],
                ">= 0.8",
                at_least(0.8),
            )
        add(
            "cold tenant's p99 wait behind a hot backlog, ours (ms)",
            backend,
            cell(side("8", "ours"), "cold_wait_p99_ms")[0],
            "< 2,000 ms",
            below(2000.0),
        )
        add(
            "partitioned drain (many partitions) / unpartitioned, ours",
            backend,
            cell(side("8", "ours"), "phase_vs_plain")[0],
            ">= 0.9",
            at_least(0.9),
        )
        add(
            "drain over 1,000 partitions / over 100, ours",
            backend,
            cell(side("8", "ours"), "partition_flatness")[0],
            ">= 0.8",
            at_least(0.8),
        )
        if backend == "postgres":
            add(
                "batch enqueue: ours / pgqueuer",
                backend,
                paired_ratio(
                    side("3", "ours"),
                    "batch_enqueue_per_s",
                    side("3", "pgqueuer"),
                    "batch_enqueue_per_s",
                ),
                ">= 1x",
                at_least(1.0),
            )
        add(
            "batch enqueue, ours (workflows/s)",
            backend,
            cell(side("3", "ours"), "batch_enqueue_per_s")[0],
            ">= 10,000/s",
            at_least(10_000.0),
        )
        for key, label in (
            ("send_recv_ms", "send->recv in one process, ours (ms)"),
            ("set_get_event_ms", "set_event->get_event in one process, ours (ms)"),
        ):
            add(label, backend, cell(side("4", "ours"), key)[0], "< 2 ms", below(2.0))
        add(
            "send->recv in one process, ours, p99 (ms)",
            backend,
            cell(side("4", "ours"), "send_recv_p99_ms")[0],
            "< 10 ms",
            below(10.0),
        )
        cross = 5.0 if backend == "postgres" else 50.0
        add(
            "send->recv across processes, ours (ms)",
            backend,
            cell(side("4", "ours"), "xproc_send_recv_ms")[0],
            f"< {cross:g} ms",
            below(cross),
        )
        add(
            "send->recv: upstream / ours",
            backend,
            paired_ratio(side("4", "upstream"), "send_recv_ms", side("4", "ours"), "send_recv_ms"),
            "(report)",
            at_least(1.0),
        )
        add(
            "import + launch: ours / upstream",
            backend,
            paired_ratio(
                side("6", "ours"), "import_launch_ms", side("6", "upstream"), "import_launch_ms"
            ),
            "<= 0.5x",
            at_most(0.5),
        )
    return targets


def render_tables(
    runs: Runs, raw_runs: dict[str, list[dict[str, Any]]], targets: list[Target]
) -> str:
    lines = [
        "| workload | backend | metric | ours (median) | upstream (median) "
        "| ours/upstream | pgqueuer (median) | ours/pgqueuer | raw-DB limit | ours/raw |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for backend in runs:
        raw = raw_runs.get(backend, [])
        raw_ms = cell(raw, RAW_KEY)[0]
        for metric in METRICS:
            if metric.workload not in runs[backend]:
                continue
            per_impl = runs[backend][metric.workload]
            ours_runs, up_runs = per_impl.get("ours", []), per_impl.get("upstream", [])
            ours, ours_status = cell(ours_runs, metric.key)
            up, up_status = cell(up_runs, metric.key)
            raw_cell, ours_raw = "", ""
            if metric.raw == "latency" and raw_ms is not None:
                raw_cell = f"{fmt(raw_ms)} ms"
                r = paired_ratio(ours_runs, metric.key, raw, RAW_KEY)
                ours_raw = f"{r:.2f}x" if r is not None else "—"
            elif metric.raw == "rate" and raw_ms:
                raw_cell = f"{fmt(1000.0 / raw_ms)} commits/s"
            r = paired_ratio(ours_runs, metric.key, up_runs, metric.key)
            better = "" if r is None else (" ▲" if (r > 1) == metric.higher_is_better else " ▼")
            pq_runs = per_impl.get("pgqueuer", [])
            pq, pq_status = cell(pq_runs, metric.key)
            rq = paired_ratio(ours_runs, metric.key, pq_runs, metric.key) if pq_runs else None
            better_q = "" if rq is None else (" ▲" if (rq > 1) == metric.higher_is_better else " ▼")
            pq_cell = fmt(pq, pq_status) if pq_runs else ""
            lines.append(
                f"| {metric.workload}. {WORKLOADS[metric.workload].title} | {backend} "
                f"| {metric.label} | {fmt(ours, ours_status)} | {fmt(up, up_status)} "
                f"| {'—' if r is None else f'{r:.2f}x'}{better} | {pq_cell} "
                f"| {'' if rq is None else f'{rq:.2f}x'}{better_q} | {raw_cell} | {ours_raw} |"
            )
    lines += ["", "| target | backend | measured | goal | result |", "|---|---|---:|---|---|"]
    for t in targets:
        measured = "—" if t.value is None else f"{t.value:.2f}"
        result = {True: "met", False: "**missed**", None: "n/a"}[t.met]
        lines.append(f"| {t.label} | {t.backend} | {measured} | {t.goal} | {result} |")
    lines += [
        "",
        "Medians over rounds; ratios (ours/upstream, ours/raw, targets) are medians of per-round "
        "ratios, both sides measured in the same round. ▲/▼: ours better/worse than upstream. "
        "raw-DB limit: one autocommitted single-row INSERT (SQLite WAL + synchronous=FULL; "
        "PostgreSQL fsync=on), measured in the same run.",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Benchmark this project against upstream DBOS.")
    p.add_argument("--quick", action="store_true", help="smoke run: fewer rounds, smaller N")
    p.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument("--workloads", default="1,2,3,4,5,6,7", help="comma-separated, e.g. 1,2,6")
    p.add_argument("--rounds", type=int, default=None, help="default: 3 (quick: 2)")
    p.add_argument(
        "--impls", default="ours,upstream,pgqueuer", help="comma-separated subset to run"
    )
    p.add_argument(
        "--publish", action="store_true", help="copy chart + table into benchmarks/README.md"
    )
    p.add_argument(
        "--from-json",
        type=Path,
        default=None,
        help="re-render tables/chart from a results JSON instead of running anything",
    )
    args = p.parse_args(argv)
    args.workload_keys = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in args.workload_keys if w not in WORKLOADS]
    if unknown:
        p.error(f"unknown workloads: {unknown}; choose from {sorted(WORKLOADS)}")
    args.impl_list = [i.strip() for i in args.impls.split(",") if i.strip()]
    if not set(args.impl_list) <= set(IMPLS):
        p.error(f"--impls must be a subset of {IMPLS}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_json is not None:
        saved = json.loads(args.from_json.read_text())
        report(saved["meta"], saved["runs"], saved["raw_runs"], publish_readme=args.publish)
        return 0
    mode = "quick" if args.quick else "full"
    rounds = args.rounds or (2 if args.quick else 3)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    started = time.time()

    pythons: dict[str, str] = {}
    skipped: dict[str, str] = {}
    if "ours" in args.impl_list:
        ok, why = ours_importable(sys.executable)
        if ok:
            pythons["ours"] = sys.executable
        else:
            skipped["ours"] = f"not importable: {why}"
            log(f"ours: {skipped['ours']} (reported as error)")
    if "upstream" in args.impl_list:
        pythons["upstream"] = ensure_upstream_venv()
    if "pgqueuer" in args.impl_list and "postgres" in backends and "3" in args.workload_keys:
        pythons["pgqueuer"] = ensure_pgqueuer_venv()

    pg: PostgresServer | None = None
    runs: Runs = {
        b: {w: {i: [] for i in args.impl_list} for w in args.workload_keys} for b in backends
    }
    raw_runs: dict[str, list[dict[str, Any]]] = {b: [] for b in backends}
    try:
        if "postgres" in backends:
            pg = PostgresServer()
            log(f"postgres: {pg.cluster.url} {pg.settings}")
        for backend in backends:

            def fresh_db(
                tag: str, backend: str = backend
            ) -> contextlib.AbstractContextManager[str]:
                if backend == "sqlite":
                    return fresh_sqlite()
                assert pg is not None
                return pg.fresh_database(tag)

            for rnd in range(rounds):
                with fresh_db("raw") as url:
                    r = run_script(
                        sys.executable, WORKLOAD_DIR / RAW.script, url, getattr(RAW, mode), 120
                    )
                r["round"] = rnd
                raw_runs[backend].append(r)
                log(f"[{backend} r{rnd + 1}/{rounds}] raw: {r.get('metrics', r.get('error'))}")
                order = list(args.impl_list) if rnd % 2 == 0 else list(reversed(args.impl_list))
                for key in args.workload_keys:
                    w = WORKLOADS[key]
                    for impl in order:
                        script = w.script_for(impl)
                        if script is None or impl not in pythons and impl not in skipped:
                            continue  # this implementation has no such workload
                        if impl == "pgqueuer" and backend != "postgres":
                            continue
                        for _ in range(w.repeat[mode]):
                            if impl in skipped:
                                r = {"status": "error", "error": skipped[impl]}
                            else:
                                with fresh_db(f"w{key}_{impl}") as url:
                                    r = run_script(
                                        pythons[impl],
                                        WORKLOAD_DIR / script,
                                        url,
                                        getattr(w, mode),
                                        w.timeout_s,
                                    )
                            r.setdefault("impl", impl)
                            r["round"] = rnd
                            runs[backend][key][impl].append(r)
                            shown = r.get("metrics") if r.get("status") != "error" else r
                            log(f"[{backend} r{rnd + 1}/{rounds}] w{key} {impl}: {shown}")
    finally:
        if pg is not None:
            pg.stop()

    meta: dict[str, Any] = {
        "mode": mode,
        "rounds": rounds,
        "backends": backends,
        "workloads": args.workload_keys,
        "impls": args.impl_list,
        "elapsed_s": round(time.time() - started, 1),
        "cpus": os.cpu_count(),
        "postgres": pg.settings if pg else None,
        "upstream": UPSTREAM_SPEC,
        "started": dt.datetime.fromtimestamp(started).isoformat(timespec="seconds"),
        "skipped": skipped,
    }
    report(meta, runs, raw_runs, publish_readme=args.publish)
    return 0


def report(
    meta: dict[str, Any],
    runs: Runs,
    raw_runs: dict[str, list[dict[str, Any]]],
    *,
    publish_readme: bool,
    write_files: bool = True,
) -> str:
    """Print the tables; write ``results/bench-<time>.{json,md,png}``; optionally publish."""
    targets = evaluate_targets(runs, raw_runs)
    table = render_tables(runs, raw_runs, targets)
    loads = [
        r["loadavg_1m"]
        for b in runs
        for w in runs[b].values()
        for rs in w.values()
        for r in rs
        if "loadavg_1m" in r
    ]
    header = (
        f"mode={meta['mode']} rounds={meta['rounds']} backends={','.join(meta['backends'])} "
        f"elapsed={meta['elapsed_s']:.0f}s cpus={meta['cpus']} "
        f"load(1m, median at run starts)={statistics.median(loads) if loads else float('nan'):.1f} "
        f"postgres={meta['postgres'] or 'n/a'}"
    )
    print(header)
    print()
    print(table)
    if not write_files:
        return table

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_json = RESULTS_DIR / f"bench-{stamp}.json"
    impls = meta["impls"]
    payload = {
        "meta": meta,
        "raw_insert_commit_ms": {b: cell(raw_runs[b], RAW_KEY)[0] for b in raw_runs},
        "medians": {
            b: {
                m.key: {impl: cell(runs[b][m.workload].get(impl, []), m.key)[0] for impl in impls}
                for m in METRICS
                if m.workload in runs[b]
            }
            for b in runs
        },
        "paired_ratios_ours_over_upstream": {
            b: {
                m.key: paired_ratio(
                    runs[b][m.workload].get("ours", []),
                    m.key,
                    runs[b][m.workload].get("upstream", []),
                    m.key,
                )
                for m in METRICS
                if m.workload in runs[b]
            }
            for b in runs
        },
        "metrics": [m.__dict__ for m in METRICS],
        "targets": [t.__dict__ for t in targets],
        "runs": runs,
        "raw_runs": raw_runs,
    }
    out_json.write_text(json.dumps(payload, indent=1))
    (RESULTS_DIR / f"bench-{stamp}.md").write_text(header + "\n\n" + table + "\n")
    log(f"results: {out_json}")
    chart = draw_chart(out_json, RESULTS_DIR / f"bench-{stamp}.png")
    if publish_readme:
        publish(table, header, chart)
    return table


def draw_chart(results_json: Path, png: Path) -> Path | None:
    """Draw the chart with matplotlib from whichever interpreter has it (the upstream venv has it;
    this project's venv normally does not)."""
    candidates = [venv_python(UPSTREAM_VENV), sys.executable]
    for py in candidates:
        if not os.access(py, os.X_OK):
            continue
        r = subprocess.run(
            [py, str(BENCH_DIR / "chart.py"), str(results_json), str(png)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if r.returncode == 0:
            log(f"chart: {png}")
            return png
    log("chart: skipped (matplotlib not available)")
    return None


def publish(table: str, header: str, chart: Path | None) -> None:
    if chart is not None:
        shutil.copyfile(chart, BENCH_DIR / "chart.png")
    text = README.read_text()
    if TABLE_BEGIN in text and TABLE_END in text:
        before, rest = text.split(TABLE_BEGIN, 1)
        _, after = rest.split(TABLE_END, 1)
        block = f"{TABLE_BEGIN}\n`{header}`\n\n{table}\n{TABLE_END}"
        README.write_text(before + block + after)
        log(f"published table into {README}")


if __name__ == "__main__":
    sys.exit(main())

"""Workload 3 for pgqueuer (PostgreSQL only): the job queue users would pick instead, measured the
way `w3_queue.py` measures a durable queue, so the harness prints the ratios.

Runs under `benchmarks/.pgqueuer-venv` (pgqueuer + asyncpg). The same metrics as w3:
``enqueue_per_s`` (one by one), ``batch_enqueue_per_s`` (one call), ``drain_wf_per_s`` (a
worker with 10 jobs in flight drains N queued jobs), ``drain_unbounded_wf_per_s`` (no limit),
``xproc_idle_latency_ms`` (enqueued here, started by an idle worker process). pgqueuer keeps no
durable status or result of a job; it is here as the speed to match.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

from _common import emit, emit_not_available, hard_exit, parse_args

WORKLOAD = "w3_queue"
ARGS = parse_args()
N = ARGS.get_int("n", 2000)


def dsn() -> str:
    return ARGS.db.replace("postgresql+psycopg://", "postgresql://")


async def connect() -> Any:
    import asyncpg

    return await asyncpg.connect(dsn())


async def queries() -> Any:
    from pgqueuer.db import AsyncpgDriver
    from pgqueuer.queries import Queries

    return Queries(AsyncpgDriver(await connect()))


async def drain(limit: int) -> float:
    """Run a worker until N jobs ran; seconds from its start."""
    from pgqueuer import QueueManager
    from pgqueuer.types import QueueExecutionMode

    qm = QueueManager(await queries())
    done = 0

    @qm.entrypoint("job", concurrency_limit=limit)
    async def job(_job: Any) -> None:
        nonlocal done
        done += 1

    t0 = time.perf_counter()
    await qm.run(mode=QueueExecutionMode.drain, dequeue_timeout=timedelta(seconds=1))
    took = time.perf_counter() - t0
    if done < N:
        raise RuntimeError(f"drained {done} of {N}")
    return took


async def serve_latency() -> None:
    """Worker process: print when each latency job starts, until killed."""
    from pgqueuer import QueueManager

    qm = QueueManager(await queries())

    @qm.entrypoint("latency")
    async def latency(job: Any) -> None:
        print(json.dumps({"i": int(job.payload), "started": time.perf_counter()}), flush=True)

    print("ready", flush=True)
    await qm.run()


async def measure() -> dict[str, Any]:
    q = await queries()
    await q.install()
    t0 = time.perf_counter()
    for i in range(N):
        await q.enqueue("job", str(i).encode())
    enqueue_s = time.perf_counter() - t0
    drain_s = await drain(10)

    t0 = time.perf_counter()
    await q.enqueue(["job"] * N, [str(i).encode() for i in range(N)], [0] * N)
    batch_s = time.perf_counter() - t0
    unbounded_s = await drain(0)

    worker = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--db", ARGS.db, "--mode", "worker"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        if worker.stdout.readline().strip() != "ready":
            raise RuntimeError("latency worker did not start")
        await asyncio.sleep(0.5)
        latencies = []
        for i in range(ARGS.get_int("latency_samples", 10)):
            await asyncio.sleep(ARGS.get_float("idle_gap_s", 0.2))
            t_enqueue = time.perf_counter()
            await q.enqueue("latency", str(i).encode())
            started = json.loads(worker.stdout.readline())["started"]
            latencies.append(started - t_enqueue)
    finally:
        worker.kill()
    return {
        "enqueue_per_s": round(N / enqueue_s, 1),
        "batch_enqueue_per_s": round(N / batch_s, 1),
        "drain_wf_per_s": round(N / drain_s, 1),
        "drain_unbounded_wf_per_s": round(N / unbounded_s, 1),
        "idle_latency_ms": None,
        "xproc_idle_latency_ms": round(statistics.median(latencies) * 1000, 4),
    }


def main() -> None:
    if ARGS.mode == "worker":
        asyncio.run(serve_latency())
        return
    if not ARGS.db.startswith("postgresql"):
        emit_not_available(WORKLOAD, ARGS, "pgqueuer runs on PostgreSQL only", ())
        hard_exit(0)
        return
    metrics = asyncio.run(measure())
    out = {"impl_override": "pgqueuer"}
    emit(WORKLOAD, ARGS, metrics, notes=["pgqueuer 1.6, asyncpg"], extra=out)
    hard_exit(0)


if __name__ == "__main__":
    main()

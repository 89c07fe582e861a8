"""Workload 3: a durable queue, measured the way job queues are.

* ``enqueue_per_s``: N (default 2,000) trivial workflows enqueued one by one, nobody draining
  (this process takes no work: ``DBOS.listen_queues([])``).
* ``batch_enqueue_per_s``: the same number in one call, where the implementation has one
  (this project: ``DBOSClient.enqueue_many``); otherwise not reported.
* ``drain_wf_per_s``: a worker process (this script, ``--mode worker``) drains the N queued
  workflows of a queue with ``worker_concurrency=10``; from its launch to the last completion,
  as counted in the workflow bodies (or to ``budget_s``, default 30 s, for an implementation
  that polls once a second: the rate so far). ``drain_unbounded_wf_per_s``: with no limit.
* ``idle_latency_ms``: enqueue -> body start of one workflow on an idle queue, enqueued and run
  in one process (median of ``latency_samples``). ``xproc_idle_latency_ms``: enqueued here,
  run by the idle worker process. Times are ``time.perf_counter()`` (CLOCK_MONOTONIC: one
  clock for every process on the machine).

Implementations without queues report ``status: "n/a"``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

from _common import emit, emit_not_available, hard_exit, make_config, median_ms, parse_args

from dbos import DBOS

WORKLOAD = "w3_queue"
METRIC_KEYS = (
    "enqueue_per_s",
    "batch_enqueue_per_s",
    "drain_wf_per_s",
    "drain_unbounded_wf_per_s",
    "idle_latency_ms",
    "xproc_idle_latency_ms",
)

ARGS = parse_args()
_config = make_config(ARGS.db, "bench-queue")
if ARGS.mode == "worker":
    _config["executor_id"] = "bench-worker-" + ARGS.params.get("tag", "0")
DBOS(config=_config)

N = ARGS.get_int("n", 2000)
DONE = 0
DONE_LOCK = threading.Lock()
ALL_DONE = threading.Event()
STARTED_AT: dict[int, float] = {}


@DBOS.workflow()
def drain_job(i: int) -> int:
    # Benchmark instrumentation, not workflow logic: count completions in this process.
    global DONE
    with DONE_LOCK:
        DONE += 1  # dbos: ignore[DBOS402] benchmark instrumentation
        if DONE == N:
            ALL_DONE.set()
    return i


@DBOS.workflow()
def latency_job(i: int) -> float:
    started = time.perf_counter()  # dbos: ignore[DBOS102] benchmark timing
    STARTED_AT.setdefault(i, started)  # dbos: ignore[DBOS402] benchmark instrumentation
    return started


def make_queues() -> dict[str, Any]:
    from dbos import Queue  # type: ignore[attr-defined, unused-ignore]

    return {
        "bounded": Queue("bench_bounded", worker_concurrency=10),
        "unbounded": Queue("bench_unbounded"),
        "latency": Queue("bench_latency"),
    }


def run_worker(queues: dict[str, Any]) -> None:
    """Worker process: drain the given queue, say how fast, then serve latency jobs."""
    name = ARGS.params["queue"]
    DBOS.listen_queues([queues[name], queues["latency"]])  # type: ignore[attr-defined, unused-ignore]
    DBOS.launch()
    t0 = time.perf_counter()
    ALL_DONE.wait(ARGS.get_float("budget_s", 30.0))  # a slow implementation: rate so far
    took = time.perf_counter() - t0
    with DONE_LOCK:
        done = DONE
    print(json.dumps({"done": done, "drain_s": took}), flush=True)
    sys.stdin.read()  # serve latency jobs until the parent kills us or closes our stdin
    hard_exit(0)


def spawn_worker(queue: str, tag: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            os.path.abspath(__file__),
            "--db",
            ARGS.db,
            "--mode",
            "worker",
            "--params",
            json.dumps(
                {"queue": queue, "n": N, "tag": tag, "budget_s": ARGS.get_float("budget_s", 30)}
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def batch_enqueue(count: int) -> float | None:
    """Seconds to enqueue `count` workflows in one call, or None where there is no such call."""
    try:
        from dbos import DBOSClient  # type: ignore[attr-defined, unused-ignore]
    except ImportError:
        return None
    client = DBOSClient(system_database_url=ARGS.db)
    try:
        if not hasattr(client, "enqueue_many"):
            return None
        options = {"workflow_name": "drain_job", "queue_name": "bench_unbounded"}
        t0 = time.perf_counter()
        client.enqueue_many(options, [(i,) for i in range(count)])
        return time.perf_counter() - t0
    finally:
        client.destroy()


def measure(queues: dict[str, Any]) -> dict[str, Any]:
    samples = ARGS.get_int("latency_samples", 10)
    gap_s = ARGS.get_float("idle_gap_s", 0.2)
    DBOS.listen_queues([queues["latency"]])  # type: ignore[attr-defined, unused-ignore]
    DBOS.launch()

    # In one process: enqueue -> start on an idle queue.
    assert queues["latency"].enqueue(latency_job, -1).get_result() is not None  # warm-up
    local: list[float] = []
    for i in range(samples):
        time.sleep(gap_s)
        t_enqueue = time.perf_counter()
        queues["latency"].enqueue(latency_job, i).get_result()
        local.append(STARTED_AT[i] - t_enqueue)
    DBOS.destroy()

    # Enqueue only (this process serves just the latency queue), then a worker drains.
    DBOS(config=_config)
    DBOS.listen_queues([])  # type: ignore[attr-defined, unused-ignore]
    DBOS.launch()
    t0 = time.perf_counter()
    for i in range(N):
        queues["bounded"].enqueue(drain_job, i)
    enqueue_s = time.perf_counter() - t0
    worker = spawn_worker("bounded", "a")
    assert worker.stdout is not None
    drained = json.loads(worker.stdout.readline())

    # Across processes: enqueued here, run by the (now idle) worker.
    remote: list[float] = []
    for i in range(samples):
        time.sleep(gap_s)
        t_enqueue = time.perf_counter()
        started = queues["latency"].enqueue(latency_job, 1000 + i).get_result()
        remote.append(float(started) - t_enqueue)
    worker.kill()

    batch_s = batch_enqueue(N)
    if batch_s is None:
        for i in range(N):
            queues["unbounded"].enqueue(drain_job, i)
    unbounded = spawn_worker("unbounded", "b")
    assert unbounded.stdout is not None
    unbounded_drained = json.loads(unbounded.stdout.readline())
    unbounded.kill()
    return {
        "enqueue_per_s": round(N / enqueue_s, 1),
        "batch_enqueue_per_s": None if batch_s is None else round(N / batch_s, 1),
        "drain_wf_per_s": round(drained["done"] / drained["drain_s"], 1),
        "drain_unbounded_wf_per_s": round(
            unbounded_drained["done"] / unbounded_drained["drain_s"], 1
        ),
        "idle_latency_ms": median_ms(local),
        "xproc_idle_latency_ms": median_ms(remote),
    }


def main() -> None:
    try:
        queues = make_queues()
        if ARGS.mode == "worker":
            run_worker(queues)
            return
        if not hasattr(DBOS, "listen_queues"):
            raise NotImplementedError("DBOS.listen_queues")
        metrics = measure(queues)
    except (ImportError, NotImplementedError) as e:
        emit_not_available(WORKLOAD, ARGS, f"{type(e).__name__}: {e}", METRIC_KEYS)
        hard_exit(0)
        return
    emit(WORKLOAD, ARGS, metrics, notes=["queue polling interval: implementation default"])
    hard_exit(0)


if __name__ == "__main__":
    main()

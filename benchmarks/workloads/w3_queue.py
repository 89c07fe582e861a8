"""Workload 3: a queue draining N trivial workflows (default 2,000), then the enqueue-to-start
latency of a workflow enqueued on an idle queue.

Metrics: ``drain_wf_per_s`` (N / time from the first enqueue to the last result),
``enqueue_per_s`` (N / time spent in ``Queue.enqueue``), ``idle_latency_ms`` (median, over
``latency_samples`` runs, of the time from calling ``enqueue`` to the workflow body starting, in
the same process).

Implementations without ``Queue`` (an ``ImportError``/``NotImplementedError`` anywhere) report
``status: "n/a"`` instead of failing.

Params: ``n`` (default 2000), ``latency_samples`` (default 10), ``idle_gap_s`` (default 0.2, the
pause before each latency sample so that the queue is idle).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from _common import emit, emit_not_available, hard_exit, make_config, median_ms, parse_args

from dbos import DBOS

WORKLOAD = "w3_queue"
METRIC_KEYS = ("drain_wf_per_s", "enqueue_per_s", "idle_latency_ms")

ARGS = parse_args()
DBOS(config=make_config(ARGS.db, "bench-queue"))

STARTED_AT: dict[int, float] = {}
STARTED_LOCK = threading.Lock()


@DBOS.workflow()
def trivial_workflow(i: int) -> int:
    return i


@DBOS.workflow()
def latency_workflow(i: int) -> int:
    # Benchmark instrumentation, not workflow logic: when did the body start running?
    with STARTED_LOCK:
        STARTED_AT.setdefault(i, time.perf_counter())  # dbos: ignore[DBOS112] timing
    return i


def make_queue() -> Any:
    from dbos import Queue  # type: ignore[attr-defined, unused-ignore]

    return Queue("bench_queue")


def measure(queue: Any) -> dict[str, Any]:
    n = ARGS.get_int("n", 2000)
    samples = ARGS.get_int("latency_samples", 10)
    idle_gap_s = ARGS.get_float("idle_gap_s", 0.2)

    # Warm-up: one round trip through the queue.
    assert queue.enqueue(trivial_workflow, -1).get_result() == -1

    t0 = time.perf_counter()
    handles = [queue.enqueue(trivial_workflow, i) for i in range(n)]
    t_enqueued = time.perf_counter()
    for i, handle in enumerate(handles):
        assert handle.get_result() == i
    t_done = time.perf_counter()

    latencies: list[float] = []
    for i in range(samples):
        time.sleep(idle_gap_s)
        t_enqueue = time.perf_counter()
        handle = queue.enqueue(latency_workflow, i)
        assert handle.get_result() == i
        latencies.append(STARTED_AT[i] - t_enqueue)
    return {
        "drain_wf_per_s": round(n / (t_done - t0), 2),
        "enqueue_per_s": round(n / (t_enqueued - t0), 2),
        "idle_latency_ms": median_ms(latencies),
        "drain_total_s": round(t_done - t0, 3),
    }


def main() -> None:
    try:
        queue = make_queue()
        DBOS.launch()
        metrics = measure(queue)
    except (ImportError, NotImplementedError) as e:
        emit_not_available(WORKLOAD, ARGS, f"{type(e).__name__}: {e}", METRIC_KEYS)
        hard_exit(0)
        return
    emit(WORKLOAD, ARGS, metrics, notes=["queue polling interval: implementation default"])
    hard_exit(0)


if __name__ == "__main__":
    main()

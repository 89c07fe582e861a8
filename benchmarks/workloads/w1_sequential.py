"""Workload 1: sequential workflows with 0, 3 and 10 steps.

Metrics (ms): ``wf0_ms``, ``wf3_ms``, ``wf10_ms`` (mean latency of one workflow run inline, one
after another) and ``step_ms`` = (wf10 - wf3) / 7, the marginal cost of one step.

Params: ``n`` workflows per size (default 100), ``warmup`` per size (default 10).
"""

from __future__ import annotations

import time

from _common import emit, hard_exit, make_config, parse_args

from dbos import DBOS

ARGS = parse_args()
DBOS(config=make_config(ARGS.db, "bench-sequential"))

SIZES = (0, 3, 10)


@DBOS.step()
def bench_step(x: int) -> int:
    return x + 1


@DBOS.workflow()
def bench_workflow(n_steps: int) -> int:
    acc = 0
    for _ in range(n_steps):
        acc = bench_step(acc)
    return acc


def main() -> None:
    n = ARGS.get_int("n", 100)
    warmup = ARGS.get_int("warmup", 10)
    t_launch = time.perf_counter()
    DBOS.launch()
    launch_s = time.perf_counter() - t_launch
    for size in SIZES:
        for _ in range(warmup):
            assert bench_workflow(size) == size
    totals = dict.fromkeys(SIZES, 0.0)
    # Interleave the sizes so that slow drift of the machine affects all of them alike.
    for _ in range(n):
        for size in SIZES:
            t0 = time.perf_counter()
            result = bench_workflow(size)
            totals[size] += time.perf_counter() - t0
            assert result == size
    mean_ms = {size: totals[size] / n * 1000.0 for size in SIZES}
    metrics = {
        "wf0_ms": round(mean_ms[0], 4),
        "wf3_ms": round(mean_ms[3], 4),
        "wf10_ms": round(mean_ms[10], 4),
        "step_ms": round((mean_ms[10] - mean_ms[3]) / 7.0, 4),
        "launch_ms": round(launch_s * 1000.0, 2),
    }
    emit("w1_sequential", ARGS, metrics)
    hard_exit(0)


if __name__ == "__main__":
    main()

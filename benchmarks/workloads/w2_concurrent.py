"""Workload 2: N workflows (default 1,000) started at once with ``DBOS.start_workflow``, 3 steps
each; the caller then waits for every result.

Metrics: ``wf_per_s`` (N / time from the first start to the last result), ``start_per_s``
(N / time spent in the ``start_workflow`` calls), ``total_s``.

Params: ``n`` (default 1000), ``steps`` (default 3), ``warmup`` (default 20).
"""

from __future__ import annotations

import time

from _common import emit, hard_exit, make_config, parse_args

from dbos import DBOS

ARGS = parse_args()
DBOS(config=make_config(ARGS.db, "bench-concurrent"))


@DBOS.step()
def bench_step(x: int) -> int:
    return x + 1


@DBOS.workflow()
def bench_workflow(n_steps: int) -> int:
    acc = 0
    for _ in range(n_steps):
        acc = bench_step(acc)
    return acc


def run_batch(n: int, steps: int) -> tuple[float, float]:
    t0 = time.perf_counter()
    handles = [DBOS.start_workflow(bench_workflow, steps) for _ in range(n)]
    t_started = time.perf_counter()
    for handle in handles:
        assert handle.get_result() == steps
    t_done = time.perf_counter()
    return t_started - t0, t_done - t0


def main() -> None:
    n = ARGS.get_int("n", 1000)
    steps = ARGS.get_int("steps", 3)
    warmup = ARGS.get_int("warmup", 20)
    DBOS.launch()
    if warmup:
        run_batch(warmup, steps)
    start_s, total_s = run_batch(n, steps)
    metrics = {
        "wf_per_s": round(n / total_s, 2),
        "start_per_s": round(n / start_s, 2),
        "total_s": round(total_s, 3),
    }
    emit("w2_concurrent", ARGS, metrics)
    hard_exit(0)


if __name__ == "__main__":
    main()

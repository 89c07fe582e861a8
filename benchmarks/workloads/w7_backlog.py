"""Workload 7: does a deep backlog make dequeuing slow? The drain rate of the first ``n``
(default 1,000) workflows of a queue holding 1,000, 10,000 and 100,000 queued workflows.

For each backlog size: enqueue it in batches (``DBOSClient.enqueue_many``), then a worker process
(this script, ``--mode worker``, ``worker_concurrency=10``) runs the first ``n`` and reports its
rate, timed from its first workflow's end to its last's (a small drain can end before
``DBOS.launch()`` returns, where a clock started after launch read ~0 s):
``drain_shallow_wf_per_s`` at the smallest size, ``drain_deep_wf_per_s`` at the largest (every
size in ``rates_by_backlog``). ``flatness`` is deep over shallow: 1.0 means the backlog
costs nothing. Implementations without a batch enqueue report ``status: "n/a"``
(filling 100,000 one by one would measure the enqueue, not the dequeue).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

from _common import emit, emit_not_available, hard_exit, make_config, parse_args

from dbos import DBOS

WORKLOAD = "w7_backlog"
ARGS = parse_args()
SIZES = [int(x) for x in str(ARGS.params.get("sizes", "1000,10000,100000")).split(",")]
METRIC_KEYS = ("drain_shallow_wf_per_s", "drain_deep_wf_per_s", "flatness")
N = ARGS.get_int("n", 1000)

_config = make_config(ARGS.db, "bench-backlog")
if ARGS.mode == "worker":
    _config["executor_id"] = "bench-backlog-worker"
DBOS(config=_config)

DONE = 0
DONE_LOCK = threading.Lock()
ALL_DONE = threading.Event()
FIRST_END = 0.0  # perf_counter() when the first workflow ended
LAST_END = 0.0  # and the latest


@DBOS.workflow()
def backlog_job(i: int) -> int:
    global DONE, FIRST_END, LAST_END
    with DONE_LOCK:
        DONE += 1  # dbos: ignore[DBOS402] benchmark instrumentation
        LAST_END = time.perf_counter()  # dbos: ignore[DBOS402] benchmark instrumentation
        if DONE == 1:
            FIRST_END = LAST_END  # dbos: ignore[DBOS402] benchmark instrumentation
        if DONE == N:
            ALL_DONE.set()
    return i


def make_queues() -> dict[int, Any]:
    from dbos import Queue  # type: ignore[attr-defined, unused-ignore]

    return {s: Queue(f"bench_backlog_{s}", worker_concurrency=10) for s in SIZES}


def run_worker(queues: dict[int, Any]) -> None:
    DBOS.listen_queues([queues[int(ARGS.params["size"])]])  # type: ignore[attr-defined, unused-ignore]
    DBOS.launch()
    ALL_DONE.wait(ARGS.get_float("budget_s", 60.0))
    with DONE_LOCK:
        done, took = DONE, LAST_END - FIRST_END
    # The first workflow's end starts the clock: the rate of the ``done - 1`` after it.
    print(json.dumps({"rate": (done - 1) / took if done > 1 and took > 0 else 0.0}), flush=True)
    hard_exit(0)


def measure() -> dict[str, Any]:
    from dbos import DBOSClient  # type: ignore[attr-defined, unused-ignore]

    DBOS.listen_queues([])  # type: ignore[attr-defined, unused-ignore]
    DBOS.launch()
    client = DBOSClient(system_database_url=ARGS.db)
    if not hasattr(client, "enqueue_many"):
        raise NotImplementedError("DBOSClient.enqueue_many")
    rates: dict[int, float] = {}
    for size in SIZES:
        options = {"workflow_name": "backlog_job", "queue_name": f"bench_backlog_{size}"}
        for start in range(0, size, 10_000):
            client.enqueue_many(options, [(i,) for i in range(start, min(size, start + 10_000))])
        worker = subprocess.run(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--db",
                ARGS.db,
                "--mode",
                "worker",
                "--params",
                json.dumps({"size": size, "n": min(N, size), "sizes": ",".join(map(str, SIZES))}),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        rates[size] = float(json.loads(worker.stdout.strip().splitlines()[-1])["rate"])
    client.destroy()
    return {
        "drain_shallow_wf_per_s": round(rates[SIZES[0]], 1),
        "drain_deep_wf_per_s": round(rates[SIZES[-1]], 1),
        "flatness": round(rates[SIZES[-1]] / rates[SIZES[0]], 3),
        "rates_by_backlog": {str(s): round(r, 1) for s, r in rates.items()},
    }


def main() -> None:
    try:
        queues = make_queues()
        if ARGS.mode == "worker":
            run_worker(queues)
            return
        metrics = measure()
    except (ImportError, NotImplementedError) as e:
        emit_not_available(WORKLOAD, ARGS, f"{type(e).__name__}: {e}", METRIC_KEYS)
        hard_exit(0)
        return
    emit(WORKLOAD, ARGS, metrics)
    hard_exit(0)


if __name__ == "__main__":
    main()

"""Workload 10: many workflows waiting in one process (issue #23).

Phase A (``n`` waiters, ``wait`` = ``recv`` or ``sleep``): ``n`` workflows are started with
``DBOS.start_workflow`` (from ``starters`` threads, so starts share commits), each of which
waits in ``DBOS.recv`` (or ``DBOS.sleep(3600)``). ``kind`` picks the waiters: ``sync`` (the
default), ``async`` (async workflows enqueued on a queue: dequeued, each body runs from a
workflow thread on a loop of its own), ``async_app`` (async workflows started with
``DBOS.start_workflow_async`` on an application event loop: tasks of that loop). Measured once
every one has reached its wait
(a non-durable counter in the body, just before the wait), or after ``budget_s``:

* ``reached`` (how many reached their wait), ``start_s`` (start of the first to that moment);
* ``threads_max`` (``threading.active_count()``, sampled while they start), then ``threads``
  and ``rss_mb`` (VmRSS) with all of them waiting, ``settle_s`` (12 s) later;
* ``new_wf_ms`` / ``new_wf_p99_ms``: a new trivial workflow's start-to-finish meanwhile (20);
* recv only: ``release_s``, from the first of ``n`` sends (``DBOS.send`` from ``starters``
  threads) until every waiter has returned its message.

Phase B (``samples`` each): wake-up latency of one waiting workflow, ``send`` to ``recv``
returning (the time taken in a step right after it): ``wake_ms``/``wake_p99_ms`` after a wait of
``long_gap_s`` (past the parking threshold: it parked, and resumes by replay), and
``short_wake_ms``/``short_wake_p99_ms`` after ``short_gap_s`` (under it: the thread is held).
Both after ``warmup`` wakes that are not counted: a fresh process's first uses of a statement
on each connection pay its parse and plan (psycopg prepares a statement on its fifth use), which
a process that has run for a while does not; ``first_wakes_ms`` is the median of those.
With ``{"parking": false}`` ours runs with parking off (``park_waits_after_sec: None``): the
wait loop as it was before parking, for the short-wait comparison in the same run.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import threading
import time
from typing import Any

from _common import emit, hard_exit, impl_name, make_config, median_ms, parse_args

from dbos import DBOS, Queue

WORKLOAD = "w10_parked"
ARGS = parse_args()
N = ARGS.get_int("n", 10_000)
WAIT = str(ARGS.params.get("wait", "recv"))
STARTERS = ARGS.get_int("starters", 8)
BUDGET_S = ARGS.get_float("budget_s", 600.0)
SAMPLES = ARGS.get_int("samples", 30)
WARMUP = ARGS.get_int("warmup", 10)
LONG_GAP_S = ARGS.get_float("long_gap_s", 0.4)
SHORT_GAP_S = ARGS.get_float("short_gap_s", 0.02)
PARKING = ARGS.params.get("parking", True)
SETTLE_S = ARGS.get_float("settle_s", 12.0)  # ours retires idle extra threads after 10 s
KIND = str(ARGS.params.get("kind", "sync"))

_config = make_config(ARGS.db, "bench-parked")
if impl_name() == "ours" and not PARKING:
    _config["park_waits_after_sec"] = None
DBOS(config=_config)

_reached = 0
_reached_lock = threading.Lock()


def _note_reached() -> None:
    global _reached
    with _reached_lock:
        _reached += 1


@DBOS.workflow()
def waiter(i: int) -> Any:
    _note_reached()  # dbos: ignore[DBOS112] benchmark instrumentation, not workflow state
    if WAIT == "sleep":
        DBOS.sleep(3600)
        return i
    return DBOS.recv("go", timeout_seconds=7200)


@DBOS.workflow()
async def async_waiter(i: int) -> Any:
    _note_reached()  # dbos: ignore[DBOS112] benchmark instrumentation, not workflow state
    if WAIT == "sleep":
        await DBOS.sleep_async(3600)
        return i
    return await DBOS.recv_async("go", timeout_seconds=7200)


waiters_queue = Queue("bench-parked-waiters")
_app_loop: asyncio.AbstractEventLoop | None = None


def _start_waiter(i: int) -> str:
    """Start waiter `i` as `KIND` says; its workflow ID."""
    if KIND == "async":
        return waiters_queue.enqueue(async_waiter, i).workflow_id
    if KIND == "async_app":
        assert _app_loop is not None
        started = asyncio.run_coroutine_threadsafe(
            DBOS.start_workflow_async(async_waiter, i), _app_loop
        )
        return started.result().workflow_id
    return DBOS.start_workflow(waiter, i).workflow_id


@DBOS.workflow()
def trivial() -> int:
    return 1


@DBOS.step()
def arrival(sent_at: float) -> float:
    return time.perf_counter() - sent_at


@DBOS.workflow()
def responder() -> float:
    sent_at = DBOS.recv("ping", timeout_seconds=60)
    return arrival(float(sent_at))


def _rss_mb() -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _in_threads(count: int, body: Any) -> list[Any]:
    """Run body(k) for k in range(count), split over STARTERS threads, in order."""
    out: list[Any] = [None] * count

    def run(offset: int) -> None:
        for k in range(offset, count, STARTERS):
            out[k] = body(k)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(STARTERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def p99_ms(samples: list[float]) -> float | None:
    if len(samples) < 2:
        return median_ms(samples)
    return round(statistics.quantiles(samples, n=100, method="inclusive")[98] * 1000, 4)


def many_waiting(metrics: dict[str, Any], notes: list[str]) -> None:
    began = time.perf_counter()
    global _app_loop
    if KIND == "async_app":
        _app_loop = asyncio.new_event_loop()
        threading.Thread(target=_app_loop.run_forever, daemon=True).start()
    workflow_ids = _in_threads(N, _start_waiter)
    deadline = time.monotonic() + BUDGET_S
    threads_max = threading.active_count()
    while _reached < N and time.monotonic() < deadline:
        time.sleep(0.05)
        threads_max = max(threads_max, threading.active_count())
    metrics["reached"] = _reached
    metrics["start_s"] = round(time.perf_counter() - began, 3)
    time.sleep(SETTLE_S)  # let the last ones settle into their wait (and idle threads end)
    metrics["threads_max"] = threads_max
    metrics["threads"] = threading.active_count()
    metrics["rss_mb"] = _rss_mb()
    latencies = []
    for _ in range(20):
        t0 = time.perf_counter()
        DBOS.start_workflow(trivial).get_result()
        latencies.append(time.perf_counter() - t0)
    metrics["new_wf_ms"] = median_ms(latencies)
    metrics["new_wf_p99_ms"] = p99_ms(latencies)
    if _reached < N:
        notes.append(f"only {_reached} of {N} reached their wait within {BUDGET_S:.0f}s")
    if WAIT != "recv":
        return
    t0 = time.perf_counter()
    _in_threads(N, lambda i: DBOS.send(workflow_ids[i], "go", "go"))
    left = time.monotonic() + BUDGET_S

    def result(i: int) -> Any:
        if time.monotonic() >= left:
            return None
        return DBOS.retrieve_workflow(workflow_ids[i]).get_result()

    done = _in_threads(N, result)
    metrics["release_s"] = round(time.perf_counter() - t0, 3)
    metrics["released"] = sum(1 for d in done if d == "go")


def wake_latency(gap_s: float, count: int = SAMPLES) -> list[float]:
    samples = []
    for _ in range(count):
        handle = DBOS.start_workflow(responder)
        time.sleep(gap_s)
        DBOS.send(handle.workflow_id, time.perf_counter(), "ping")
        samples.append(float(handle.get_result()))
    return samples


def main() -> None:
    DBOS.launch()
    metrics: dict[str, Any] = {}
    notes: list[str] = []
    phase = ARGS.params.get("phase", "both")
    if phase in ("both", "wake"):
        if WARMUP > 0:
            metrics["first_wakes_ms"] = median_ms(wake_latency(LONG_GAP_S, WARMUP))
        long = wake_latency(LONG_GAP_S)
        metrics["wake_ms"], metrics["wake_p99_ms"] = median_ms(long), p99_ms(long)
        short = wake_latency(SHORT_GAP_S)
        metrics["short_wake_ms"], metrics["short_wake_p99_ms"] = median_ms(short), p99_ms(short)
    if phase in ("both", "many"):
        many_waiting(metrics, notes)
    emit(WORKLOAD, ARGS, metrics, notes=notes)
    hard_exit(0)


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # report, never hang the runner
        print(f"{WORKLOAD} failed: {exc!r}", file=sys.stderr)
        hard_exit(1)
    finally:
        os._exit(0)

"""Workload 8: fairness of a partitioned queue, and what partitions cost.

One queue, ``partition_concurrency=1``: a "hot" tenant with ``hot`` (10,000) waiting workflows,
enqueued first; once this process (the worker) drains it, ``cold_tenants`` (100) "cold" tenants
enqueue ``cold_each`` (10) workflows each, while the hot backlog is still draining. The same
work then runs on a queue without partitions or limits, in the same process and run.

* ``cold_wait_p50_ms`` / ``cold_wait_p99_ms``: a cold workflow's wait from its enqueue to its
  start (the row's ``created_at`` to its ``started_at``, both stamped by the system database),
  on the partitioned queue; ``plain_cold_wait_p99_ms``: the same on the queue without
  partitions, where the cold work waits behind the rest of the hot backlog.
* ``phase_wf_per_s``: the partitioned queue's drain rate while many partitions have work: every
  workflow (hot or cold) completed from the first cold enqueue to the last cold completion,
  over that time. With ``partition_concurrency=1`` the hot tenant alone runs one at a time by
  definition, so its solo phase is not a throughput measure. ``plain_wf_per_s``: the queue
  without partitions draining the same 11,000 (its launch to its last completion).
  ``phase_vs_plain`` is the ratio (goal: at least 0.9). The phase lasts a few tenths of a
  second, so one stall (a full garbage collection, a checkpoint) moves it by a third: the pair
  runs ``backlog_rounds`` (3) times, alternating, and each of the three is the median of its
  rounds (the ratio the median of the rounds' ratios; every round is in the notes).
* ``many_partitions_wf_per_s`` / ``few_partitions_wf_per_s``: 10,000 workflows spread over
  ``many`` (1,000) partitions, and over ``many / 10`` (100), drained from a full backlog;
  ``partition_flatness`` is many over few (1.0: a partition costs the claim nothing).

Ours only: upstream polls each queue once a second, and a hot tenant run one at a time at that
pace would take hours (``status: "n/a"`` under upstream's interpreter).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from _common import emit, emit_not_available, hard_exit, impl_name, make_config, parse_args

from dbos import DBOS

WORKLOAD = "w8_fairness"
METRIC_KEYS = (
    "cold_wait_p50_ms",
    "cold_wait_p99_ms",
    "plain_cold_wait_p99_ms",
    "phase_wf_per_s",
    "plain_wf_per_s",
    "phase_vs_plain",
    "many_partitions_wf_per_s",
    "few_partitions_wf_per_s",
    "partition_flatness",
)

ARGS = parse_args()
HOT = ARGS.get_int("hot", 10_000)
COLD_TENANTS = ARGS.get_int("cold_tenants", 100)
COLD_EACH = ARGS.get_int("cold_each", 10)
MANY = ARGS.get_int("many", 1000)
FLAT_N = ARGS.get_int("flat_n", 10_000)
FLAT_PARALLELISM = ARGS.get_int("flat_parallelism", 50)
BUDGET_S = ARGS.get_float("budget_s", 120.0)
BACKLOG_ROUNDS = ARGS.get_int("backlog_rounds", 3)
_config = make_config(ARGS.db, "bench-fairness")
DBOS(config=_config)


class Counter:
    """Completions counted in the workflow bodies (instrumentation, not workflow logic)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.targets: dict[str, tuple[int, threading.Event]] = {}

    def expect(self, kind: str, count: int) -> threading.Event:
        event = threading.Event()
        with self.lock:
            self.counts[kind] = 0
            self.targets[kind] = (count, event)
        return event

    def done(self, kind: str) -> None:
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            target = self.targets.get(kind)
            if target is not None and self.counts[kind] >= target[0]:
                target[1].set()


COUNTER = Counter()


@DBOS.workflow(name="fair_hot")
def fair_hot(tenant: str) -> None:
    COUNTER.done("hot")


@DBOS.workflow(name="fair_cold")
def fair_cold(tenant: str) -> None:
    COUNTER.done("cold")


@DBOS.workflow(name="fair_flat")
def fair_flat(tenant: str) -> None:
    COUNTER.done("flat")


def _client() -> Any:
    from dbos import DBOSClient  # type: ignore[attr-defined, unused-ignore]

    return DBOSClient(system_database_url=ARGS.db)


def _enqueue(client: Any, queue: str, workflow: str, tenant: str, count: int, keyed: bool) -> None:
    options: dict[str, Any] = {"workflow_name": workflow, "queue_name": queue}
    if keyed:
        options["queue_partition_key"] = tenant
    client.enqueue_many(options, [(tenant,)] * count)


def _rows(queue: str) -> list[tuple[str, int, int | None, int | None]]:
    """(workflow name, created_at, started_at, completed_at) of the queue's workflows."""
    import sqlalchemy as sa

    engine = sa.create_engine(ARGS.db.replace("postgresql://", "postgresql+psycopg://", 1))
    prefix = "dbos." if ARGS.db.startswith("postgres") else ""
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT name, created_at, started_at_epoch_ms, completed_at "
                    f"FROM {prefix}workflow_status WHERE queue_name = :q"
                ),
                {"q": queue},
            ).fetchall()
    finally:
        engine.dispose()
    return [(str(r[0]), int(r[1]), r[2], r[3]) for r in rows]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[index], 2)


def _serve(queue: str, until: Callable[[], None]) -> float:
    """Launch this process serving only `queue`, run `until()`, stop; seconds it served."""
    DBOS(config=_config)
    DBOS.listen_queues([queue])  # type: ignore[attr-defined, unused-ignore]
    DBOS.launch()
    t0 = time.perf_counter()
    try:
        until()
    finally:
        took = time.perf_counter() - t0
        DBOS.destroy()
    return took


def _wait(event: threading.Event, what: str) -> None:
    if not event.wait(BUDGET_S):
        raise TimeoutError(f"{what} not done within {BUDGET_S}s")


def arrival(queue: str, partitioned: bool) -> list[float]:
    """The hot backlog draining, then the cold tenants arriving: each cold workflow's wait
    (ms) from its enqueue to its start."""
    client = _client()
    try:
        settings: dict[str, Any] = {"partition_concurrency": 1} if partitioned else {}
        client.register_queue(queue, polling_interval_sec=0.1, **settings)
        _enqueue(client, queue, "fair_hot", "hot", HOT, partitioned)
        cold_done = COUNTER.expect("cold", COLD_TENANTS * COLD_EACH)

        def drain() -> None:
            time.sleep(0.2)  # the hot tenant is being served
            for t in range(COLD_TENANTS):
                _enqueue(client, queue, "fair_cold", f"cold-{t}", COLD_EACH, partitioned)
            _wait(cold_done, "the cold tenants")

        _serve(queue, drain)
    finally:
        client.destroy()
    cold = [r for r in _rows(queue) if r[0] == "fair_cold"]
    return [float(started - created) for _, created, started, _ in cold if started is not None]


def backlog(queue: str, partitioned: bool) -> float:
    """The same work queued in full (hot first) before the worker starts: workflows per second
    from the worker's first start to the last cold completion (partitioned: the phase where
    many partitions have work), or to the last completion (without partitions)."""
    client = _client()
    try:
        settings: dict[str, Any] = {"partition_concurrency": 1} if partitioned else {}
        client.register_queue(queue, polling_interval_sec=0.1, **settings)
        _enqueue(client, queue, "fair_hot", "hot", HOT, partitioned)
        for t in range(COLD_TENANTS):
            _enqueue(client, queue, "fair_cold", f"cold-{t}", COLD_EACH, partitioned)
    finally:
        client.destroy()
    cold_done = COUNTER.expect("cold", COLD_TENANTS * COLD_EACH)
    hot_done = COUNTER.expect("hot", HOT)

    def drain() -> None:
        _wait(cold_done, "the cold tenants")
        if not partitioned:
            _wait(hot_done, "the hot backlog")

    _serve(queue, drain)
    rows = _rows(queue)
    first_start = min(s for _, _, s, _ in rows if s is not None)
    if partitioned:
        end = max(c for name, _, _, c in rows if name == "fair_cold" and c is not None)
    else:
        end = max(c for *_, c in rows if c is not None)
    completed = sum(1 for *_, c in rows if c is not None and c <= end)
    return round(completed / max((end - first_start) / 1000, 1e-3), 1)


def flat(queue: str, partitions: int) -> float:
    """Workflows per second draining FLAT_N workflows spread over `partitions` partitions, with
    the same parallelism whatever their number (`worker_concurrency`), so the rate tells what
    the partitions cost the claim."""
    client = _client()
    try:
        client.register_queue(
            queue,
            partition_concurrency=1,
            worker_concurrency=FLAT_PARALLELISM,
            polling_interval_sec=0.1,
        )
        each = max(FLAT_N // partitions, 1)
        for p in range(partitions):
            _enqueue(client, queue, "fair_flat", f"p{p}", each, True)
    finally:
        client.destroy()
    done = COUNTER.expect("flat", each * partitions)
    took = _serve(queue, lambda: _wait(done, f"{partitions} partitions"))
    return round(each * partitions / took, 1)


def main() -> None:
    if impl_name() != "ours":
        why = "upstream polls each queue once a second: hours at this size"
        emit_not_available(WORKLOAD, ARGS, why, METRIC_KEYS)
        hard_exit(0)
        return
    DBOS.listen_queues([])  # type: ignore[attr-defined, unused-ignore]
    DBOS.launch()  # creates the schema the clients below enqueue into
    DBOS.destroy()
    part_waits = arrival("bench_fair_part", partitioned=True)
    plain_waits = arrival("bench_fair_plain", partitioned=False)
    rounds = [
        (
            backlog(f"bench_fair_backlog_part_{i}", partitioned=True),
            backlog(f"bench_fair_backlog_plain_{i}", partitioned=False),
        )
        for i in range(BACKLOG_ROUNDS)
    ]
    phase = statistics.median(p for p, _ in rounds)
    plain = statistics.median(q for _, q in rounds)
    ratio = statistics.median(p / q for p, q in rounds)
    many = flat("bench_fair_many", MANY)
    few = flat("bench_fair_few", max(MANY // 10, 1))
    metrics = {
        "cold_wait_p50_ms": _percentile(part_waits, 0.5),
        "cold_wait_p99_ms": _percentile(part_waits, 0.99),
        "plain_cold_wait_p99_ms": _percentile(plain_waits, 0.99),
        "phase_wf_per_s": phase,
        "plain_wf_per_s": plain,
        "phase_vs_plain": round(ratio, 3),
        "many_partitions_wf_per_s": many,
        "few_partitions_wf_per_s": few,
        "partition_flatness": round(many / few, 3),
    }
    emit(
        WORKLOAD,
        ARGS,
        metrics,
        notes=[
            f"hot={HOT} cold={COLD_TENANTS}x{COLD_EACH} flat={FLAT_N} over {MANY} vs "
            f"{max(MANY // 10, 1)} partitions ({FLAT_PARALLELISM} at once), "
            "partition_concurrency=1",
            "backlog rounds (partitioned phase / unpartitioned wf/s): "
            + "; ".join(f"{p:.0f} / {q:.0f}" for p, q in rounds),
        ],
    )
    hard_exit(0)


if __name__ == "__main__":
    main()

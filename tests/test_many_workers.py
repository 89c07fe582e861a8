"""Three worker processes on one system database (PostgreSQL, and SQLite's one file): global
concurrency and the rate limit hold across them, nothing runs twice, partitions keep their
order, and a worker SIGKILLed mid-flight (never restarted) has its work finished by the others
within the heartbeat bound."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from programs import program

from dbos import DBOSClient

APP = program("worker_app")
TIMEOUT_SEC = 3.0  # the heartbeat bound the workers run with


class Workers:
    def __init__(self, url: str, markers: Path) -> None:
        self.url = url
        self.markers = markers
        self.procs: dict[str, subprocess.Popen[str]] = {}

    def start(self, *executor_ids: str) -> None:
        env = dict(
            os.environ,
            WORKER_APP_SYSTEM_DATABASE_URL=self.url,
            WORKER_APP_EXECUTOR_TIMEOUT=str(TIMEOUT_SEC),
        )
        for executor_id in executor_ids:
            self.procs[executor_id] = subprocess.Popen(
                [sys.executable, str(APP), executor_id, str(self.markers)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        for executor_id in executor_ids:
            proc = self.procs[executor_id]
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if line.strip() != "ready":
                pytest.fail(f"worker {executor_id} did not start: {proc.stderr.read()}")  # type: ignore[union-attr]

    def kill(self, executor_id: str) -> None:
        proc = self.procs[executor_id]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()

    def executions(self, tag: str) -> list[int]:
        path = self.markers / f"{tag}.mark"
        if not path.exists():
            return []
        return [int(x) for x in path.read_text().split()]


@pytest.fixture
def workers(system_database_url: str, tmp_path: Path) -> Iterator[Workers]:
    markers = tmp_path / "markers"
    markers.mkdir()
    group = Workers(system_database_url, markers)
    try:
        group.start("worker-1", "worker-2", "worker-3")
        yield group
    finally:
        group.stop_all()


@pytest.fixture
def client(workers: Workers) -> Iterator[DBOSClient]:
    c = DBOSClient(system_database_url=workers.url)
    yield c
    c.destroy()


def _enqueue(client: DBOSClient, queue: str, tags: list[str], seconds: float, **extra: Any) -> Any:
    return [
        client.enqueue(
            {"workflow_name": "job", "queue_name": queue, "workflow_id": tag, **extra},  # type: ignore[typeddict-item]
            tag,
            seconds,
        )
        for tag in tags
    ]


def _peak(spans: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    now = peak = 0
    for _, delta in events:
        now += delta
        peak = max(peak, now)
    return peak


@pytest.mark.timeout(180)
def test_global_concurrency_holds_across_three_workers(
    workers: Workers, client: DBOSClient
) -> None:
    tags = [f"shared-{i}" for i in range(24)]
    results = [h.get_result() for h in _enqueue(client, "workers.shared", tags, 0.15)]
    assert _peak([(r["start"], r["end"]) for r in results]) <= 4
    assert len({r["pid"] for r in results}) >= 2  # the work was spread
    for tag in tags:
        assert len(workers.executions(tag)) == 1


@pytest.mark.timeout(180)
def test_the_rate_limit_holds_across_three_workers(workers: Workers, client: DBOSClient) -> None:
    tags = [f"limited-{i}" for i in range(15)]
    results = [h.get_result() for h in _enqueue(client, "workers.limited", tags, 0.0)]
    assert len(results) == 15  # (which workers ran them varies: instant jobs, one at a time)
    # The limiter counts dequeues (the recorded start of each run), across all workers.
    starts = sorted(s.dequeued_at for s in client.list_workflows(queue_name="workers.limited"))
    assert len(starts) == 15
    for i, first in enumerate(starts):
        assert len([s for s in starts[i:] if s < first + 1000]) <= 5, starts  # type: ignore[operator]
    assert starts[-1] - starts[0] >= 2000  # type: ignore[operator]  # three windows of five


@pytest.mark.timeout(180)
def test_partition_order_holds_across_three_workers(workers: Workers, client: DBOSClient) -> None:
    handles = []
    for i in range(8):
        for key in ("k1", "k2", "k3", "k4"):
            handles.extend(
                _enqueue(client, "workers.parts", [f"{key}-{i}"], 0.02, queue_partition_key=key)
            )
    results = {h.workflow_id: h.get_result() for h in handles}
    for key in ("k1", "k2", "k3", "k4"):
        runs = [results[f"{key}-{i}"] for i in range(8)]
        starts = [r["start"] for r in runs]
        assert starts == sorted(starts)  # start order is enqueue order
        for before, after in zip(runs, runs[1:], strict=False):
            assert after["start"] >= before["end"] - 0.005  # one at a time per key


@pytest.mark.timeout(180)
def test_a_killed_workers_work_is_finished_by_the_survivors(
    workers: Workers, client: DBOSClient
) -> None:
    tags = [f"slow-{i}" for i in range(24)]
    handles = [
        client.enqueue(
            {"workflow_name": "two_step_job", "queue_name": "workers.slow", "workflow_id": t},
            t,
            0.4,
        )
        for t in tags
    ]
    victim = workers.procs["worker-1"].pid
    deadline = time.monotonic() + 30
    while not any(victim in workers.executions(f"{t}.a") for t in tags):
        assert time.monotonic() < deadline, "worker-1 never started any work"
        time.sleep(0.02)
    killed_at = time.monotonic()
    workers.kill("worker-1")
    results = [h.get_result() for h in handles]
    took = time.monotonic() - killed_at
    assert took < TIMEOUT_SEC + 15, took
    survivors = {p.pid for name, p in workers.procs.items() if name != "worker-1"}
    taken_over = 0
    for tag, result in zip(tags, results, strict=True):
        a_runs, b_runs = workers.executions(f"{tag}.a"), workers.executions(f"{tag}.b")
        assert len(b_runs) == 1  # the last step ran exactly once
        assert result[1]["pid"] in survivors or result[1]["pid"] == victim
        if victim in a_runs and result[1]["pid"] != victim:
            taken_over += 1
            # A step the victim finished was not run again; one it was in the middle of was.
            assert len(a_runs) in (1, 2) and a_runs[-1] == result[0]["pid"]
    assert taken_over >= 1
    for status in client.list_workflows(queue_name="workers.slow"):
        assert status.status == "SUCCESS"


@pytest.mark.timeout(180)
def test_a_killed_worker_gives_its_partition_slots_back(
    workers: Workers, client: DBOSClient
) -> None:
    """A partitioned queue (one at a time per tenant, across all workers): the tenants whose
    workflows a SIGKILLed worker held are blocked only until a survivor takes its work over;
    then their work, and the rest, finishes, still one at a time per tenant."""
    # Two at a time per worker: the six tenants' heads spread over the three workers.
    client.register_queue(
        "workers.tenants",
        partition_concurrency=1,
        worker_concurrency=2,
        polling_interval_sec=0.1,
    )
    tenants = [f"t{i}" for i in range(6)]
    tags = {tenant: [f"{tenant}-{n}" for n in range(3)] for tenant in tenants}
    handles = {
        tag: client.enqueue(
            {
                "workflow_name": "two_step_job",
                "queue_name": "workers.tenants",
                "workflow_id": tag,
                "queue_partition_key": tenant,
            },
            tag,
            0.5,
        )
        for tenant in tenants
        for tag in tags[tenant]
    }
    victim = workers.procs["worker-1"].pid
    deadline = time.monotonic() + 30
    while not any(victim in workers.executions(f"{t}.a") for t in handles):
        assert time.monotonic() < deadline, "worker-1 never took a tenant's work"
        time.sleep(0.02)
    held = {t for t in handles if victim in workers.executions(f"{t}.a")}
    killed_at = time.monotonic()
    workers.kill("worker-1")
    results = {tag: handle.get_result() for tag, handle in handles.items()}
    assert time.monotonic() - killed_at < TIMEOUT_SEC + 20
    survivors = {p.pid for name, p in workers.procs.items() if name != "worker-1"}
    for tag in held:  # what the victim held was finished elsewhere, its last step once
        assert results[tag][1]["pid"] in survivors or results[tag][1]["pid"] == victim
        assert len(workers.executions(f"{tag}.b")) == 1
    finished_elsewhere = [t for t in held if results[t][1]["pid"] != victim]
    assert finished_elsewhere, "the victim finished everything it held before it died"
    for tenant in tenants:
        runs = sorted((results[t][0]["start"], results[t][1]["end"]) for t in tags[tenant])
        for (_, end), (start, _) in zip(runs, runs[1:], strict=False):
            assert start >= end - 0.005, f"{tenant} ran two at once"  # across every worker
    statuses = {s.status for s in client.list_workflows(queue_name="workers.tenants")}
    assert statuses == {"SUCCESS"}


@pytest.mark.timeout(180)
def test_partitions_run_one_at_a_time_in_order_across_three_workers(
    workers: Workers, client: DBOSClient
) -> None:
    """A partitioned queue with no per-process cap: each worker claims a partition's next
    workflow by naming the partition when one of its own ends there, beside the other workers'
    claims of the whole queue. Still one at a time per tenant across every worker, in order."""
    client.register_queue("workers.chains", partition_concurrency=1, polling_interval_sec=0.1)
    tenants = [f"c{i}" for i in range(8)]
    handles = {
        tenant: [
            _enqueue(client, "workers.chains", [f"{tenant}-{n}"], 0.01, queue_partition_key=tenant)[
                0
            ]
            for n in range(6)
        ]
        for tenant in tenants
    }
    results = {tenant: [h.get_result() for h in hs] for tenant, hs in handles.items()}
    for tenant, runs in results.items():
        starts = [r["start"] for r in runs]
        assert starts == sorted(starts), f"{tenant} out of order"
        for before, after in zip(runs, runs[1:], strict=False):
            assert after["start"] >= before["end"] - 0.005, f"{tenant} ran two at once"
    statuses = {s.status for s in client.list_workflows(queue_name="workers.chains")}
    assert statuses == {"SUCCESS"}

"""Database outages are not workflow errors: a PostgreSQL restart (fast and immediate), every
backend terminated in a loop, and a server that is down when the process launches. Everything
ends SUCCESS, no step runs twice, nothing stays PENDING. A private server (not the suite's
shared one), since these tests restart it."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from conftest import in_ci
from servers.pg_cluster import ThrowawayCluster, find_pg_bindir
from test_many_workers import Workers

from dbos import DBOS, SetWorkflowID

executions: Counter[str] = Counter()
lock = threading.Lock()


@DBOS.step()
def outage_step(tag: str, seconds: float) -> str:
    with lock:
        executions[tag] += 1
    time.sleep(seconds)
    return tag


@DBOS.workflow()
def three_slow_steps(name: str, seconds: float) -> list[str]:
    return [outage_step(f"{name}.{i}", seconds) for i in range(3)]


@DBOS.workflow()
def waits_for_a_message(name: str) -> object:
    DBOS.set_event("waiting", True)
    return DBOS.recv("go", timeout_seconds=60)


@pytest.fixture(scope="module")
def cluster() -> Iterator[ThrowawayCluster]:
    if find_pg_bindir() is None:
        if in_ci():
            pytest.fail("PostgreSQL server binaries are required in CI")
        pytest.skip("PostgreSQL server binaries unavailable")
    with ThrowawayCluster() as c:
        yield c


@pytest.fixture
def launched(cluster: ThrowawayCluster) -> Iterator[str]:
    url = cluster.url_for(f"outage_{uuid.uuid4().hex[:10]}")
    executions.clear()
    DBOS.destroy()
    DBOS(config={"name": "outages", "system_database_url": url, "log_level": "ERROR"})
    DBOS.launch()
    yield url
    DBOS.destroy()


def _assert_all_succeeded_once(handles: list[object], names: list[str]) -> None:
    results = [h.get_result() for h in handles]  # type: ignore[attr-defined]
    assert results == [[f"{n}.{i}" for i in range(3)] for n in names]
    assert all(executions[f"{n}.{i}"] == 1 for n in names for i in range(3)), executions
    assert DBOS.list_workflows(status="PENDING") == []
    assert {w.status for w in DBOS.list_workflows()} == {"SUCCESS"}


@pytest.mark.timeout(180)
@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_restart_in_the_middle_of_100_workflows(
    launched: str, cluster: ThrowawayCluster, mode: str
) -> None:
    names = [f"wf{i}" for i in range(100)]
    handles = [DBOS.start_workflow(three_slow_steps, n, 0.3) for n in names]
    time.sleep(0.5)  # first steps running, some checkpoints written
    cluster.restart(mode, down_for_s=1.0)
    _assert_all_succeeded_once(handles, names)


@pytest.mark.timeout(180)
def test_waiters_wake_after_a_restart(launched: str, cluster: ThrowawayCluster) -> None:
    handles = []
    for i in range(10):
        with SetWorkflowID(f"waiter-{i}"):
            handles.append(DBOS.start_workflow(waits_for_a_message, str(i)))
    for i in range(10):
        assert DBOS.get_event(f"waiter-{i}", "waiting", timeout_seconds=30) is True
    cluster.restart("fast", down_for_s=0.5)
    for i in range(10):
        DBOS.send(f"waiter-{i}", i, topic="go")
    assert [h.get_result() for h in handles] == list(range(10))


@pytest.mark.timeout(180)
def test_backends_terminated_again_and_again(launched: str, cluster: ThrowawayCluster) -> None:
    names = [f"t{i}" for i in range(40)]
    handles = [DBOS.start_workflow(three_slow_steps, n, 0.1) for n in names]
    stop = threading.Event()

    def terminator() -> None:
        while not stop.wait(0.15):
            try:
                with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
                    conn.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"
                    )
            except psycopg.Error:
                pass

    killer = threading.Thread(target=terminator)
    killer.start()
    try:
        time.sleep(1.5)
    finally:
        stop.set()
        killer.join()
    _assert_all_succeeded_once(handles, names)


@pytest.mark.timeout(180)
def test_launch_waits_for_a_database_that_is_down(cluster: ThrowawayCluster) -> None:
    url = cluster.url_for(f"outage_{uuid.uuid4().hex[:10]}")
    DBOS.destroy()
    cluster.shut_down("fast")
    try:
        DBOS(config={"name": "outages", "system_database_url": url, "log_level": "ERROR"})
        launched = threading.Event()
        failure: list[BaseException] = []

        def launch() -> None:
            try:
                DBOS.launch()
                launched.set()
            except BaseException as exc:
                failure.append(exc)

        starter = threading.Thread(target=launch)
        starter.start()
        time.sleep(1.5)
        assert not launched.is_set() and not failure  # waiting, not failed
    finally:
        cluster.start_again()
    starter.join(60)
    assert launched.is_set(), failure
    try:
        executions.clear()
        assert three_slow_steps("late", 0.0) == ["late.0", "late.1", "late.2"]
    finally:
        DBOS.destroy()


@pytest.mark.timeout(240)
def test_three_workers_ride_through_a_restart(cluster: ThrowawayCluster, tmp_path: Path) -> None:
    from dbos import DBOSClient

    url = cluster.url_for(f"outage_{uuid.uuid4().hex[:10]}")
    markers = tmp_path / "markers"
    markers.mkdir()
    workers = Workers(url, markers)
    client = None
    try:
        workers.start("worker-1", "worker-2", "worker-3")
        client = DBOSClient(system_database_url=url)
        tags = [f"job-{i}" for i in range(60)]
        handles = [
            client.enqueue(
                {"workflow_name": "two_step_job", "queue_name": "workers.slow", "workflow_id": t},
                t,
                0.1,
            )
            for t in tags
        ]
        time.sleep(0.4)  # work under way on all three
        cluster.restart("fast", down_for_s=1.0)
        results = [h.get_result() for h in handles]
        assert len(results) == 60
        for tag in tags:  # each step ran exactly once: no process died, so nothing re-ran
            assert len(workers.executions(f"{tag}.a")) == 1, tag
            assert len(workers.executions(f"{tag}.b")) == 1, tag
        statuses = {w.status for w in client.list_workflows(queue_name="workers.slow")}
        assert statuses == {"SUCCESS"}
    finally:
        if client is not None:
            client.destroy()
        workers.stop_all()

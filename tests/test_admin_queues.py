"""Queues in the admin tools: `dbos queue list | get | register | delete` through the real
console script against a running application's database (which picks a registered queue up
and runs its work), and the dashboard's queue list and queue page with the largest
partitions, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient
from test_admin_cli import one_line_error, run_dbos

from dbos import DBOS, Queue, SetEnqueueOptions
from dbos._admin.connect import open_session
from dbos._dashboard.app import build_app

release = threading.Event()
DECLARED = Queue("adm.declared", worker_concurrency=2)


@DBOS.workflow(name="adm.blocked")
def blocked(tenant: str) -> str:
    # Held until the test's end sets `release`; the bound only keeps a failed test from hanging
    # (its six console-script runs took 30 s on a heavily loaded machine).
    release.wait(240)
    return tenant


@DBOS.workflow(name="adm.quick")
def quick(x: int) -> int:
    return x + 1


@pytest.fixture
def tenants(dbos: None, system_database_url: str) -> Iterator[str]:
    """A partitioned queue holding work: tenant 'big' has 4 workflows, 'mid' 2, 'small' 1;
    one of each runs (partition_concurrency=1), the rest wait."""
    release.clear()
    DBOS.register_queue("adm.tenants", partition_concurrency=1, polling_interval_sec=0.1)
    handles = []
    for tenant, count in (("big", 4), ("mid", 2), ("small", 1)):
        for _ in range(count):
            with SetEnqueueOptions(queue_partition_key=tenant):
                handles.append(DBOS.enqueue_workflow("adm.tenants", blocked, tenant))
    deadline = time.monotonic() + 20
    while len(DBOS.list_workflows(status="PENDING", queue_name="adm.tenants")) < 3:
        assert time.monotonic() < deadline, "the three partitions never each started one"
        time.sleep(0.05)
    yield system_database_url
    release.set()
    for handle in handles:
        handle.get_result()


def test_queue_list_and_get(tenants: str) -> None:
    url = tenants
    listed = {q["name"]: q for q in json.loads(run_dbos("queue", "list", "--json", url=url).stdout)}
    part = listed["adm.tenants"]
    assert (part["kind"], part["partition_queue"], part["partition_concurrency"]) == (
        "registered",
        True,
        1,
    )
    assert (part["enqueued"], part["running"], part["partitions"]) == (4, 3, 3)
    declared = listed["adm.declared"]
    assert (declared["kind"], declared["worker_concurrency"]) == ("declared", 2)
    table = run_dbos("queue", "list", url=url).stdout
    assert "adm.tenants" in table and "registered" in table and "declared" in table

    got = json.loads(run_dbos("queue", "get", "adm.tenants", "--json", url=url).stdout)
    assert got["largest_partitions"] == [
        {"key": "big", "enqueued": 3, "running": 1, "delayed": 0},
        {"key": "mid", "enqueued": 1, "running": 1, "delayed": 0},
        {"key": "small", "enqueued": 0, "running": 1, "delayed": 0},
    ]
    two = json.loads(
        run_dbos("queue", "get", "adm.tenants", "--partitions", "2", "--json", url=url).stdout
    )
    assert [p["key"] for p in two["largest_partitions"]] == ["big", "mid"]
    text = run_dbos("queue", "get", "adm.tenants", url=url).stdout
    assert "partition_concurrency=1" in text and "3 with work" in text and "big" in text
    error = one_line_error(run_dbos("queue", "get", "adm.nope", url=url, check=False))
    assert "no queue named 'adm.nope'" in error


def test_register_change_and_delete_from_the_command_line(
    dbos: None, system_database_url: str
) -> None:
    url = system_database_url
    out = run_dbos("queue", "register", "adm.cli", "--worker-concurrency", "2", url=url).stdout
    assert out.startswith("registered queue adm.cli (worker_concurrency=2")
    # The running application serves it, and enqueues onto it.
    assert DBOS.enqueue_workflow("adm.cli", quick, 1).get_result() == 2
    out = run_dbos(
        "queue", "register", "adm.cli", "--limit", "5", "--period", "1.5", url=url
    ).stdout
    assert out.startswith("updated queue adm.cli")
    retrieved = DBOS.retrieve_queue("adm.cli")
    assert retrieved is not None
    assert (retrieved.worker_concurrency, retrieved.limiter) == (None, {"limit": 5, "period": 1.5})
    kept = run_dbos(
        "queue", "register", "adm.cli", "--worker-concurrency", "9", "--keep-existing", url=url
    )
    assert kept.stdout.startswith("kept queue adm.cli")
    assert DBOS.retrieve_queue("adm.cli").limiter == {"limit": 5, "period": 1.5}  # type: ignore[union-attr]

    for bad, message in (
        (["--limit", "5"], "both 'limit' and 'period'"),
        (["--partition-worker-concurrency", "3", "--partition-concurrency", "2"], "greater"),
        (["--global-concurrency", "0"], "at least 1"),
    ):
        done = run_dbos("queue", "register", "adm.bad", *bad, url=url, check=False)
        assert message in one_line_error(done)
    assert DBOS.retrieve_queue("adm.bad") is None

    release.clear()
    DBOS.register_queue("adm.busy")
    held = DBOS.enqueue_workflow("adm.busy", blocked, "t")
    refused = one_line_error(run_dbos("queue", "delete", "adm.busy", url=url, check=False))
    assert "still holds 1 workflows" in refused
    assert run_dbos("queue", "delete", "adm.busy", "--force", url=url).stdout.strip() == (
        "deleted queue adm.busy"
    )
    release.set()
    assert DBOS.retrieve_queue("adm.busy") is None
    assert held.get_status().status == "CANCELLED"
    assert run_dbos("queue", "delete", "adm.cli", url=url).returncode == 0
    missing = one_line_error(run_dbos("queue", "delete", "adm.cli", url=url, check=False))
    assert "no queue named 'adm.cli'" in missing


def test_dashboard_queue_pages(tenants: str) -> None:
    session = open_session(tenants)
    try:
        with TestClient(build_app(session), raise_server_exceptions=False) as client:
            queues = {q["name"]: q for q in client.get("/api/queues").json()["queues"]}
            assert queues["adm.tenants"]["partitions"] == 3
            one = client.get("/api/queues/adm.tenants?partitions=1").json()
            assert one["largest_partitions"] == [
                {"key": "big", "enqueued": 3, "running": 1, "delayed": 0}
            ]
            assert client.get("/api/queues/adm.tenants?partitions=x").status_code == 400
            assert client.get("/api/queues/adm.nope").status_code == 404
            page = client.get("/queues/adm.tenants")
            assert page.status_code == 200
            assert "Largest partitions" in page.text and ">big<" in page.text
            assert page.headers["X-Frame-Options"] == "DENY"  # the guard still answers
            listing = client.get("/queues")
            assert 'href="/queues/adm.tenants"' in listing.text and "registered" in listing.text
    finally:
        session.close()

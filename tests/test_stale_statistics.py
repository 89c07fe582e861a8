"""Statements whose plans must not depend on fresh statistics (PostgreSQL).

Autovacuum analyzes a table after 10% of it has changed, and at most once a minute, so the
planner's statistics often describe `workflow_status` as it was: no queued rows (a queue
filled since, or a batch of 10,000 in a table of millions, looks empty), or no running ones.
Claims then read the whole backlog once per candidate row (150 ms a claim with 10,000 queued;
workload 8's drains fell from ~3,000 to ~400 workflows a second), and a flush of outcomes
compared every running row with every outcome. The claims are kept within reach by refreshing
the statistics when a queue's backlog outgrows them (`dbos._db.queue_statistics`); the flush
finds its rows by ID whatever the statistics say. Each test stages stale statistics (ANALYZE
before the rows arrive) and reads the statement's own plan (EXPLAIN ANALYZE)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import admin_conninfo, query_system_sql, run_system_sql
from psycopg import sql as psycopg_sql

from dbos import DBOS, Queue
from dbos._config import normalize_url
from dbos._core.runtime import get_runtime
from dbos._db.connections import Connections
from dbos._db.queue_statistics import _LOCK_KEY, BACKLOG_FLOOR, QueuedRowStatistics, outgrown
from dbos._db.queue_store import ClaimRequest, QueueStore
from dbos._db.workflow_store import WorkflowStore

pytestmark = pytest.mark.postgres_only

_QUEUE = "plans.q"
_VERSION = "v-plans"
_HOT = 3000  # the hot tenant's backlog
_COLD = 50  # tenants with two workflows each
_NO_INPUTS = '{"args": [], "kwargs": {}}'
_SERVED = Queue("plans.served", partition_queue=True, concurrency=1)  # 1 per partition


def _insert_rows(url: str, key: str, count: int, queue: str = _QUEUE) -> None:
    """`count` ENQUEUED rows of partition `key`, its k-th row in fair round k (as enqueued)."""
    run_system_sql(
        url,
        "INSERT INTO {prefix}workflow_status (workflow_uuid, status, name, inputs, "
        "serialization, application_version, created_at, updated_at, recovery_attempts, "
        "queue_name, queue_partition_key, priority, partition_round) "
        f"SELECT '{key}-' || i, 'ENQUEUED', 'plans.workflow', '{_NO_INPUTS}', 'portable_json', "
        f"'{_VERSION}', 1, 1, 0, '{queue}', '{key}', 0, i "
        f"FROM generate_series(0, {count - 1}) AS i",
    )


def _no_autovacuum(url: str) -> None:
    """Statistics as staged: autovacuum visits each of many test databases every few seconds
    and would analyze the table between the staging and the statement under test."""
    run_system_sql(url, "ALTER TABLE {prefix}workflow_status SET (autovacuum_enabled = false)")


def _stale_statistics(url: str, queue: str = _QUEUE) -> None:
    """The table analyzed with no queued row, then a hot tenant's backlog and cold tenants."""
    _no_autovacuum(url)
    _insert_rows(url, "history", 200, "plans.history")
    run_system_sql(url, "UPDATE {prefix}workflow_status SET status = 'SUCCESS'")
    run_system_sql(url, "ANALYZE {prefix}workflow_status")
    _insert_rows(url, "hot", _HOT, queue)
    for tenant in range(_COLD):
        _insert_rows(url, f"cold-{tenant}", 2, queue)


@pytest.fixture
def stale_backlog(connections: Connections, system_database_url: str) -> Iterator[QueueStore]:
    """A partitioned queue whose backlog arrived after the table's last ANALYZE, the check
    run once (as the dispatcher's first claim runs it)."""
    _stale_statistics(system_database_url)
    statistics = QueuedRowStatistics(connections)
    assert statistics.refresh_if_outgrown([_QUEUE])
    assert not statistics.refresh_if_outgrown([_QUEUE])  # the belief is current: nothing to do
    yield QueueStore(connections, WorkflowStore(connections))


def _explained_claim(
    queues: QueueStore,
    monkeypatch: pytest.MonkeyPatch,
    keys: tuple[str, ...] = (),
    *,
    generic: bool = False,
) -> dict[str, Any]:
    """The claim run under EXPLAIN ANALYZE (it still claims): its plan's root node.
    `generic`: the plan PostgreSQL makes for the statement prepared, without its parameters'
    values (psycopg prepares a statement on its fifth use on a connection, and the server may
    then keep one plan for every later call)."""
    db = queues.db
    real = db.fetchall_once
    plans: list[Any] = []

    def explained(sql: str, params: Any) -> list[Any]:
        if not generic:
            plans.append(real("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)[0][0])
            return []
        names: list[str] = []

        def positional(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in names:
                names.append(name)
            value = params[name]
            cast = "bigint" if isinstance(value, int) and not isinstance(value, bool) else "text"
            return f"${names.index(name) + 1}::{cast}"

        prepared = re.sub(r"%\((\w+)\)s", positional, sql)
        values = psycopg_sql.SQL(", ").join(psycopg_sql.Literal(params[n]) for n in names)
        with db.connection() as conn:
            conn.execute("SET plan_cache_mode = force_generic_plan")
            conn.execute(f"PREPARE explained_claim AS {prepared}")
            try:
                execute = psycopg_sql.SQL(
                    "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE explained_claim({})"
                ).format(values)
                row = conn.execute(execute).fetchone()
            finally:
                conn.execute("DEALLOCATE explained_claim")
                conn.execute("RESET plan_cache_mode")
        plans.append(row[0])
        return []

    monkeypatch.setattr(db, "fetchall_once", explained)
    try:
        queues.claim(
            ClaimRequest(
                queue_name=_QUEUE,
                limit=100,
                application_version=_VERSION,
                executor_id="plans-executor",
                claim_prefix="plans-test.",
                partitioned=True,
                partition_concurrency=1,
                partition_keys=keys,
            )
        )
    finally:
        monkeypatch.setattr(db, "fetchall_once", real)
    (plan,) = plans
    return _plan_root(plan)


def _plan_root(explained: Any) -> dict[str, Any]:
    """The root node of an EXPLAIN (FORMAT JSON) result (psycopg may hand it over parsed)."""
    document = explained if isinstance(explained, list) else json.loads(explained)
    root: dict[str, Any] = document[0]["Plan"]
    return root


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _rows_read(root: dict[str, Any]) -> int:
    """Rows the plan's scans of workflow_status returned or filtered away, and rows a join
    compared and dropped, over all loops."""
    total = 0
    for node in _nodes(root):
        loops = int(node.get("Actual Loops", 1))
        total += loops * int(node.get("Rows Removed by Join Filter", 0))
        if node.get("Relation Name") == "workflow_status":
            total += loops * int(node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0))
    return total


def _running(url: str) -> int:
    rows = query_system_sql(
        url, "SELECT count(*) FROM {prefix}workflow_status WHERE status = 'PENDING'"
    )
    return int(rows[0][0])


def test_a_full_claim_reads_the_window_not_the_backlog(
    stale_backlog: QueueStore, system_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _explained_claim(stale_backlog, monkeypatch)
    assert _running(system_database_url) == 1 + _COLD  # each partition's head
    # Again with every partition running: each partition's next row is checked for rows
    # ahead of it (the probe that read the whole backlog), and none may start.
    second = _explained_claim(stale_backlog, monkeypatch)
    assert _running(system_database_url) == 1 + _COLD
    # The window is the queue's first 2 x 100 + 64 + 2 x running rows; the backlog 3,100.
    assert _rows_read(first) < 1500, _rows_read(first)
    assert _rows_read(second) < 1500, _rows_read(second)


def _running_rows_read(plan: dict[str, Any]) -> list[int]:
    """Rows of running workflows each scan for them returned, over all its loops."""
    return [
        int(node.get("Actual Loops", 1)) * int(node.get("Actual Rows", 0))
        for node in _nodes(plan)
        if "'PENDING'" in str(node.get("Index Cond", "")) + str(node.get("Filter", ""))
    ]


def test_a_full_claim_reads_the_running_workflows_once_not_once_per_head(
    connections: Connections, system_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full claim checks each partition's head against that partition's running workflows.
    With the statistics of a queue whose backlog arrived while nothing ran, a count of the
    running rows joined to the heads was planned as that count repeated for each head: a
    claim read heads x running rows (101 x 100 in workload 8's partitioned phase, 10-40 ms a
    claim, the claims of freed partitions waiting behind it). The rows are read once."""
    _stale_statistics(system_database_url)  # and not refreshed
    queues = QueueStore(connections, WorkflowStore(connections))
    _explained_claim(queues, monkeypatch)
    partitions = 1 + _COLD
    assert _running(system_database_url) == partitions  # each partition's head
    for generic in (False, True):  # each next row is held back by its head
        plan = _explained_claim(queues, monkeypatch, generic=generic)
        assert _running(system_database_url) == partitions
        reads = _running_rows_read(plan)
        # The window's count of running rows, and their count per partition: each read once.
        assert sum(reads) <= 2 * partitions, (generic, reads)


def test_rows_ahead_are_probed_in_the_partitions_index_after_one_partition_was_analyzed(
    connections: Connections, system_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Statistics taken while one tenant held the whole queue (its backlog draining, the
    other tenants not arrived yet) make every partition look like that one: the planner
    expected a row ahead of each head at once through the queue's claim-order index, and
    walked the head of the queue once per partition instead. The probe must go through the
    partition's own index whatever the statistics say (checked on the generic plan, the one
    a claim prepared on its connection may keep; 10,000 rows, as in workload 8, where the
    probe of each of 51 partitions walked the queue's index before this)."""
    url = system_database_url
    _no_autovacuum(url)
    hot = 10_000
    _insert_rows(url, "hot", hot)
    run_system_sql(url, "ANALYZE {prefix}workflow_status")
    run_system_sql(  # the hot backlog drains; the cold tenants join behind its head
        url,
        "UPDATE {prefix}workflow_status SET status = 'SUCCESS' "
        f"WHERE queue_partition_key = 'hot' AND partition_round < {hot // 2}",
    )
    for tenant in range(_COLD):
        run_system_sql(
            url,
            "INSERT INTO {prefix}workflow_status (workflow_uuid, status, name, inputs, "
            "serialization, application_version, created_at, updated_at, recovery_attempts, "
            "queue_name, queue_partition_key, priority, partition_round) "
            f"SELECT 'cold-{tenant}-' || i, 'ENQUEUED', 'plans.workflow', '{_NO_INPUTS}', "
            f"'portable_json', '{_VERSION}', 1, 1, 0, '{_QUEUE}', 'cold-{tenant}', 0, "
            f"{hot // 2} + i FROM generate_series(0, 1) AS i",
        )
    queues = QueueStore(connections, WorkflowStore(connections))
    plan = _explained_claim(queues, monkeypatch, generic=True)
    assert _running(url) == 1 + _COLD  # each partition's head
    probes = [n for n in _nodes(plan) if n.get("Alias") == "e"]
    assert probes, "no probe of rows ahead in the plan"
    assert {n.get("Index Name") for n in probes} == {"workflow_status_partition_queued_index"}


def test_a_claim_of_named_partitions_reads_their_heads_not_the_backlog(
    stale_backlog: QueueStore, system_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = ("hot", "cold-1", "cold-2")
    plan = _explained_claim(stale_backlog, monkeypatch, keys)
    assert _running(system_database_url) == len(keys)
    assert _rows_read(plan) < 100, _rows_read(plan)


def test_a_small_backlog_or_a_current_belief_is_left_alone(
    connections: Connections, system_database_url: str
) -> None:
    assert not outgrown(1, BACKLOG_FLOOR - 1)  # believed empty, but too small to matter
    assert outgrown(1, BACKLOG_FLOOR) and outgrown(0, 5000)
    assert not outgrown(2000, 5000)  # within a few times the belief
    url = system_database_url
    _no_autovacuum(url)
    _insert_rows(url, "few", BACKLOG_FLOOR // 2)
    run_system_sql(url, "ANALYZE {prefix}workflow_status")
    _insert_rows(url, "more", BACKLOG_FLOOR)  # now 1,500 queued against 500 believed
    assert not QueuedRowStatistics(connections).refresh_if_outgrown([_QUEUE])


def test_a_new_queue_filled_beside_a_known_backlog_is_refreshed_too(
    connections: Connections, system_database_url: str
) -> None:
    """The statistics are per queue: a backlog the planner knows elsewhere hides nothing."""
    url = system_database_url
    _no_autovacuum(url)
    _insert_rows(url, "known", 6000, "plans.known")
    run_system_sql(url, "ANALYZE {prefix}workflow_status")
    _insert_rows(url, "fresh", 3000, "plans.fresh")  # 9,000 queued in all: 1.5 x what was
    statistics = QueuedRowStatistics(connections)
    assert not statistics.refresh_if_outgrown(["plans.known"])
    assert statistics.refresh_if_outgrown(["plans.known", "plans.fresh"])
    assert not statistics.refresh_if_outgrown(["plans.known", "plans.fresh"])


def test_one_process_refreshes_at_a_time(
    connections: Connections, system_database_url: str
) -> None:
    """Another process holding the turn (the advisory lock): this one skips its refresh."""
    import psycopg

    _stale_statistics(system_database_url)
    statistics = QueuedRowStatistics(connections)
    with psycopg.connect(admin_conninfo(system_database_url), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        assert not statistics.refresh_if_outgrown([_QUEUE])
        assert statistics.refreshes == 0
        other.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    assert statistics.refresh_if_outgrown([_QUEUE])
    assert statistics.refreshes == 1


def test_each_queues_first_claim_is_checked_at_once(
    connections: Connections, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check of one queue (the internal queue's first claim, at launch) does not put off
    another queue's first check by the spacing between checks: its backlog may be stale from
    the start. A queue checked recently is not checked again before the spacing has passed."""
    statistics = QueuedRowStatistics(connections)
    checked: list[list[str]] = []
    release = threading.Event()

    def check(queues: list[str]) -> bool:
        checked.append(queues)
        release.wait(10)  # the first check is still under way when the next claims come
        return False

    monkeypatch.setattr(statistics, "refresh_if_outgrown", check)
    statistics.claimed("internal")
    deadline = time.monotonic() + 10
    while not checked and time.monotonic() < deadline:
        time.sleep(0.005)
    statistics.claimed("backlog")
    statistics.claimed("internal")  # checked a moment ago: not again
    release.set()
    while len(checked) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)  # (a third check would come now)
    assert checked == [["internal"], ["backlog"]]


@DBOS.workflow(name="plans.workflow")
def plans_workflow() -> None:
    pass


def test_the_dispatchers_first_claim_refreshes_the_statistics(system_database_url: str) -> None:
    """The backlog is there before the worker starts: its first claim has the check run."""
    from dbos._db.setup import SchemaSetup

    queue = _SERVED.name
    connections = Connections(normalize_url(system_database_url))
    SchemaSetup(connections).initialize()
    connections.dispose()
    _stale_statistics(system_database_url, queue)
    DBOS.destroy()
    DBOS(config={"name": "plans", "system_database_url": system_database_url})
    DBOS.listen_queues([queue])
    DBOS.launch()
    try:
        statistics = get_runtime().sysdb.queue_statistics
        deadline = time.monotonic() + 20
        while statistics.refreshes == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert statistics.refreshes == 1
        believed = query_system_sql(
            system_database_url,
            "SELECT reltuples FROM pg_class WHERE relname = 'workflow_status_enqueued_index'",
        )
        assert float(believed[0][0]) >= _HOT  # what the queue held when it was analyzed
    finally:
        DBOS.destroy()


def test_a_flush_of_outcomes_finds_its_rows_by_id_whatever_is_running(
    connections: Connections, system_database_url: str
) -> None:
    """Statistics taken while nothing ran, then 2,000 running workflows: a flush of 200
    outcomes reads its 200 rows, not 200 x 2,000 comparisons."""
    url = system_database_url
    _no_autovacuum(url)
    _insert_rows(url, "history", 20_000, "plans.history")
    run_system_sql(url, "UPDATE {prefix}workflow_status SET status = 'SUCCESS'")
    run_system_sql(url, "ANALYZE {prefix}workflow_status")
    _insert_rows(url, "running", 2000)
    run_system_sql(
        url,
        "UPDATE {prefix}workflow_status SET status = 'PENDING', executor_id = 'local', "
        "owner_xid = 'owner-' || workflow_uuid WHERE queue_partition_key = 'running'",
    )
    ids = [f"running-{i}" for i in range(0, 2000, 10)]
    params = {
        "workflow_uuid": ids,
        "owner_xid": [f"owner-{i}" for i in ids],
        "status": ["SUCCESS"] * len(ids),
        "output": ["null"] * len(ids),
        "error": [None] * len(ids),
        "now": [1] * len(ids),
    }
    plan = _plan_root(
        connections.fetchall_once(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + connections.sql.COMPLETE_WORKFLOWS, params
        )[0][0]
    )
    assert _rows_read(plan) < 50_000, _rows_read(plan)
    assert _running(url) == 2000 - len(ids)

"""Queues registered at run time: register / retrieve / list / delete on DBOS and DBOSClient
(sync and async), settings read and changed in the database, enqueue_workflow by function or
name, the queues table followed by every dispatcher, and the bad input refused before anything
is written."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest
from conftest import query_system_sql, run_system_sql

from dbos import DBOS, DBOSClient, Queue, SetWorkflowID
from dbos.error import DBOSException

pytestmark = pytest.mark.through_pgbouncer


@DBOS.workflow()
def reg_echo(value: str) -> str:
    return value


@DBOS.workflow(name="registered_queues.named")
def named(value: int) -> int:
    return value * 2


@pytest.fixture
def client(dbos: None, system_database_url: str) -> Iterator[DBOSClient]:
    c = DBOSClient(system_database_url=system_database_url)
    yield c
    c.destroy()


def _workflow_count(url: str) -> int:
    return int(query_system_sql(url, "SELECT count(*) FROM {prefix}workflow_status")[0][0])


# ------------------------------------------------------------------ register, retrieve, list


def test_register_retrieve_list_delete(dbos: None) -> None:
    assert DBOS.retrieve_queue("reg.crud") is None
    assert DBOS.list_queues() == []
    queue = DBOS.register_queue(
        "reg.crud",
        global_concurrency=10,
        worker_concurrency=2,
        limiter={"limit": 5, "period": 1.5},
        partition_concurrency=4,
        partition_worker_concurrency=2,
        partition_limiter={"limit": 3, "period": 1.0},
        polling_interval_sec=2.5,
    )
    assert queue.name == "reg.crud" and queue.database_backed_queue
    for q in (queue, DBOS.retrieve_queue("reg.crud"), DBOS.list_queues()[0]):
        assert q is not None
        assert q.global_concurrency == 10 and q.concurrency == 10
        assert q.worker_concurrency == 2
        assert q.limiter == {"limit": 5, "period": 1.5}
        assert q.partition_concurrency == 4
        assert q.partition_worker_concurrency == 2
        assert q.partition_limiter == {"limit": 3, "period": 1.0}
        assert q.partition_queue is True
        assert q.polling_interval_sec == 2.5
    assert [q.name for q in DBOS.list_queues()] == ["reg.crud"]
    DBOS.delete_queue("reg.crud")
    assert DBOS.retrieve_queue("reg.crud") is None
    DBOS.delete_queue("reg.crud")  # a queue that is not there: nothing to do


def test_declared_queues_are_recorded_but_not_listed(dbos: None, system_database_url: str) -> None:
    declared = Queue("reg.declared_late", worker_concurrency=3)
    assert declared.database_backed_queue is False
    # Recorded (clients and the admin tools see it) ...
    rows = query_system_sql(
        system_database_url,
        "SELECT worker_concurrency, declared_in_code FROM {prefix}queues "
        "WHERE name = 'reg.declared_late'",
    )
    assert [(r[0], bool(r[1])) for r in rows] == [(3, True)]
    # ... but its settings are its code's: not a registered queue.
    assert DBOS.retrieve_queue("reg.declared_late") is None
    assert "reg.declared_late" not in [q.name for q in DBOS.list_queues()]
    with pytest.raises(DBOSException, match="declared in code"):
        declared.set_worker_concurrency(4)
    with pytest.raises(DBOSException, match="declared in code"):
        DBOS.delete_queue("reg.declared_late")


def test_registration_conflicts(dbos: None, client: DBOSClient) -> None:
    DBOS.register_queue("reg.conflict", worker_concurrency=2)
    # never_update keeps the row; always_update replaces it.
    assert DBOS.register_queue("reg.conflict", worker_concurrency=5, on_conflict="never_update")
    queue = DBOS.retrieve_queue("reg.conflict")
    assert queue is not None and queue.worker_concurrency == 2
    DBOS.register_queue("reg.conflict", worker_concurrency=5, on_conflict="always_update")
    assert queue.worker_concurrency == 5
    # The default: this process runs the latest version (it launched last), so it updates.
    DBOS.register_queue("reg.conflict", worker_concurrency=6)
    assert queue.worker_concurrency == 6
    # A client has no application version; its default is always_update.
    with pytest.raises(DBOSException, match="update_if_latest_version"):
        client.register_queue("reg.conflict", on_conflict="update_if_latest_version")
    client.register_queue("reg.conflict", worker_concurrency=1)
    assert queue.worker_concurrency == 1
    with pytest.raises(DBOSException, match="on_conflict"):
        DBOS.register_queue("reg.conflict", on_conflict="sometimes")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"concurrency": 1, "global_concurrency": 1}, "only one of them"),
        ({"partition_queue": True, "partition_concurrency": 1}, "only one of them"),
        ({"global_concurrency": 5, "partition_queue": True}, "global_concurrency"),
        ({"global_concurrency": 1, "partition_concurrency": 2}, "greater than or equal"),
        ({"worker_concurrency": 1, "partition_worker_concurrency": 2}, "greater than or equal"),
        ({"partition_concurrency": 0}, "at least 1"),
        ({"partition_limiter": {"limit": 1}}, "both 'limit' and 'period'"),
        ({"worker_concurrency": "3"}, "must be an int"),
        ({"polling_interval_sec": 0}, "positive"),
    ],
)
def test_bad_settings_are_refused_before_anything_is_written(
    dbos: None, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        DBOS.register_queue("reg.bad", **kwargs)  # type: ignore[arg-type]
    assert DBOS.retrieve_queue("reg.bad") is None
    with pytest.raises((ValueError, TypeError), match=message):
        Queue("reg.bad_declared", **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------ settings


def test_setters_write_the_database_and_validate(dbos: None) -> None:
    queue = DBOS.register_queue("reg.dyn", concurrency=4, worker_concurrency=2)
    stale = DBOS.retrieve_queue("reg.dyn")
    assert stale is not None
    queue.set_global_concurrency(8)
    queue.set_worker_concurrency(3)
    queue.set_limiter({"limit": 7, "period": 2.0})
    queue.set_partition_concurrency(6)
    queue.set_partition_worker_concurrency(2)
    queue.set_polling_interval_sec(0.5)
    fresh = DBOS.retrieve_queue("reg.dyn")
    assert fresh is not None
    assert (fresh.global_concurrency, fresh.worker_concurrency) == (8, 3)
    assert fresh.limiter == {"limit": 7, "period": 2.0}
    assert (fresh.partition_concurrency, fresh.partition_worker_concurrency) == (6, 2)
    assert fresh.partition_queue is True and fresh.polling_interval_sec == 0.5
    # A setter checks against the row as it is now, not this object's earlier copy.
    with pytest.raises(ValueError, match="greater than or equal to worker_concurrency"):
        stale.set_concurrency(2)
    with pytest.raises(ValueError, match="at least 1"):
        queue.set_partition_concurrency(0)
    with pytest.raises(ValueError, match="positive"):
        queue.set_polling_interval_sec(0.0)
    assert queue.global_concurrency == 8  # the refused writes changed nothing
    # Clearing the last partition limit un-partitions the queue.
    queue.set_partition_concurrency(None)
    assert queue.partition_queue is True
    queue.set_partition_worker_concurrency(None)
    assert queue.partition_queue is False
    # A setter on a queue deleted meanwhile says so.
    DBOS.delete_queue("reg.dyn")
    with pytest.raises(DBOSException, match="not found"):
        queue.set_worker_concurrency(1)


def test_legacy_partition_queue_applies_every_limit_per_partition(dbos: None) -> None:
    legacy = DBOS.register_queue(
        "reg.legacy",
        partition_queue=True,
        concurrency=2,
        worker_concurrency=1,
        limiter={"limit": 7, "period": 2.0},
    )
    assert legacy.partition_concurrency == 2
    assert legacy.partition_worker_concurrency == 1
    assert legacy.partition_limiter == {"limit": 7, "period": 2.0}
    assert (legacy.global_concurrency, legacy.worker_concurrency, legacy.limiter) == (
        None,
        None,
        None,
    )
    for setter, value in (
        (legacy.set_global_concurrency, 5),
        (legacy.set_worker_concurrency, None),
        (legacy.set_limiter, None),
        (legacy.set_partition_concurrency, 1),
    ):
        with pytest.raises(DBOSException, match="deprecated partition_queue"):
            setter(value)  # type: ignore[operator]
    assert legacy.partition_worker_concurrency == 1


def test_async_variants(dbos: None) -> None:
    asyncio.run(_async_variants())


async def _async_variants() -> None:
    queue = await DBOS.register_queue_async("reg.async", worker_concurrency=2)
    assert await queue.get_worker_concurrency_async() == 2
    await queue.set_worker_concurrency_async(3)
    fresh = await DBOS.retrieve_queue_async("reg.async")
    assert fresh is not None and await fresh.get_worker_concurrency_async() == 3
    assert [q.name for q in await DBOS.list_queues_async()] == ["reg.async"]
    # The sync calls block on the database: from a running event loop they raise.
    for call in (
        lambda: DBOS.register_queue("reg.async"),
        lambda: DBOS.retrieve_queue("reg.async"),
        lambda: DBOS.list_queues(),
        lambda: DBOS.delete_queue("reg.async"),
    ):
        with pytest.raises(RuntimeError, match="_async"):
            call()
    handle = await DBOS.enqueue_workflow_async("reg.async", reg_echo, "async")
    assert await handle.get_result() == "async"
    await DBOS.delete_queue_async("reg.async")
    assert await DBOS.retrieve_queue_async("reg.async") is None


# ------------------------------------------------------------------ enqueue


def test_enqueue_workflow_by_function_or_name(dbos: None) -> None:
    DBOS.register_queue("reg.work")
    with SetWorkflowID("reg-by-function"):
        handle = DBOS.enqueue_workflow("reg.work", reg_echo, "x")
    assert handle.workflow_id == "reg-by-function" and handle.get_result() == "x"
    assert handle.get_status().queue_name == "reg.work"
    assert DBOS.enqueue_workflow("reg.work", "registered_queues.named", 21).get_result() == 42
    # A declared queue works by name too.
    Queue("reg.declared_for_enqueue")
    assert DBOS.enqueue_workflow("reg.declared_for_enqueue", reg_echo, "d").get_result() == "d"


def test_unknown_queue_or_workflow_is_refused_before_anything_is_written(
    dbos: None, system_database_url: str
) -> None:
    before = _workflow_count(system_database_url)
    with pytest.raises(DBOSException, match="No queue named 'reg.nowhere'"):
        DBOS.enqueue_workflow("reg.nowhere", reg_echo, "x")
    DBOS.register_queue("reg.somewhere")
    with pytest.raises(DBOSException, match="No workflow named 'no.such.workflow'"):
        DBOS.enqueue_workflow("reg.somewhere", "no.such.workflow", 1)
    with pytest.raises(TypeError):
        DBOS.enqueue_workflow("reg.somewhere", reg_echo, "x", "too many")
    assert _workflow_count(system_database_url) == before


@DBOS.workflow()
def enqueues_on_registered(value: str) -> str:
    return DBOS.enqueue_workflow("reg.child", reg_echo, value).get_result()


def test_enqueue_from_a_workflow_is_recorded(dbos: None) -> None:
    DBOS.register_queue("reg.child")
    with SetWorkflowID("reg-parent"):
        assert enqueues_on_registered("kid") == "kid"
    steps = DBOS.list_workflow_steps("reg-parent")
    assert steps[0]["child_workflow_id"] == "reg-parent-1"
    # A fork past the enqueue replays it: no second child, even with the queue gone.
    DBOS.delete_queue("reg.child")
    forked = DBOS.fork_workflow("reg-parent", 3)
    assert forked.get_result() == "kid"


# ------------------------------------------------------------------ every process follows


def test_a_queue_registered_elsewhere_is_served_here(
    dbos: None, client: DBOSClient, system_database_url: str
) -> None:
    # A client (another process, as far as the dispatcher knows) registers; this one serves.
    client.register_queue("reg.from_client", worker_concurrency=2)
    handle = client.enqueue(
        {"queue_name": "reg.from_client", "workflow_name": reg_echo.__qualname__}, "c"
    )
    assert handle.get_result() == "c"
    # A row written behind the runtime's back (no wake-up here) is read within a second.
    run_system_sql(
        system_database_url,
        "INSERT INTO {prefix}queues (name, polling_interval_sec, created_at, updated_at) "
        "VALUES ('reg.from_sql', 0.1, 0, 0)",
    )
    started = time.monotonic()
    handle = client.enqueue(
        {"queue_name": "reg.from_sql", "workflow_name": reg_echo.__qualname__}, "s"
    )
    assert handle.get_result() == "s"
    assert time.monotonic() - started < 5


gauge_lock = threading.Lock()
running_now = 0
starts: list[tuple[float, int]] = []


@DBOS.step()
def reg_occupy(seconds: float) -> None:
    global running_now
    with gauge_lock:
        running_now += 1
        starts.append((time.monotonic(), running_now))
    try:
        time.sleep(seconds)
    finally:
        with gauge_lock:
            running_now -= 1


@DBOS.workflow()
def reg_busy(seconds: float) -> None:
    reg_occupy(seconds)


def test_a_limit_changed_while_draining_loses_nothing_and_holds(dbos: None) -> None:
    queue = DBOS.register_queue("reg.drain", worker_concurrency=6)
    starts.clear()
    handles = [DBOS.enqueue_workflow("reg.drain", reg_busy, 0.05) for _ in range(60)]
    while len(starts) < 12:
        time.sleep(0.01)
    queue.set_worker_concurrency(2)
    changed = time.monotonic()
    for handle in handles:
        handle.get_result()
    assert all(h.get_status().status == "SUCCESS" for h in handles)
    # Workflows started before the change had up to 6 slots; once the change applied (a
    # start after one body's length past it), no start sees more than 2 running.
    later = [n for t, n in starts if t > changed + 0.2]
    assert later and max(later) <= 2
    assert max(n for _, n in starts) <= 6


# ------------------------------------------------------------------ delete


def test_delete_refuses_a_queue_with_work_unless_forced(
    dbos: None, system_database_url: str
) -> None:
    from dbos import SetEnqueueOptions

    DBOS.register_queue("reg.busy")
    with SetEnqueueOptions(delay_seconds=3600):
        parked = [DBOS.enqueue_workflow("reg.busy", reg_echo, str(i)) for i in range(3)]
    with pytest.raises(DBOSException, match=r"still holds 3 workflows \(3 DELAYED\)"):
        DBOS.delete_queue("reg.busy")
    assert DBOS.retrieve_queue("reg.busy") is not None
    DBOS.delete_queue("reg.busy", force=True)
    assert DBOS.retrieve_queue("reg.busy") is None
    assert {h.get_status().status for h in parked} == {"CANCELLED"}


def test_client_variants(client: DBOSClient) -> None:
    queue = client.register_queue("reg.client", concurrency=4, worker_concurrency=2)
    assert queue.concurrency == 4
    queue.set_concurrency(8)
    dbos_view = DBOS.retrieve_queue("reg.client")
    assert dbos_view is not None and dbos_view.concurrency == 8
    assert [q.name for q in client.list_queues()] == ["reg.client"]
    with pytest.raises(DBOSException, match="client-bound"):
        queue.enqueue(reg_echo, "x")

    async def run_async() -> None:
        again = await client.retrieve_queue_async("reg.client")
        assert again is not None and await again.get_concurrency_async() == 8
        await client.delete_queue_async("reg.client")
        assert await client.list_queues_async() == []

    asyncio.run(run_async())

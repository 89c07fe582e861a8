"""Enqueueing from options and the rules enqueues obey: `DBOS.enqueue_workflow_with_options`
(+ async; by name, a workflow other processes implement, the caller's context as fallback,
recorded as a child inside a workflow), `duplication_policy="return-existing"` on every way of
enqueueing, `set_workflow_delay` (DBOS and client), enqueue options refused on a workflow that
is not enqueued, conflicting reuse of a workflow ID, and a queue declared once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest
from conftest import query_system_sql

from dbos import (
    DBOS,
    DBOSClient,
    DBOSConfiguredInstance,
    EnqueueOptions,
    Queue,
    SetEnqueueOptions,
    SetWorkflowAttributes,
    SetWorkflowID,
    SetWorkflowTimeout,
    WorkflowSerializationFormat,
)
from dbos.error import DBOSException, DBOSQueueDeduplicatedError

pytestmark = pytest.mark.through_pgbouncer

gate = threading.Event()


@DBOS.workflow(name="options.add")
def add(x: int, y: int = 0) -> int:
    return x + y


@DBOS.workflow(name="options.gated")
def gated(value: str) -> str:
    gate.wait(30)
    return f"{value}-done"


@DBOS.workflow(name="options.parent")
def parent(x: int) -> int:
    options: EnqueueOptions = {"workflow_name": "options.add", "queue_name": "opt.q"}
    first = DBOS.enqueue_workflow_with_options(options, x)
    second = DBOS.enqueue_workflow_with_options(options, x, y=10)
    return int(first.get_result()) + int(second.get_result())


@DBOS.workflow(name="options.attach_parent")
def attach_parent(dedup: str) -> str:
    with SetEnqueueOptions(deduplication_id=dedup, duplication_policy="return-existing"):
        handle = DBOS.enqueue_workflow("opt.q", gated, "from-parent")
    return handle.workflow_id


@DBOS.workflow(name="options.refused_parent")
def refused_parent(dedup: str) -> str:
    handle = DBOS.enqueue_workflow_with_options(
        {"workflow_name": "options.add", "queue_name": "opt.q", "deduplication_id": dedup}, 1
    )
    return handle.workflow_id


@DBOS.workflow(name="options.delay_setter")
def delay_setter(target: str) -> None:
    DBOS.set_workflow_delay(target, delay_seconds=0.2)


@DBOS.workflow(name="options.async_parent")
async def async_parent(x: int) -> int:
    handle = await DBOS.enqueue_workflow_with_options_async(
        {"workflow_name": "options.add", "queue_name": "opt.q"}, x, 1
    )
    return int(await handle.get_result())


@DBOS.dbos_class()
class Greeter(DBOSConfiguredInstance):
    def __init__(self, config_name: str) -> None:
        super().__init__(config_name)

    @DBOS.workflow(name="options.greet")
    def greet(self, who: str) -> str:
        return f"{self.config_name}:{who}"


greeter_a = Greeter("a")
greeter_b = Greeter("b")


@pytest.fixture
def queue(dbos: None) -> Iterator[str]:
    gate.clear()
    DBOS.register_queue("opt.q", polling_interval_sec=0.1)
    yield "opt.q"
    gate.set()


@pytest.fixture
def client(dbos: None, system_database_url: str) -> Iterator[DBOSClient]:
    c = DBOSClient(system_database_url=system_database_url)
    yield c
    c.destroy()


def _count(url: str) -> int:
    return int(query_system_sql(url, "SELECT count(*) FROM {prefix}workflow_status")[0][0])


# ------------------------------------------------------------------ enqueue_workflow_with_options


def test_enqueue_with_options_by_name(queue: str) -> None:
    handle = DBOS.enqueue_workflow_with_options(
        {"workflow_name": "options.add", "queue_name": queue}, 5, y=3
    )
    assert handle.get_result() == 8
    status = handle.get_status()
    assert (status.name, status.queue_name) == ("options.add", queue)
    # Unpinned (see below), it took the version of the process that dequeued it.
    assert status.app_version == DBOS.application_version


def test_a_workflow_only_other_processes_implement_is_accepted(queue: str) -> None:
    handle = DBOS.enqueue_workflow_with_options(
        {"workflow_name": "implemented.elsewhere", "queue_name": queue, "delay_seconds": 3600},
        1,
    )
    status = handle.get_status()
    # Another process may run it, in any version: the row names none unless asked.
    assert (status.status, status.name, status.app_version) == (
        "DELAYED",
        "implemented.elsewhere",
        None,
    )
    DBOS.cancel_workflow(handle.workflow_id)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workflow_name": "options.add", "queue_name": "opt.nowhere"}, "No queue named"),
        ({"queue_name": "opt.q"}, "workflow_name"),
        ({"workflow_name": "options.add", "queue_name": "opt.q", "bogus": 1}, "bogus"),
        ({"workflow_name": "options.add", "queue_name": "opt.q", "priority": 0}, "priority"),
        ({"workflow_name": "options.add", "queue_name": "opt.q", "workflow_id": "  "}, "Invalid"),
        (
            {"workflow_name": "options.add", "queue_name": "opt.q", "workflow_timeout": 0},
            "workflow_timeout",
        ),
        (
            {"workflow_name": "options.add", "queue_name": "opt.q", "delay_seconds": -1},
            "delay_seconds",
        ),
        (
            {
                "workflow_name": "options.add",
                "queue_name": "opt.q",
                "duplication_policy": "return-existing",
            },
            "requires a deduplication_id",
        ),
        (
            {"workflow_name": "options.add", "queue_name": "opt.q", "duplication_policy": "x"},
            "Invalid duplication_policy",
        ),
        (
            {
                "workflow_name": "options.add",
                "queue_name": "opt.q",
                "queue_partition_key": "k",
                "deduplication_id": "d",
            },
            "Deduplication is not supported",
        ),
    ],
)
def test_bad_options_are_refused_before_anything_is_written(
    queue: str, system_database_url: str, options: dict[str, object], message: str
) -> None:
    before = _count(system_database_url)
    with pytest.raises(DBOSException, match=message):
        DBOS.enqueue_workflow_with_options(options, 1)  # type: ignore[arg-type]
    assert _count(system_database_url) == before


def test_options_fall_back_on_the_callers_context(queue: str) -> None:
    with SetWorkflowID("opt-ambient"), SetEnqueueOptions(app_version="elsewhere"):
        handle = DBOS.enqueue_workflow_with_options(
            {"workflow_name": "options.add", "queue_name": queue}, 1
        )
    status = handle.get_status()
    assert handle.workflow_id == "opt-ambient"
    # No process of that version: it waits.
    assert (status.app_version, status.status) == ("elsewhere", "ENQUEUED")
    DBOS.cancel_workflow("opt-ambient")

    options: EnqueueOptions = {"workflow_name": "options.add", "queue_name": queue}
    options["deduplication_id"] = None  # type: ignore[typeddict-item]  # None counts as unset
    with SetWorkflowAttributes({"ambient": "a", "both": "ambient"}):
        with SetEnqueueOptions(deduplication_id="opt-dedup", priority=5, delay_seconds=3600):
            parked = DBOS.enqueue_workflow_with_options(
                {**options, "attributes": {"both": "explicit"}}, 2
            )
    status = parked.get_status()
    assert (status.status, status.deduplication_id, status.priority) == (
        "DELAYED",
        "opt-dedup",
        5,
    )
    assert status.attributes == {"ambient": "a", "both": "explicit"}
    DBOS.cancel_workflow(parked.workflow_id)

    # An explicit option wins over the context's; a timeout counts from the dequeue.
    with SetEnqueueOptions(app_version="elsewhere"), SetWorkflowTimeout(30):
        explicit = DBOS.enqueue_workflow_with_options(
            {**options, "app_version": DBOS.application_version}, 3
        )
    assert explicit.get_result() == 3
    assert explicit.get_status().workflow_timeout_ms == 30000


def test_inside_a_workflow_each_enqueue_is_a_recorded_child(queue: str) -> None:
    with SetWorkflowTimeout(300), SetWorkflowID("opt-parent"):
        assert parent(1) == 1 + 11
    steps = DBOS.list_workflow_steps("opt-parent")
    assert [(s["function_id"], s["function_name"], s["child_workflow_id"]) for s in steps[:2]] == [
        (1, "options.add", "opt-parent-1"),
        (2, "options.add", "opt-parent-2"),
    ]
    parent_status = DBOS.get_workflow_status("opt-parent")
    assert parent_status is not None and parent_status.workflow_deadline_epoch_ms is not None
    for child_id in ("opt-parent-1", "opt-parent-2"):
        child = DBOS.get_workflow_status(child_id)
        assert child is not None and child.parent_workflow_id == "opt-parent"
        # The children run under the parent's deadline, not unbounded.
        assert child.workflow_deadline_epoch_ms == parent_status.workflow_deadline_epoch_ms


def test_a_refused_duplicate_is_recorded_and_replayed_not_retried(queue: str) -> None:
    holder = DBOS.enqueue_workflow_with_options(
        {
            "workflow_name": "options.add",
            "queue_name": queue,
            "deduplication_id": "opt-held",
            "delay_seconds": 3600,
        },
        1,
    )
    with SetWorkflowID("opt-refused"), pytest.raises(DBOSQueueDeduplicatedError):
        refused_parent("opt-held")
    steps = DBOS.list_workflow_steps("opt-refused")
    assert len(steps) == 1 and steps[0]["error"] is not None
    assert steps[0]["child_workflow_id"] is None
    # The key is free now, yet a replay raises the recorded error instead of enqueueing.
    DBOS.cancel_workflow(holder.workflow_id)
    DBOS.resume_workflow("opt-refused")
    with pytest.raises(DBOSQueueDeduplicatedError):
        DBOS.retrieve_workflow("opt-refused").get_result()
    assert DBOS.list_workflows(workflow_id_prefix="opt-refused-") == []


@pytest.mark.asyncio
async def test_enqueue_with_options_async(queue: str) -> None:
    with SetWorkflowID("opt-async"):
        assert await async_parent(4) == 5
    steps = await DBOS.list_workflow_steps_async("opt-async")
    assert (steps[0]["function_name"], steps[0]["child_workflow_id"]) == (
        "options.add",
        "opt-async-1",
    )
    handle = await DBOS.enqueue_workflow_with_options_async(
        {"workflow_name": "options.add", "queue_name": queue}, 20, 1
    )
    assert await handle.get_result() == 21


def test_a_client_enqueues_the_same_row(
    queue: str, client: DBOSClient, system_database_url: str
) -> None:
    handle = client.enqueue(
        {
            "workflow_name": "options.add",
            "queue_name": queue,
            "authenticated_user": "alice",
            "authenticated_roles": ["admin"],
            "attributes": {"k": "v"},
        },
        2,
        3,
    )
    assert handle.get_result() == 5
    status = handle.get_status()
    assert (status.authenticated_user, status.attributes) == ("alice", {"k": "v"})
    with pytest.raises(DBOSException, match="Invalid priority"):
        client.enqueue({"workflow_name": "options.add", "queue_name": queue, "priority": 0})
    # Arguments in the portable format, for a worker in any language: read back here too.
    portable = client.enqueue(
        {
            "workflow_name": "options.add",
            "queue_name": queue,
            "serialization_type": WorkflowSerializationFormat.PORTABLE,
        },
        5,
        y=6,
    )
    assert portable.get_result() == 11
    assert query_system_sql(
        system_database_url,
        "SELECT serialization FROM {prefix}workflow_status "
        f"WHERE workflow_uuid = '{portable.workflow_id}'",
    ) == [("portable_json",)]
    # A partitioned queue needs a key; on one that is not, a key is the seed's spelling (one
    # at a time per key), accepted as a client always could.
    DBOS.register_queue("opt.parts", partition_concurrency=1)
    with pytest.raises(DBOSException, match="without a partition key"):
        client.enqueue({"workflow_name": "options.add", "queue_name": "opt.parts"}, 1)
    keyed = client.enqueue(
        {"workflow_name": "options.add", "queue_name": queue, "queue_partition_key": "k"}, 4
    )
    assert keyed.get_result() == 4


# ------------------------------------------------------------------ duplication_policy


def test_return_existing_attaches_to_the_holder(queue: str, client: DBOSClient) -> None:
    with SetEnqueueOptions(deduplication_id="opt-d1", duplication_policy="return-existing"):
        first = DBOS.enqueue_workflow(queue, gated, "first")
        second = DBOS.enqueue_workflow(queue, gated, "second")
    options: EnqueueOptions = {
        "workflow_name": "options.gated",
        "queue_name": queue,
        "deduplication_id": "opt-d1",
        "duplication_policy": "return-existing",
    }
    third = DBOS.enqueue_workflow_with_options(options, "third")
    fourth = client.enqueue(options, "fourth")
    assert first.workflow_id == second.workflow_id == third.workflow_id == fourth.workflow_id
    # The default policy still refuses.
    with SetEnqueueOptions(deduplication_id="opt-d1"), pytest.raises(DBOSQueueDeduplicatedError):
        DBOS.enqueue_workflow(queue, gated, "refused")
    gate.set()
    assert fourth.get_result() == "first-done"
    # Released when it finished: the next enqueue starts a new workflow.
    with SetEnqueueOptions(deduplication_id="opt-d1", duplication_policy="return-existing"):
        fresh = DBOS.enqueue_workflow(queue, gated, "fresh")
    assert fresh.workflow_id != first.workflow_id and fresh.get_result() == "fresh-done"


def test_return_existing_in_a_workflow_records_the_holder(queue: str) -> None:
    with SetEnqueueOptions(deduplication_id="opt-d2", duplication_policy="return-existing"):
        holder = DBOS.enqueue_workflow(queue, gated, "holder")
    with SetWorkflowID("opt-attach"):
        assert attach_parent("opt-d2") == holder.workflow_id
    steps = DBOS.list_workflow_steps("opt-attach")
    assert [(s["child_workflow_id"], s["error"]) for s in steps] == [(holder.workflow_id, None)]
    gate.set()
    assert holder.get_result() == "holder-done"
    # The key is free now; a replay (a fork past step 1) still returns the workflow it
    # attached to, instead of enqueueing a new one.
    forked = DBOS.fork_workflow("opt-attach", 2)
    assert forked.get_result() == holder.workflow_id
    assert len(DBOS.list_workflows(name="options.gated")) == 1


def test_return_existing_needs_a_queue_and_a_deduplication_id(
    queue: str, system_database_url: str
) -> None:
    before = _count(system_database_url)
    with pytest.raises(DBOSException, match="requires a queue"):
        with SetEnqueueOptions(duplication_policy="return-existing"):
            DBOS.start_workflow(add, 1)
    with pytest.raises(DBOSException, match="requires a deduplication_id"):
        with SetEnqueueOptions(duplication_policy="return-existing"):
            DBOS.enqueue_workflow(queue, add, 1)
    with pytest.raises(DBOSException, match="Invalid duplication_policy"):
        SetEnqueueOptions(duplication_policy="sometimes")  # type: ignore[arg-type]
    assert _count(system_database_url) == before
    with SetEnqueueOptions(duplication_policy="reject"):  # the default: fine anywhere
        assert DBOS.start_workflow(add, 1).get_result() == 1


@pytest.mark.asyncio
async def test_return_existing_async(queue: str) -> None:
    with SetEnqueueOptions(deduplication_id="opt-d3", duplication_policy="return-existing"):
        first = await DBOS.enqueue_workflow_async(queue, gated, "a")
        second = await DBOS.enqueue_workflow_async(queue, gated, "b")
    assert first.workflow_id == second.workflow_id
    gate.set()
    assert await second.get_result() == "a-done"


# ------------------------------------------------------------------ options without a queue


@pytest.mark.asyncio
async def test_enqueue_options_on_a_started_workflow_are_refused(
    queue: str, system_database_url: str
) -> None:
    before = _count(system_database_url)
    for option in (
        {"deduplication_id": "x"},
        {"priority": 5},
        {"queue_partition_key": "k"},
        {"delay_seconds": 30.0},
    ):
        with pytest.raises(DBOSException, match=f"{next(iter(option))}.*not being enqueued"):
            with SetEnqueueOptions(**option):  # type: ignore[arg-type]
                DBOS.start_workflow(add, 1)
        with pytest.raises(DBOSException, match="not being enqueued"):
            with SetEnqueueOptions(**option):  # type: ignore[arg-type]
                await DBOS.start_workflow_async(add, 1)
    assert _count(system_database_url) == before
    # The version stays allowed: it decides who may recover the workflow.
    with SetEnqueueOptions(app_version="pinned"), SetWorkflowID("opt-pinned"):
        DBOS.start_workflow(add, 1)
    pinned = await DBOS.get_workflow_status_async("opt-pinned")  # sync on a loop is refused
    assert pinned is not None and pinned.app_version == "pinned"


# ------------------------------------------------------------------ set_workflow_delay


def test_set_workflow_delay_moves_a_delayed_start(queue: str, client: DBOSClient) -> None:
    with SetEnqueueOptions(delay_seconds=600):
        relative = DBOS.enqueue_workflow(queue, add, 1)
        absolute = DBOS.enqueue_workflow(queue, add, 2)
        by_client = DBOS.enqueue_workflow(queue, add, 3)
    began = time.time()
    DBOS.set_workflow_delay(relative.workflow_id, delay_seconds=2)
    status = relative.get_status()
    assert status.status == "DELAYED" and status.delay_until_epoch_ms is not None
    assert status.delay_until_epoch_ms <= int((time.time() + 2) * 1000)
    soon = int((time.time() + 2) * 1000)
    DBOS.set_workflow_delay(absolute.workflow_id, delay_until_epoch_ms=soon)
    assert absolute.get_status().delay_until_epoch_ms == soon
    client.set_workflow_delay(by_client.workflow_id, delay_seconds=0.3)
    assert [h.get_result() for h in (relative, absolute, by_client)] == [1, 2, 3]
    assert time.time() - began < 60  # not the original ten minutes
    # A workflow no longer waiting is left alone.
    DBOS.set_workflow_delay(relative.workflow_id, delay_seconds=600)
    assert relative.get_status().status == "SUCCESS"


def test_set_workflow_delay_refuses_bad_input(queue: str) -> None:
    for kwargs, message in (
        ({}, "Must specify either"),
        ({"delay_seconds": 1, "delay_until_epoch_ms": 1}, "not both"),
        ({"delay_seconds": -1}, "delay_seconds must be >= 0"),
        ({"delay_until_epoch_ms": -1}, "delay_until_epoch_ms must be >= 0"),
    ):
        with pytest.raises(DBOSException, match=message):
            DBOS.set_workflow_delay("any", **kwargs)  # type: ignore[arg-type]


def test_set_workflow_delay_in_a_workflow_is_a_step(queue: str) -> None:
    with SetEnqueueOptions(delay_seconds=600):
        target = DBOS.enqueue_workflow(queue, add, 7)
    with SetWorkflowID("opt-setter"):
        delay_setter(target.workflow_id)
    assert [s["function_name"] for s in DBOS.list_workflow_steps("opt-setter")] == [
        "DBOS.setWorkflowDelay"
    ]
    assert target.get_result() == 7


@pytest.mark.asyncio
async def test_set_workflow_delay_async(queue: str, client: DBOSClient) -> None:
    with SetEnqueueOptions(delay_seconds=600):
        handle = await DBOS.enqueue_workflow_async(queue, add, 8)
    await DBOS.set_workflow_delay_async(handle.workflow_id, delay_seconds=0.1)
    assert await handle.get_result() == 8
    with SetEnqueueOptions(delay_seconds=600):
        other = await DBOS.enqueue_workflow_async(queue, add, 9)
    await client.set_workflow_delay_async(other.workflow_id, delay_seconds=0.1)
    assert await other.get_result() == 9


# ------------------------------------------------------------------ IDs and declarations


def test_a_workflow_id_reused_for_another_function_is_refused(queue: str) -> None:
    with SetWorkflowID("opt-conflict"):
        assert add(1) == 1
    with SetWorkflowID("opt-conflict"), pytest.raises(DBOSException) as info:
        DBOS.start_workflow(gated, "x")
    assert "Workflow already exists with a different function name" in str(info.value)
    with SetWorkflowID("opt-greet"):
        assert greeter_a.greet("x") == "a:x"
    with SetWorkflowID("opt-greet"), pytest.raises(DBOSException) as info:
        greeter_b.greet("x")
    assert "Workflow already exists with a different config name" in str(info.value)
    # The same workflow on another queue: its recorded run stands.
    with SetWorkflowID("opt-conflict"):
        assert DBOS.enqueue_workflow(queue, add, 1).get_result() == 1


def test_a_queue_is_declared_once_until_the_registry_is_destroyed(
    system_database_url: str,
) -> None:
    from dbos._registry import queues as declared

    module_level = declared.all_queues()
    try:
        Queue("opt.declared_once")
        with pytest.raises(ValueError, match="already been declared"):
            Queue("opt.declared_once")  # the same settings too, as upstream
        DBOS.destroy(destroy_registry=True)
        assert [q.name for q in declared.all_queues()] == [declared.INTERNAL_QUEUE]
        Queue("opt.declared_once", concurrency=2)  # forgotten: declared anew
    finally:
        DBOS.destroy(destroy_registry=True)
        for spec in module_level:  # the other test modules' queues
            if spec.name != declared.INTERNAL_QUEUE:
                declared.register_queue(spec)


def test_an_enqueued_child_inherits_its_parents_deadline(queue: str) -> None:
    @DBOS.workflow(name="options.deadline_parent")
    def deadline_parent() -> str:
        with SetEnqueueOptions(delay_seconds=3600):
            return DBOS.enqueue_workflow(queue, add, 1).workflow_id

    with SetWorkflowTimeout(120):
        child_id = deadline_parent()
    child = DBOS.get_workflow_status(child_id)
    assert child is not None and child.workflow_deadline_epoch_ms is not None
    assert child.workflow_deadline_epoch_ms <= int((time.time() + 121) * 1000)
    DBOS.cancel_workflow(child_id)


def test_async_start_helpers_do_not_block(queue: str) -> None:
    """The async variants keep the event loop free while they write."""

    async def main() -> list[int]:
        handles = await asyncio.gather(
            *(
                DBOS.enqueue_workflow_with_options_async(
                    {"workflow_name": "options.add", "queue_name": queue, "workflow_id": f"g{i}"},
                    i,
                )
                for i in range(5)
            )
        )
        return [int(await h.get_result()) for h in handles]

    assert asyncio.run(main()) == [0, 1, 2, 3, 4]

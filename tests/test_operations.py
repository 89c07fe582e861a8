"""Management operations defined once and served four ways: `DBOS` and `DBOSClient`, sync and
async. The async variants do their database work off the event loop; inside a workflow each call
is a step, numbered when it is made (so calls gathered concurrently replay in the same order)."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from dbos import DBOS, DBOSClient, Queue, SetWorkflowID
from dbos.error import (
    DBOSAwaitedWorkflowCancelledError,
    DBOSException,
    DBOSNonExistentWorkflowError,
)

ops_queue = Queue("test_operations.queue")
ops_gate = threading.Event()


@DBOS.step()
def ops_double(x: int) -> int:
    return 2 * x


@DBOS.workflow()
def ops_doubler(x: int) -> int:
    return ops_double(x) + ops_double(x)


@DBOS.step()
def ops_wait_for_gate() -> None:
    ops_gate.wait(30)


@DBOS.workflow()
def ops_gated(x: int) -> int:
    ops_wait_for_gate()
    return ops_double(x)


@DBOS.workflow()
async def ops_inspector(target: str) -> list[str]:
    """Reads another workflow's record with two concurrent async calls."""
    status, steps = await asyncio.gather(
        DBOS.get_workflow_status_async(target),
        DBOS.list_workflow_steps_async(target),
    )
    assert status is not None
    return [status.status, *(s["function_name"] for s in steps)]


@pytest.fixture(autouse=True)
def _open_gate() -> object:
    ops_gate.clear()
    yield None
    ops_gate.set()


def test_async_variants_do_what_the_sync_ones_do(dbos: None) -> None:
    async def main() -> None:
        with SetWorkflowID("ops-a"):
            assert ops_doubler(3) == 12
        status = await DBOS.get_workflow_status_async("ops-a")
        assert status is not None and status.status == "SUCCESS"
        assert await DBOS.get_workflow_status_async("no-such-workflow") is None
        assert await DBOS.get_result_async("ops-a") == 12
        listed = await DBOS.list_workflows_async(workflow_ids=["ops-a"], load_output=False)
        assert [w.workflow_id for w in listed] == ["ops-a"] and listed[0].output is None
        steps = await DBOS.list_workflow_steps_async("ops-a")
        assert [s["output"] for s in steps] == [6, 6]
        bare = await DBOS.list_workflow_steps_async("ops-a", load_output=False)
        assert [s["output"] for s in bare] == [None, None]
        forked = await DBOS.fork_workflow_async("ops-a", 2)
        assert await forked.get_result() == 12
        handle = await DBOS.retrieve_workflow_async("ops-a")
        assert await handle.get_result() == 12
        with pytest.raises(DBOSNonExistentWorkflowError):
            await DBOS.retrieve_workflow_async("no-such-workflow")
        await DBOS.delete_workflow_async(forked.workflow_id)
        assert await DBOS.get_workflow_status_async(forked.workflow_id) is None

    asyncio.run(main())


def test_cancel_and_resume_many_and_the_old_handle_sees_the_new_outcome(dbos: None) -> None:
    handles = []
    for i in range(2):
        with SetWorkflowID(f"ops-gated-{i}"):
            handles.append(DBOS.start_workflow(ops_gated, i + 1))
    DBOS.cancel_workflows([h.workflow_id for h in handles])
    for handle in handles:
        with pytest.raises(DBOSAwaitedWorkflowCancelledError):
            handle.get_result()
    ops_gate.set()
    resumed = DBOS.resume_workflows([h.workflow_id for h in handles])
    assert [r.get_result() for r in resumed] == [2, 4]
    # The handles taken before the cancel now read the resumed run's outcome.
    assert [h.get_result() for h in handles] == [2, 4]


def test_async_calls_in_a_workflow_are_steps_numbered_at_call_time(dbos: None) -> None:
    with SetWorkflowID("ops-target"):
        ops_doubler(1)
    with SetWorkflowID("ops-inspector"):
        seen = asyncio.run(ops_inspector("ops-target"))
    assert seen[0] == "SUCCESS" and len(seen) == 3
    steps = DBOS.list_workflow_steps("ops-inspector")
    assert [s["function_name"] for s in steps] == ["DBOS.getStatus", "DBOS.listWorkflowSteps"]
    # A replay (a fork from after both) returns what was recorded, not what is there now.
    DBOS.delete_workflow("ops-target")
    replayed = DBOS.fork_workflow("ops-inspector", 3).get_result()
    assert replayed == seen


def test_a_handles_result_step_names_the_awaited_workflow(dbos: None) -> None:
    @DBOS.workflow()
    def ops_awaits_another(target: str) -> int:
        return int(DBOS.retrieve_workflow(target).get_result()) + DBOS.get_result(target)

    with SetWorkflowID("ops-awaited"):
        ops_doubler(2)
    with SetWorkflowID("ops-awaiter"):
        assert ops_awaits_another("ops-awaited") == 16
    steps = DBOS.list_workflow_steps("ops-awaiter")
    assert [(s["function_name"], s["child_workflow_id"]) for s in steps] == [
        ("DBOS.getResult", "ops-awaited"),
        ("DBOS.getResult", "ops-awaited"),
    ]


def test_the_same_operations_on_a_client(dbos: None, system_database_url: str) -> None:
    with SetWorkflowID("ops-c1"):
        ops_doubler(5)
    with DBOSClient(system_database_url=system_database_url) as client:
        assert client.get_result("ops-c1") == 20
        assert [w.workflow_id for w in client.list_workflows(name=ops_doubler.__qualname__)] == [
            "ops-c1"
        ]

        async def main() -> None:
            listed = await client.list_workflows_async(workflow_id_prefix="ops-c")
            assert [w.workflow_id for w in listed] == ["ops-c1"]
            assert await client.get_result_async("ops-c1") == 20
            steps = await client.list_workflow_steps_async("ops-c1")
            assert len(steps) == 2
            handle = await client.fork_workflow_async("ops-c1", 1)  # queued for a worker
            assert await handle.get_result() == 20

        asyncio.run(main())
        with SetWorkflowID("ops-c2"):
            gated = DBOS.start_workflow(ops_gated, 7)
        client.cancel_workflows(["ops-c2"])
        with pytest.raises(DBOSAwaitedWorkflowCancelledError):
            gated.get_result()
        ops_gate.set()
        (resumed,) = client.resume_workflows(["ops-c2"])
        assert resumed.get_result() == 14
        # Read from the class, a client's operation takes the client first, as a method would.
        assert DBOSClient.get_result(client, "ops-c2") == 14


def test_signatures_are_the_functions_without_the_caller() -> None:
    signature = inspect.signature(DBOS.fork_workflow_async)
    assert list(signature.parameters)[:2] == ["workflow_id", "start_step"]
    assert "caller" not in signature.parameters
    assert DBOS.cancel_workflow.__doc__ and "CANCELLED" in DBOS.cancel_workflow.__doc__


def test_time_bounds_of_a_listing(dbos: None) -> None:
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    with SetWorkflowID("ops-t1"):
        ops_doubler(1)
    ops_queue.enqueue(ops_doubler, 2).get_result()
    after = datetime.now(timezone.utc) + timedelta(seconds=1)
    done = DBOS.list_workflows(completed_after=before, completed_before=after)
    assert {w.workflow_id for w in done} >= {"ops-t1"}
    assert DBOS.list_workflows(completed_after=after) == []
    dequeued = DBOS.list_workflows(dequeued_after=before.isoformat())
    assert [w.queue_name for w in dequeued] == ["test_operations.queue"]
    queued_ever = DBOS.list_workflows(queues_only=True, status="SUCCESS")
    assert [w.queue_name for w in queued_ever] == ["test_operations.queue"]
    # queues_only without a status means "still on its queue": nothing is.
    assert DBOS.list_workflows(queues_only=True) == []
    millis = int(time.time() * 1000) + 5000
    assert DBOS.list_workflows(start_time=millis) == []


def test_bad_listing_arguments_name_the_keyword(dbos: None) -> None:
    with pytest.raises(ValueError, match="completed_after"):
        DBOS.list_workflows(completed_after="yesterday")
    with pytest.raises(TypeError, match="stauts"):
        DBOS.list_workflows(stauts="SUCCESS")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="limit"):
        DBOS.list_workflows(limit=-1)
    with pytest.raises(ValueError, match="offset must be a whole number from 0"):
        DBOS.list_workflows(offset=-5)
    with pytest.raises(ValueError, match="limit must be a whole number from 0"):
        DBOS.list_workflows(limit=10**20)  # PostgreSQL would print the whole statement
    with pytest.raises(ValueError, match="limit"):
        DBOS.list_workflow_steps("any", limit=2**70)
    with pytest.raises(ValueError, match="not both"):
        DBOS.list_workflows(workflow_ids=["a"], workflow_id="b")


def test_a_lazy_client_connects_on_first_use(dbos: None, system_database_url: str) -> None:
    with SetWorkflowID("ops-lazy"):
        ops_doubler(4)
    client = DBOSClient(system_database_url=system_database_url, lazy=True)
    try:
        client.check_connection()
        assert client.get_result("ops-lazy") == 16
        asyncio.run(client.check_connection_async())
    finally:
        client.destroy()


def test_a_client_that_cannot_connect_says_so_at_once_unless_lazy() -> None:
    unreachable = "postgresql://nobody:secret@127.0.0.1:9/nothing"  # port 9: discard, closed
    lazy = DBOSClient(system_database_url=unreachable, lazy=True)
    with pytest.raises(sa.exc.DBAPIError):
        lazy.check_connection()
    lazy.destroy()
    with pytest.raises(sa.exc.DBAPIError) as raised:
        DBOSClient(system_database_url=unreachable)
    assert "secret" not in str(raised.value)
    with pytest.raises(DBOSException, match="lazy"):
        DBOSClient(system_database_url=unreachable, lazy=True, use_listen_notify=True)

"""Async workflows run on the event loop that calls or starts them, as upstream's do: objects
bound to the application's loop (an `asyncio.Event`, a client session made at start-up) work
inside workflows and steps. Checkpoint writes never block that loop. A workflow whose loop stops
under it (the program's `asyncio.run` returns) is not lost: the runtime finishes it. Queued and
recovered async workflows run on the loop DBOS was launched on while it runs (as upstream's),
else on loops of the runtime's own."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from dbos import DBOS, Queue, SetWorkflowID
from dbos._core.runtime import ASYNC_IO_THREADS, get_runtime

queue = Queue("caller_loop.queue")
loops: dict[str, asyncio.AbstractEventLoop] = {}
shared: dict[str, Any] = {}


@DBOS.step()
async def caller_loop_step(label: str) -> str:
    loops[f"step:{label}"] = asyncio.get_running_loop()
    return label


@DBOS.workflow()
async def caller_loop_waiter(label: str) -> str:
    loops[f"workflow:{label}"] = asyncio.get_running_loop()
    await caller_loop_step(label)
    event: asyncio.Event = shared["event"]
    await asyncio.wait_for(event.wait(), 10)  # an Event of the caller's loop
    if "future" in shared:
        await shared["future"]  # a future made by the caller's loop: bound to it
    return f"woken:{label}"


@DBOS.workflow()
async def caller_loop_two_steps(label: str) -> list[str]:
    return [await caller_loop_step(f"{label}-1"), await caller_loop_step(f"{label}-2")]


@DBOS.workflow()
async def caller_loop_parent(label: str) -> str:
    child = await caller_loop_two_steps(label)
    return "+".join(child)


@DBOS.workflow()
async def caller_loop_outliver() -> str:
    await caller_loop_step("before")
    message = await DBOS.recv_async("go", timeout_seconds=30)
    return f"got {message}"


@pytest.fixture
def launched(dbos: None) -> Iterator[None]:
    loops.clear()
    shared.clear()
    yield


def test_a_direct_call_runs_on_the_callers_loop(launched: None) -> None:
    async def main() -> tuple[str, asyncio.AbstractEventLoop]:
        loop = asyncio.get_running_loop()
        shared["event"] = asyncio.Event()
        shared["future"] = loop.create_future()
        loop.call_later(0.1, shared["event"].set)
        loop.call_later(0.1, shared["future"].set_result, None)
        return await caller_loop_waiter("direct"), loop

    result, caller_loop = asyncio.run(main())
    assert result == "woken:direct"
    assert loops["workflow:direct"] is caller_loop
    assert loops["step:direct"] is caller_loop


def test_start_workflow_async_runs_on_the_callers_loop(launched: None) -> None:
    async def main() -> tuple[str, asyncio.AbstractEventLoop]:
        shared["event"] = asyncio.Event()
        with SetWorkflowID("started-async"):
            handle = await DBOS.start_workflow_async(caller_loop_waiter, "started")
        shared["event"].set()
        return await handle.get_result(), asyncio.get_running_loop()

    result, caller_loop = asyncio.run(main())
    assert result == "woken:started"
    assert loops["workflow:started"] is caller_loop
    assert DBOS.get_workflow_status("started-async").status == "SUCCESS"  # type: ignore[union-attr]


def test_children_and_steps_stay_recorded_in_order(launched: None) -> None:
    with SetWorkflowID("async-parent"):
        assert asyncio.run(caller_loop_parent("c")) == "c-1+c-2"
    children = DBOS.list_workflows(parent_workflow_id="async-parent")
    assert len(children) == 1
    steps = DBOS.list_workflow_steps(children[0].workflow_id)
    assert [s["output"] for s in steps] == ["c-1", "c-2"]


def test_checkpoint_writes_do_not_block_the_loop(launched: None) -> None:
    sysdb = get_runtime().sysdb
    real_record_step = sysdb.workflows.record_step

    def slow_record_step(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)  # a slow commit: the loop must keep running meanwhile
        return real_record_step(*args, **kwargs)

    sysdb.workflows.record_step = slow_record_step  # type: ignore[method-assign]
    try:

        async def main() -> int:
            ticks = 0
            done = asyncio.Event()

            async def ticker() -> None:
                nonlocal ticks
                while not done.is_set():
                    ticks += 1
                    await asyncio.sleep(0.01)

            task = asyncio.create_task(ticker())
            await caller_loop_two_steps("slow")
            done.set()
            await task
            return ticks

        ticks = asyncio.run(main())
    finally:
        sysdb.workflows.record_step = real_record_step  # type: ignore[method-assign]
    assert ticks >= 20  # ~0.6 s of writes; a blocked loop would not tick during them


def test_a_workflow_whose_loop_stops_is_finished_by_the_runtime(launched: None) -> None:
    async def main() -> None:
        with SetWorkflowID("orphaned"):
            await DBOS.start_workflow_async(caller_loop_outliver)
        await asyncio.sleep(0.3)  # it runs its first step, then waits for a message

    asyncio.run(main())  # the loop ends (and cancels the task) with the workflow mid-way
    DBOS.send("orphaned", "hello", "go")
    assert DBOS.retrieve_workflow("orphaned").get_result() == "got hello"
    steps = [s["function_name"] for s in DBOS.list_workflow_steps("orphaned")]
    assert steps.count("caller_loop_step") == 1  # the first step was not run again


def test_queued_async_workflows_run_on_a_loop_of_the_runtime_without_a_launch_loop(
    launched: None,
) -> None:
    handle = queue.enqueue(caller_loop_two_steps, "queued")
    assert handle.get_result() == ["queued-1", "queued-2"]
    runtime_loop = loops["step:queued-1"]
    assert runtime_loop.is_closed()  # a loop of the runtime's own, ended with the workflow
    assert threading.current_thread() is threading.main_thread()


@DBOS.workflow()
async def caller_loop_gated(i: int) -> int:
    await caller_loop_step(f"gated-{i}")
    await asyncio.wait_for(shared["gate"].wait(), 20)
    await caller_loop_step(f"gated-{i}-after")
    return i


def test_many_awaited_workflows_on_one_loop_do_not_starve_each_other(launched: None) -> None:
    """More waiting handles (and more callers of one workflow ID) than the runtime has async
    I/O threads: the waits hold none, so the workflows' own checkpoints still get through."""
    count = 3 * ASYNC_IO_THREADS

    async def main() -> tuple[list[int], list[int]]:
        shared["gate"] = asyncio.Event()
        handles = [await DBOS.start_workflow_async(caller_loop_gated, i) for i in range(count)]
        with SetWorkflowID("awaited-by-many"):
            first = await DBOS.start_workflow_async(caller_loop_gated, -1)
        same_id = [first.get_result() for _ in range(count)]
        waits = asyncio.gather(*(h.get_result() for h in handles), *same_id)
        await asyncio.sleep(0.3)
        shared["gate"].set()
        results = await asyncio.wait_for(waits, 60)
        return list(results[:count]), list(results[count:])

    results, same = asyncio.run(main())
    assert results == list(range(count))
    assert same == [-1] * count


@DBOS.workflow()
async def caller_loop_child(label: str, seconds: float) -> str:
    await asyncio.sleep(seconds)
    return label


@DBOS.workflow()
async def caller_loop_gathering_parent() -> list[str]:
    return list(
        await asyncio.gather(
            caller_loop_child("slow", 0.2), caller_loop_child("fast", 0.0), caller_loop_step("s")
        )
    )


def test_gathered_children_are_numbered_in_call_order(launched: None) -> None:
    for i in range(5):
        with SetWorkflowID(f"gathering-{i}"):
            assert asyncio.run(caller_loop_gathering_parent()) == ["slow", "fast", "s"]
        steps = [
            (s["function_id"], s["function_name"], s["child_workflow_id"])
            for s in DBOS.list_workflow_steps(f"gathering-{i}")
        ]
        assert steps == [
            (1, "caller_loop_child", f"gathering-{i}-1"),
            (2, "DBOS.getResult", f"gathering-{i}-1"),
            (3, "caller_loop_child", f"gathering-{i}-3"),
            (4, "DBOS.getResult", f"gathering-{i}-3"),
            (5, "caller_loop_step", None),
        ]
        assert DBOS.get_result(f"gathering-{i}-1") == "slow"
    replayed = DBOS.fork_workflow("gathering-0", 6)
    assert replayed.get_result() == ["slow", "fast", "s"]


async def caller_loop_plain_async(x: int) -> int:
    await asyncio.sleep(0)
    return x * 2


def caller_loop_plain_sync(x: int) -> int:
    return x + 100


@DBOS.workflow()
def caller_loop_sync_runs_async_step(x: int) -> int:
    return DBOS.run_step({"name": "doubled"}, caller_loop_plain_async, x)


@DBOS.workflow()
async def caller_loop_run_step_async(x: int) -> list[int]:
    return list(
        await asyncio.gather(
            DBOS.run_step_async({"name": "first"}, caller_loop_plain_sync, x),
            DBOS.run_step_async({"name": "second"}, caller_loop_plain_async, x),
        )
    )


def test_run_step_with_async_functions_and_from_async_code(launched: None) -> None:
    with SetWorkflowID("sync-runs-async"):
        assert caller_loop_sync_runs_async_step(21) == 42
    assert [s["function_name"] for s in DBOS.list_workflow_steps("sync-runs-async")] == ["doubled"]
    with SetWorkflowID("run-step-async"):
        assert asyncio.run(caller_loop_run_step_async(1)) == [101, 2]
    steps = [
        (s["function_id"], s["function_name"]) for s in DBOS.list_workflow_steps("run-step-async")
    ]
    assert steps == [(1, "first"), (2, "second")]  # numbered in call order

    async def start_a_step() -> Any:
        handle = await DBOS.start_workflow_async(caller_loop_step, "alone")
        return await handle.get_result()

    assert asyncio.run(start_a_step()) == "alone"


@pytest.fixture
def launched_on_loop(system_database_url: str) -> Iterator[None]:
    """DBOS launched by the test itself, inside its own event loop (as a server's lifespan or
    an async main launches it)."""
    DBOS.destroy()
    loops.clear()
    shared.clear()
    DBOS(config={"name": "test-app", "system_database_url": system_database_url})
    yield
    DBOS.destroy()


def test_queued_async_workflows_run_on_the_loop_dbos_was_launched_on(
    launched_on_loop: None,
) -> None:
    async def main() -> tuple[list[str], str, asyncio.AbstractEventLoop]:
        DBOS.launch()
        loop = asyncio.get_running_loop()
        queued = await queue.enqueue_async(caller_loop_two_steps, "on-launch-loop")
        # An Event of this loop, awaited by a queued workflow: it works only on this loop.
        shared["event"] = asyncio.Event()
        waiter = await queue.enqueue_async(caller_loop_waiter, "gated")
        await asyncio.sleep(0.2)
        shared["event"].set()
        return await queued.get_result(), await waiter.get_result(), loop

    steps, woken, launch_loop = asyncio.run(main())
    assert steps == ["on-launch-loop-1", "on-launch-loop-2"]
    assert woken == "woken:gated"
    assert loops["workflow:gated"] is launch_loop
    assert loops["step:on-launch-loop-1"] is launch_loop


def test_a_queued_workflow_whose_launch_loop_closes_is_finished_on_a_thread(
    launched_on_loop: None,
) -> None:
    async def main() -> None:
        DBOS.launch()
        with SetWorkflowID("queued-orphan"):
            await queue.enqueue_async(caller_loop_outliver)
        for _ in range(100):  # until it has run its first step on this loop
            if "step:before" in loops:
                break
            await asyncio.sleep(0.05)
        assert loops["step:before"] is asyncio.get_running_loop()

    asyncio.run(main())  # the loop closes with the workflow waiting for a message
    DBOS.send("queued-orphan", "hello", "go")
    assert DBOS.retrieve_workflow("queued-orphan").get_result() == "got hello"
    steps = [s["function_name"] for s in DBOS.list_workflow_steps("queued-orphan")]
    assert steps.count("caller_loop_step") == 1  # the first step was not run again


@DBOS.workflow()
async def caller_loop_event_waiter() -> str:
    loops["workflow:event"] = asyncio.get_running_loop()
    await shared["event"].wait()  # no timer of its own: nothing else wakes its loop
    return "woken"


def test_an_event_set_from_the_applications_loop_wakes_a_queued_workflow(
    launched: None,
) -> None:
    """Launched outside any loop, a queued workflow runs on a loop of its own; an Event the
    application sets from its loop (not thread-safe, but upstream's shared loop tolerates it)
    still wakes it."""

    async def main() -> str:
        shared["event"] = asyncio.Event()
        handle = await queue.enqueue_async(caller_loop_event_waiter)
        for _ in range(200):
            if "workflow:event" in loops:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # it is waiting on the Event by now
        shared["event"].set()
        return await asyncio.wait_for(handle.get_result(), 30)

    assert asyncio.run(main()) == "woken"
    assert loops["workflow:event"].is_closed()  # it ran on a loop of the runtime's own

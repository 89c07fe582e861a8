"""DBOS.set_event / get_event / get_all_events on both backends."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from dbos import DBOS, SetWorkflowID
from dbos.error import DBOSException, DBOSSerializationError

go = threading.Event()


@DBOS.workflow()
def publisher(values: list[object]) -> str:
    for v in values:
        DBOS.set_event("progress", v)
    DBOS.set_event("done", True)
    return "published"


@DBOS.workflow()
def slow_publisher() -> str:
    go.wait(10)
    DBOS.set_event("ready", {"url": "https://pay.example/42"})
    return "ok"


@DBOS.step()
def set_from_step() -> None:
    DBOS.set_event("from-step", "step value")


@DBOS.workflow()
def publishes_in_a_step() -> None:
    set_from_step()


@DBOS.workflow()
def fails_before_setting() -> None:
    raise RuntimeError("payment provider down")


@DBOS.workflow()
def reads_an_event(workflow_id: str) -> object:
    return DBOS.get_event(workflow_id, "ready", timeout_seconds=10)


def test_the_latest_value_wins_and_all_events_are_listed(dbos: None) -> None:
    with SetWorkflowID("pub"):
        assert publisher([1, 2, 3]) == "published"
    assert DBOS.get_event("pub", "progress", timeout_seconds=1) == 3
    assert DBOS.get_all_events("pub") == {"progress": 3, "done": True}
    steps = DBOS.list_workflow_steps("pub")
    assert [s["function_name"] for s in steps] == ["DBOS.setEvent"] * 4


def test_get_event_waits_for_the_set(dbos: None) -> None:
    go.clear()
    with SetWorkflowID("slow-pub"):
        DBOS.start_workflow(slow_publisher)
    threading.Timer(0.2, go.set).start()
    assert DBOS.get_event("slow-pub", "ready", timeout_seconds=10) == {
        "url": "https://pay.example/42"
    }


def test_get_event_times_out_with_none(dbos: None) -> None:
    go.clear()
    with SetWorkflowID("never-pub"):
        DBOS.start_workflow(slow_publisher)
    started = time.monotonic()
    assert DBOS.get_event("never-pub", "ready", timeout_seconds=0.3) is None
    assert time.monotonic() - started >= 0.3
    go.set()


def test_get_event_of_a_workflow_that_ended_without_it_returns_at_once(dbos: None) -> None:
    with SetWorkflowID("failed-pub"):
        with pytest.raises(RuntimeError):
            fails_before_setting()
    started = time.monotonic()
    assert DBOS.get_event("failed-pub", "ready", timeout_seconds=30) is None
    assert time.monotonic() - started < 5  # no value can come: it did not wait 30 s


def test_set_event_from_a_step_and_not_from_outside(dbos: None) -> None:
    with SetWorkflowID("step-pub"):
        publishes_in_a_step()
    assert DBOS.get_event("step-pub", "from-step", timeout_seconds=1) == "step value"
    with pytest.raises(DBOSException, match="within a workflow or step"):
        DBOS.set_event("k", "v")


def test_an_unserializable_event_value_is_refused(dbos: None) -> None:
    @DBOS.workflow(name="test_events.bad_value")
    def bad_value() -> None:
        DBOS.set_event("k", threading.Lock())

    with SetWorkflowID("bad-event"), pytest.raises(DBOSSerializationError, match="event 'k'"):
        bad_value()
    assert DBOS.get_all_events("bad-event") == {}


def test_get_event_inside_a_workflow_is_recorded_and_replayed(dbos: None) -> None:
    go.clear()
    with SetWorkflowID("source"):
        source = DBOS.start_workflow(slow_publisher)
    go.set()
    source.get_result()  # set already: the reader finds it without waiting
    with SetWorkflowID("reader"):
        assert reads_an_event("source") == {"url": "https://pay.example/42"}
    steps = DBOS.list_workflow_steps("reader")
    # The wait's deadline step is there although it did not wait (as upstream's history has
    # it), written with the value in one commit.
    assert [(s["function_id"], s["function_name"]) for s in steps] == [
        (1, "DBOS.getEvent"),
        (2, "DBOS.sleep"),
    ]
    assert steps[1]["output"] > time.time()  # the deadline it would have waited until
    # A fork from step 1 replays nothing; a fork from step 2 replays the recorded value.
    forked = DBOS.fork_workflow("reader", 2)
    assert forked.get_result() == {"url": "https://pay.example/42"}


def test_a_fork_starts_with_the_events_set_before_its_start_step(dbos: None) -> None:
    @DBOS.workflow(name="test_events.counter")
    def counter() -> int:
        DBOS.set_event("n", 1)
        DBOS.set_event("n", 2)
        DBOS.set_event("other", "x")
        return 0

    with SetWorkflowID("counting"):
        counter()
    with SetWorkflowID("fork-at-2"):
        handle = DBOS.fork_workflow("counting", 2)
    assert handle.get_result() == 0
    assert DBOS.get_all_events("fork-at-2") == {"n": 2, "other": "x"}
    steps = DBOS.list_workflow_steps("fork-at-2")
    assert [s["function_name"] for s in steps] == ["DBOS.setEvent"] * 3


@DBOS.workflow()
async def async_publisher() -> None:
    await asyncio.gather(DBOS.set_event_async("a", 1), DBOS.set_event_async("b", 2))


def test_async_events(dbos: None) -> None:
    async def main() -> tuple[object, object, dict[str, object]]:
        with SetWorkflowID("async-pub"):
            await async_publisher()
        a = await DBOS.get_event_async("async-pub", "a", timeout_seconds=1)
        b = await DBOS.get_event_async("async-pub", "b", timeout_seconds=1)
        return a, b, await DBOS.get_all_events_async("async-pub")

    assert asyncio.run(main()) == (1, 2, {"a": 1, "b": 2})

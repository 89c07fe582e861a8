"""`DBOS.wait_first(handles)`: the first of several workflows to finish. Completion order is the
classic nondeterminism, so inside a workflow the winner is recorded (`DBOS.waitFirst`) and a
replay takes the branch the first run took, even where another would now finish first."""

from __future__ import annotations

import asyncio
import threading

import pytest

from dbos import DBOS, SetWorkflowID

gates: dict[str, threading.Event] = {}


@DBOS.workflow()
def first_to_open(name: str) -> str:
    gates.setdefault(name, threading.Event()).wait(30)
    return name


@DBOS.workflow()
def race(names: list[str]) -> str:
    handles = [DBOS.start_workflow(first_to_open, n) for n in names]
    first = DBOS.wait_first(handles)
    return str(first.get_result())


def _open(name: str) -> None:
    gates.setdefault(name, threading.Event()).set()


def test_the_first_to_finish_wins_outside_a_workflow(dbos: None) -> None:
    gates.clear()
    handles = [DBOS.start_workflow(first_to_open, n) for n in ("a", "b", "c")]
    threading.Timer(0.2, _open, ("b",)).start()
    assert DBOS.wait_first(handles) is handles[1]
    for name in ("a", "c"):
        _open(name)
    with pytest.raises(ValueError):
        DBOS.wait_first([])
    with pytest.raises(ValueError, match="twice"):
        DBOS.wait_first([handles[0], handles[0]])


def test_a_replay_takes_the_recorded_winner(dbos: None) -> None:
    gates.clear()
    with SetWorkflowID("racer"):
        handle = DBOS.start_workflow(race, ["x", "y"])
    threading.Timer(0.2, _open, ("y",)).start()
    assert handle.get_result() == "y"
    _open("x")
    steps = DBOS.list_workflow_steps("racer")
    assert [s["function_name"] for s in steps][-2:] == ["DBOS.waitFirst", "DBOS.getResult"]
    # Both have finished now; a replay over the recorded steps still picks "y".
    replayed = DBOS.fork_workflow("racer", len(steps) + 1)
    assert replayed.get_result() == "y"


def test_wait_first_async(dbos: None) -> None:
    gates.clear()

    async def main() -> str:
        handles = [await DBOS.start_workflow_async(first_to_open, n) for n in ("p", "q")]
        threading.Timer(0.2, _open, ("p",)).start()
        first = await DBOS.wait_first_async(handles)
        _open("q")
        return str(await first.get_result())

    assert asyncio.run(main()) == "p"

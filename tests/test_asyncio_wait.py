"""`DBOS.asyncio_wait`: a durable `asyncio.wait`. Which awaitables were done is recorded, so a
replay (where recorded steps finish at once) takes the branch the first run took."""

from __future__ import annotations

import asyncio

import pytest

from dbos import DBOS, SetWorkflowID


@DBOS.step()
async def asyncio_wait_sleeper(seconds: float) -> float:
    await asyncio.sleep(seconds)
    return seconds


@DBOS.workflow()
async def first_of_two() -> list[float]:
    fast = asyncio_wait_sleeper(0.05)
    slow = asyncio_wait_sleeper(0.6)
    done, pending = await DBOS.asyncio_wait([fast, slow], return_when=asyncio.FIRST_COMPLETED)
    finished = sorted(f.result() for f in done)
    for future in pending:
        await future  # let the slow step finish (and record) before the workflow ends
    return finished


def test_the_recorded_split_is_replayed(dbos: None) -> None:
    with SetWorkflowID("waits-for-first"):
        assert asyncio.run(first_of_two()) == [0.05]
    steps = [s["function_name"] for s in DBOS.list_workflow_steps("waits-for-first")]
    assert steps == ["DBOS.asyncio_wait", "asyncio_wait_sleeper", "asyncio_wait_sleeper"]
    # On replay both steps come back at once; the recorded split still says only the fast one.
    replayed = DBOS.fork_workflow("waits-for-first", len(steps) + 1)
    assert replayed.get_result() == [0.05]


gate_runs: list[str] = []


@DBOS.step()
async def asyncio_wait_gated(label: str, gate_seconds: float) -> str:
    gate_runs.append(label)
    await asyncio.sleep(gate_seconds)
    return label


@DBOS.workflow()
async def waits_then_waits_again(gate_seconds: float) -> list[str]:
    done, pending = await DBOS.asyncio_wait(
        [asyncio_wait_gated("a", gate_seconds), asyncio_wait_gated("b", gate_seconds)], timeout=0.05
    )
    assert not done  # both still running at the timeout
    done_again, _ = await DBOS.asyncio_wait(list(pending))
    return sorted(f.result() for f in done_again)


def test_a_replayed_timeout_lets_the_awaitables_take_their_steps_first(dbos: None) -> None:
    """On replay nothing is waited for, yet the awaitables must start (and take their step
    numbers) before the next wait does, as they did in the first run."""
    gate_runs.clear()
    with SetWorkflowID("waits-twice"):
        assert asyncio.run(waits_then_waits_again(0.3)) == ["a", "b"]
    steps = [s["function_name"] for s in DBOS.list_workflow_steps("waits-twice")]
    assert steps == [
        "DBOS.asyncio_wait",
        "asyncio_wait_gated",
        "asyncio_wait_gated",
        "DBOS.asyncio_wait",
    ]
    replayed = DBOS.fork_workflow("waits-twice", len(steps) + 1)
    assert replayed.get_result() == ["a", "b"]
    assert gate_runs == ["a", "b"]  # replayed from their records, not run again


def test_outside_a_workflow_it_is_asyncio_wait(dbos: None) -> None:
    async def main() -> int:
        done, pending = await DBOS.asyncio_wait([asyncio.sleep(0, "x")])
        assert not pending
        return len(done)

    assert asyncio.run(main()) == 1
    with pytest.raises(ValueError):
        asyncio.run(DBOS.asyncio_wait([]))

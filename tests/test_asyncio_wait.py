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


def test_outside_a_workflow_it_is_asyncio_wait(dbos: None) -> None:
    async def main() -> int:
        done, pending = await DBOS.asyncio_wait([asyncio.sleep(0, "x")])
        assert not pending
        return len(done)

    assert asyncio.run(main()) == 1
    with pytest.raises(ValueError):
        asyncio.run(DBOS.asyncio_wait([]))

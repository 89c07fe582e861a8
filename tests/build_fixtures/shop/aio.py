"""Async workflows and steps."""

from __future__ import annotations

from dbos import DBOS


@DBOS.step()
async def double(n: int) -> int:
    return n * 2


@DBOS.workflow()
async def quadruple(n: int) -> int:
    twice = await double(n)
    await DBOS.sleep_async(0.01)
    return await double(twice)

"""Async workflows: the running loop, subprocesses and sockets, numpy generators."""

import asyncio

import numpy as np

from dbos import DBOS

from .util import elapsed


def crunch(values: list[float]) -> float:
    return sum(values)


@DBOS.workflow()
async def export(batch: str) -> float:
    loop = asyncio.get_running_loop()
    started = loop.time()  # expect: DBOS112
    total = await loop.run_in_executor(None, crunch, [1.0])  # expect: DBOS301
    proc = await asyncio.create_subprocess_exec("gzip", batch)  # expect: DBOS204
    await proc.wait()
    reader, writer = await asyncio.open_connection("example.com", 443)  # expect: DBOS202
    writer.close()
    return total + elapsed(started)


@DBOS.workflow()
def sample(n: int) -> list[float]:
    rng = np.random.default_rng()  # expect: DBOS101
    seeded = np.random.default_rng(1234)
    noise = np.random.normal(0, 1, n)  # expect: DBOS101
    return list(rng.random(n)) + list(seeded.random(n)) + list(noise)

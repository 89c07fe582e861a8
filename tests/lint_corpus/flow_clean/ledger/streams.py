"""Async workflows that only use the workflow's own loop; seeded numpy generators."""

import asyncio

import numpy as np

from dbos import DBOS


@DBOS.step()
async def gzip_file(path: str) -> int:
    proc = await asyncio.create_subprocess_exec("gzip", path)
    return await proc.wait()


@DBOS.step()
async def part(i: int) -> int:
    return i * 2


@DBOS.workflow()
async def export(batch: str) -> int:
    loop = asyncio.get_running_loop()
    task = loop.create_task(part(1))
    results = await asyncio.gather(part(2), part(3))
    await DBOS.sleep_async(1)
    return await task + sum(results) + await gzip_file(batch)


@DBOS.workflow()
def sample(n: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    other = np.random.Generator(np.random.PCG64(7))
    values = np.arange(n) * 2.0
    return list(rng.random(n)) + list(other.normal(0, 1, n)) + list(np.mean(values) + values)

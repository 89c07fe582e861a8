"""Clock helpers: an alias of the wall clock and the running loop's clock."""

import asyncio
import time

_now = time.time


def stamp() -> float:
    return _now()  # expect: DBOS111


def elapsed(start: float) -> float:
    loop = asyncio.get_running_loop()
    return loop.time() - start  # expect: DBOS112

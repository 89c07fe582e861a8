"""Two helper modules that call each other: each function is walked once."""

import time

from app import cycle_b


def ping(n: int) -> int:
    if n <= 0:
        return int(time.time())  # expect: DBOS111
    return cycle_b.pong(n - 1)

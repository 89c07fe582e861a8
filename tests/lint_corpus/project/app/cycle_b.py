"""The other half of the cycle."""

import os

from .cycle_a import ping


def pong(n: int) -> int:
    return ping(n - 1) + os.getpid()  # expect: DBOS401

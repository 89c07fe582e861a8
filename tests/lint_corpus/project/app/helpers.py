"""Plain functions: nondeterministic when a workflow calls them, fine from a step."""

import random
import time


def _scale(x: float) -> float:
    return x * time.time()  # expect: DBOS111


def compute(x: int) -> float:
    return _scale(random.random() + x)  # expect: DBOS101


def read_config(name: str) -> str:
    with open(name) as handle:  # expect: DBOS201
        return handle.read()


def jitter() -> float:
    return random.uniform(0, 1)  # expect: DBOS101


def reviewed() -> float:
    return time.time()  # dbos: ignore[DBOS111] only logged


def unused() -> float:
    return time.monotonic()

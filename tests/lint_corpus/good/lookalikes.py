"""Deterministic look-alikes: nothing in this module may be flagged."""

import hashlib
import os.path
import random
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import dbos
from dbos import DBOS


@DBOS.step()
def everything_goes_in_a_step() -> str:
    # Steps are the sanctioned place for nondeterminism.
    time.sleep(0.1)
    stamp = datetime.now().isoformat() + str(time.time()) + str(random.random())
    with open(os.path.join("/tmp", "x"), "w") as handle:
        handle.write(stamp)
    for item in {"a", "b"}:
        stamp += item
    return stamp + str(uuid.uuid4()) + os.environ.get("HOME", "")


@DBOS.workflow()
def seeded(seed: int) -> float:
    rng = random.Random(42)
    other = random.Random(seed)
    return rng.random() + other.random()


@DBOS.workflow()
def constructors() -> str:
    start = datetime(2024, 1, 1, 12, 0)
    end = start + timedelta(hours=2)
    day = date(2024, 1, 1)
    key = uuid.uuid5(uuid.NAMESPACE_DNS, "example.com")
    path = os.path.join("a", "b")
    other = Path("data") / "file.txt"
    digest = hashlib.sha256(b"x").hexdigest()
    return f"{start}{end}{day}{key}{path}{other.name}{digest}"


@DBOS.workflow()
def shadowing(time: float, random: list[int]) -> float:
    # Parameters named like modules are not the modules.
    total = time + sum(random)
    for value in sorted(set(random)):
        total += value
    for key in {"a": 1, "b": 2}:
        total += len(key)
    return total


@dbos.DBOS.workflow()
def local_shadow() -> int:
    def uuid4() -> int:
        return 4

    sleep = DBOS.sleep
    sleep(1)
    return uuid4()


@DBOS.workflow()
def suppressed() -> float:
    return time.time()  # dbos: ignore[DBOS111] the value is only logged, never branched on


@DBOS.workflow()
def durable_waits() -> None:
    DBOS.sleep(5)
    message = DBOS.recv("topic", timeout_seconds=10)
    DBOS.set_event("got", message)


@DBOS.workflow()
def exceptions_are_not_io() -> None:
    import requests

    try:
        pass
    except requests.RequestException as exc:
        raise requests.HTTPError("boom") from exc


def unused_helper() -> float:
    # Not called by any workflow: plain module code is not checked.
    return time.time()

"""Module-level workflows: steps, a child workflow, sleep, events, messages, a queue."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from dbos import DBOS, Queue

from .util import cents

MARKS = Path(os.environ.get("SHOP_MARKS", "."))
queue = Queue("shop-queue")


def mark(label: str) -> None:
    with open(MARKS / f"{label}.mark", "a") as handle:
        handle.write(f"{os.getpid()}\n")


@DBOS.step()
def price(item: str) -> int:
    mark(f"price-{item}")
    return cents(item)


@DBOS.step()
def maybe_crash(label: str) -> None:
    """Kills this process the first time (no release file yet): a crash between two steps."""
    if not (MARKS / "release").exists():
        os.kill(os.getpid(), signal.SIGKILL)
    mark(label)


@DBOS.step()
def refuse(item: str) -> int:
    raise ValueError(f"no {item} today")


@DBOS.workflow()
def subtotal(items: list[str]) -> int:
    return sum(price(item) for item in items)


@DBOS.workflow()
def checkout(items: list[str]) -> int:
    total = subtotal(items)
    DBOS.set_event("total", total)
    DBOS.sleep(0.01)
    maybe_crash(label="after-sleep")
    return total + price(
        "tea",
    )


@DBOS.workflow()
def broken(item: str) -> int:
    return refuse(item)


@DBOS.workflow()
def batch(items: list[str]) -> int:
    handle = queue.enqueue(subtotal, items)
    return handle.get_result()


@DBOS.workflow()
def waiter() -> str:
    got = DBOS.recv("go", timeout_seconds=10)
    return f"got {got}"

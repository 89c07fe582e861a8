"""Waiters: how recv, get_event, read_stream and get_result sleep until their row is written.

A waiter registers the keys it waits on (`WaitKey`), checks the database, and sleeps until one
of its keys is fired or its timeout ends, then checks again. Keys are fired by the write itself
when it happens in this process, and by the notifier service (LISTEN on PostgreSQL, one shared
poller on SQLite) for writes of other processes. Nobody polls on their own, and a waiter costs
no thread: a sync waiter blocks its caller's thread, an async one awaits a future.

Ordering is what makes this free of lost wake-ups: `clear()` before the check, so a fire that
lands between the check and the sleep leaves the waiter set and the sleep returns at once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple, Protocol

from .._db.records import EVENT, FINAL, MESSAGE, QUEUE, STREAM

__all__ = [
    "EVENT",
    "FINAL",
    "MESSAGE",
    "QUEUE",
    "STREAM",
    "Fireable",
    "WaitKey",
    "Waiter",
    "WaiterRegistry",
]


class WaitKey(NamedTuple):
    """What a waiter waits on: `kind` is `m` (message: destination, topic), `e` (event:
    workflow, key), `s` (stream: workflow, key) or `w` (workflow reached a final status:
    workflow, "")."""

    kind: str
    workflow_id: str
    name: str = ""


class Fireable(Protocol):
    """What the registry wakes: a `Waiter`, or a parked workflow (`parking.Parked`)."""

    def fire(self, key: tuple[str, str, str]) -> None: ...


class Waiter:
    def __init__(self, keys: tuple[WaitKey, ...]) -> None:
        self.keys = keys
        self._lock = threading.Lock()
        self._event = threading.Event()
        self._futures: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self.fired: set[WaitKey] = set()

    def fire(self, key: tuple[str, str, str]) -> None:
        self._signal(WaitKey(*key))

    def wake(self) -> None:
        """Wake the sleeper without firing a key: it looks again (the durable clock jumped)."""
        self._signal(None)

    def _signal(self, key: WaitKey | None) -> None:
        """Note `key` as fired (if any) and wake the sleeper, sync or async."""
        with self._lock:
            if key is not None:
                self.fired.add(key)
            self._event.set()
            futures, self._futures = self._futures, []
        for loop, future in futures:
            try:
                loop.call_soon_threadsafe(_resolve, future)
            except RuntimeError:
                pass  # that loop is closed; nobody awaits there any more

    def is_set(self) -> bool:
        return self._event.is_set()

    def clear(self) -> set[WaitKey]:
        """Forget earlier fires before a check; returns which keys had fired."""
        with self._lock:
            fired, self.fired = self.fired, set()
            self._event.clear()
            return fired

    def wait(self, timeout: float | None) -> bool:
        """Sleep until fired (True) or the timeout ends (False)."""
        return self._event.wait(timeout)

    async def wait_async(self, timeout: float | None) -> bool:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._event.is_set():
                return True
            self._futures.append((loop, future))
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except asyncio.TimeoutError:
            return self._event.is_set()
        finally:
            with self._lock:
                self._futures = [(lp, f) for lp, f in self._futures if f is not future]


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class WaiterRegistry:
    """This process's waiters by key. Thread-safe; fired from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[WaitKey, set[Fireable]] = {}
        self._listeners: list[Callable[[], None]] = []

    def on_register(self, callback: Callable[[], None]) -> None:
        """Call `callback` whenever a waiter registers (the poller then looks sooner)."""
        self._listeners.append(callback)

    @contextmanager
    def waiting(self, *keys: WaitKey) -> Iterator[Waiter]:
        waiter = Waiter(keys)
        self.register(waiter, keys)
        try:
            yield waiter
        finally:
            self.unregister(waiter, keys)

    def register(self, waiter: Fireable, keys: tuple[WaitKey, ...]) -> None:
        """Wake `waiter` whenever one of `keys` fires, until `unregister`."""
        with self._lock:
            for key in keys:
                self._by_key.setdefault(key, set()).add(waiter)
        for callback in self._listeners:
            callback()

    def unregister(self, waiter: Fireable, keys: tuple[WaitKey, ...]) -> None:
        with self._lock:
            for key in keys:
                waiters = self._by_key.get(key)
                if waiters is not None:
                    waiters.discard(waiter)
                    if not waiters:
                        del self._by_key[key]

    def fire(self, key: tuple[str, str, str]) -> None:
        with self._lock:
            waiters = list(self._by_key.get(key, ()))  # type: ignore[call-overload]
        for waiter in waiters:
            waiter.fire(key)

    def fire_workflow(self, kind: str, workflow_id: str) -> None:
        """Fire every key of one kind and workflow (a payload that named no key)."""
        with self._lock:
            hits = [
                (key, list(ws))
                for key, ws in self._by_key.items()
                if key.kind == kind and key.workflow_id == workflow_id
            ]
        for key, waiters in hits:
            for waiter in waiters:
                waiter.fire(key)

    def fire_all(self) -> None:
        """Wake everyone to re-check: after the notifier may have missed writes (a reconnect)."""
        with self._lock:
            hits = [(key, list(ws)) for key, ws in self._by_key.items()]
        for key, waiters in hits:
            for waiter in waiters:
                waiter.fire(key)

    def wake_all(self) -> None:
        """Wake every sleeping waiter to look again without firing a key (the durable clock
        changed). Parked workflows sleep on their table's timer, which the clock wakes."""
        with self._lock:
            waiters = {w for ws in self._by_key.values() for w in ws if isinstance(w, Waiter)}
        for waiter in waiters:
            waiter.wake()

    def keys(self, kind: str | None = None) -> list[WaitKey]:
        with self._lock:
            return [k for k in self._by_key if kind is None or k.kind == kind]

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_key)

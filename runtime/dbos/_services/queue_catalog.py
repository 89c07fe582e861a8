"""The queues a process serves: those its code declares, and those registered in the system
database by any process (`DBOS.register_queue`, a client, the `dbos queue` command).

The dispatcher asks for the current set before each round. The `queues` table is re-read at
most every `REFRESH_SEC`, and at once when it changed: here directly, in other processes through
the `queues` table's notification (PostgreSQL). A claim round itself never reads it, so a
change reaches every process within a second (at once on PostgreSQL) at the cost of one small
query per second, whatever the rate of claims.

A name declared in this process's code is served with its code's settings, even when a queue of
that name is also registered (the registered settings then apply in the other processes).
"""

from __future__ import annotations

import threading
import time

from .._core.runtime import Runtime, logger
from .._registry import queues as _queues
from .._registry.queues import QueueSpec, spec_from_row

REFRESH_SEC = 1.0


class QueueCatalog:
    def __init__(self, runtime: Runtime, listen: frozenset[str] | None) -> None:
        """`listen`: the only queues served (with the internal queue); None for all."""
        self._runtime = runtime
        self._listen = listen
        self._lock = threading.Lock()
        self._registered: dict[str, QueueSpec] = {}
        self._read_at = float("-inf")  # monotonic time of the last read of the table
        self._shadowed: set[str] = set()  # names warned about (declared here and registered)

    def serves(self, name: str) -> bool:
        return self._listen is None or name in self._listen or name == _queues.INTERNAL_QUEUE

    def due_in(self) -> float:
        """Seconds until the table should be read again."""
        return max(self._read_at + REFRESH_SEC - time.monotonic(), 0.0)

    def invalidate(self) -> None:
        """The table changed: read it at the next round."""
        self._read_at = float("-inf")

    def refresh(self) -> bool:
        """Re-read the registered queues if due; True when the served set or a setting changed."""
        if self.due_in() > 0:
            return False
        self._read_at = time.monotonic()
        try:
            rows = self._runtime.sysdb.queue_table.registered_queue_rows()
        except Exception as exc:  # the last known set keeps serving meanwhile
            logger.warning("Queues: cannot read registered queues (%s)", exc)
            return False
        registered = {}
        for row in rows:
            spec = spec_from_row(row)
            registered[spec.name] = spec
        with self._lock:
            changed = registered != self._registered
            self._registered = registered
        self._runtime.registered_queues = dict(registered)
        return changed

    def served(self) -> dict[str, QueueSpec]:
        """Every queue served now, by name: declared here (its code's settings) or registered."""
        specs: dict[str, QueueSpec] = {}
        with self._lock:
            registered = dict(self._registered)
        for name, spec in registered.items():
            if self.serves(name):
                specs[name] = spec
        for spec in _queues.all_queues():
            if not self.serves(spec.name):
                continue
            if spec.name in registered and spec.name not in self._shadowed:
                self._shadowed.add(spec.name)
                logger.warning(
                    "Queue %r is declared in this process's code and also registered in the "
                    "system database; this process serves it with its code's settings (%s)",
                    spec.name,
                    spec.describe(),
                )
            specs[spec.name] = spec
        return specs

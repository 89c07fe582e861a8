"""The change poller: wakes this process's waiters on writes made by other processes, where no
LISTEN/NOTIFY carries them (SQLite, or PostgreSQL without a direct connection for LISTEN).

One thread for all waiters. On SQLite it first asks whether anything at all was committed by
another connection (`PRAGMA data_version`, a read of shared memory, no table touched); only
then does it run the checks, one query per kind of key waited on, never one per waiter. The
interval starts at a millisecond after a change and backs off while nothing changes; with no
waiter registered the thread sleeps until one registers.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

from .._core.runtime import Runtime, logger

SQLITE_INTERVALS = (0.001, 0.010)
_DUTY = 4.0  # pause after a round >= this many times its length: at most a fifth of the time
POSTGRES_INTERVALS = (0.005, 0.200)


class ChangePoller:
    def __init__(self, runtime: Runtime, intervals: tuple[float, float] | None = None) -> None:
        self._waiters = runtime.waiters
        self._sysdb = runtime.sysdb
        self._sqlite = runtime.sysdb.backend == "sqlite"
        default = SQLITE_INTERVALS if self._sqlite else POSTGRES_INTERVALS
        self._min, self._max = intervals or default
        self._cond = threading.Condition()
        self._poked = False
        self._stopped = False
        self._stream_heads: dict[tuple[str, str], int] = {}
        self._version_conn: Any = None
        self._last_version: int | None = None
        self.checks = 0  # rounds that ran the queries (read by tests and benchmarks)
        self._waiters.on_register(self._poke)
        self._thread = threading.Thread(target=self._run, name="dbos-change-poller", daemon=True)
        self._thread.start()

    def _poke(self) -> None:
        with self._cond:
            self._poked = True
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._thread.join(timeout=5)
        if self._version_conn is not None:
            with contextlib.suppress(Exception):
                self._version_conn.close()

    def _run(self) -> None:
        interval = self._min
        while True:
            with self._cond:
                idle = len(self._waiters) == 0
                self._cond.wait_for(
                    lambda: self._stopped or self._poked, None if idle else interval
                )
                if self._stopped:
                    return
                poked, self._poked = self._poked, False
            if poked:
                interval = self._min  # a new waiter: look sooner for a while
            keys = self._waiters.keys()
            if not keys:
                continue
            try:
                if not self._changed_since_last_look():
                    interval = min(interval * 2, self._max)
                    continue
                self.checks += 1
                began = time.monotonic()
                hits = self._sysdb.messages.changed_keys(keys, self._stream_heads)
                took = time.monotonic() - began
            except Exception as exc:
                logger.warning("Change poller: cannot read the system database: %s", exc)
                self._reset_connection()
                interval = self._max
                continue
            for key in hits:
                self._waiters.fire(key)
            # A round costs in proportion to the keys waited on (100,000 parked workflows:
            # hundreds of queries); rounds back to back would take the process's CPU while it
            # writes, so the pause after one is at least `_DUTY` times its length.
            interval = max(self._min, took * _DUTY)

    def _changed_since_last_look(self) -> bool:
        """SQLite: has another connection committed since the last look? PostgreSQL: assume so."""
        if not self._sqlite:
            return True
        if self._version_conn is None:
            conn = self._sysdb.engine.raw_connection()
            conn.detach()
            self._version_conn = conn
        cur = self._version_conn.dbapi_connection.cursor()
        try:
            cur.execute("PRAGMA data_version")
            version = int(cur.fetchone()[0])
        finally:
            cur.close()
        changed = version != self._last_version
        self._last_version = version
        return changed

    def _reset_connection(self) -> None:
        if self._version_conn is not None:
            with contextlib.suppress(Exception):
                self._version_conn.close()
        self._version_conn = None
        self._last_version = None

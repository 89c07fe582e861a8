"""The PostgreSQL listener: one connection per process LISTENs for the wake-up triggers'
notifications and fires the waiters they name (see `_db/triggers.py`).

Notifications of this process's own writes are skipped: those writes woke the waiters here
directly when they committed. After any reconnect every waiter is woken to re-check once: a
notification sent while the connection was down is lost, and without the re-check its waiter
would sleep to its timeout.
A connection idle for a while is pinged, so a silently dropped one is noticed and replaced.
A connection that turns out to go through a transaction-pooling proxy cannot receive
notifications at all: the listener then hands over to the change poller, and says so.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
from typing import Any

from .._core.runtime import Runtime, Service, logger
from .._db.triggers import CHANNEL, parse_payload
from .change_poller import ChangePoller

_PING_AFTER_SEC = 15.0
_RETRY_FIRST_SEC = 0.05
_RETRY_MAX_SEC = 5.0


class PostgresListener:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self.fallback: Service | None = None  # the poller, if LISTEN cannot work here
        self._waiters = runtime.waiters
        self._sysdb = runtime.sysdb
        self._stopped = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self.connected = threading.Event()
        self.connections = 0  # how many times it (re)connected, for tests
        self._thread = threading.Thread(target=self._run, name="dbos-listener", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self.fallback is not None:
            self.fallback.stop()

    def _run(self) -> None:
        delay = _RETRY_FIRST_SEC
        while not self._stopped.is_set():
            raw: Any = None
            try:
                raw, pooled = self._sysdb.listen_connection()
                if pooled:
                    self._hand_over_to_polling()
                    return
                conn = raw.dbapi_connection
                conn.add_notify_handler(self._on_notify)
                conn.execute(f"LISTEN {CHANNEL}")
                self.connections += 1
                self.connected.set()
                # Whatever was written while we were not listening: every waiter looks again.
                self._waiters.fire_all()
                delay = _RETRY_FIRST_SEC
                self._listen(conn)
            except Exception as exc:
                if self._stopped.is_set():
                    break
                self.connected.clear()
                logger.warning(
                    "Notification listener lost its connection (%s); reconnecting in %.2fs",
                    exc,
                    delay,
                )
                self._stopped.wait(delay)
                delay = min(delay * 2, _RETRY_MAX_SEC)
            finally:
                if raw is not None:
                    with contextlib.suppress(Exception):
                        raw.close()

    def _hand_over_to_polling(self) -> None:
        logger.warning(
            "The notification listener's connection goes through a connection pooler, which "
            "LISTEN/NOTIFY cannot cross: waiters in other processes are found by polling "
            "instead. Set system_database_listen_url to a direct URL of the system database "
            "to wake them at once."
        )
        self.fallback = ChangePoller(self._runtime)
        self.connected.set()

    def _listen(self, conn: Any) -> None:
        pgconn = conn.pgconn
        sock = conn.fileno()
        while not self._stopped.is_set():
            ready, _, _ = select.select([sock, self._wake_r], [], [], _PING_AFTER_SEC)
            if self._wake_r in ready:
                return
            if not ready:
                conn.execute("SELECT 1")  # notifications that arrive meanwhile reach the handler
                continue
            pgconn.consume_input()
            if pgconn.status != 0:  # libpq CONNECTION_OK is 0
                raise ConnectionError("the listener's connection was closed by the server")
            while (note := pgconn.notifies()) is not None:
                self._dispatch(note.extra.decode(), note.be_pid)

    def _on_notify(self, note: Any) -> None:
        self._dispatch(note.payload, note.pid)

    def _dispatch(self, payload: str, sender_pid: int) -> None:
        if sender_pid in self._sysdb.own_backend_pids:
            return  # our own write: it woke this process's waiters when it committed
        try:
            key = parse_payload(payload)
        except ValueError:
            logger.warning("Notification listener: unreadable payload %r", payload[:200])
            return
        if key is None:
            self._waiters.fire_all()
        else:
            self._waiters.fire(key)

"""Graceful shutdown: a process told to stop (SIGTERM, the signal a container's stop sends, or a
web server's shutdown) stops claiming work, lets the steps running here finish, and exits.

The stop has three parts (`stop_gracefully`): every workflow of this process stops at its next
durable boundary (`Runtime.unwind_workflows`: a step already running finishes and is recorded,
the next one does not begin, a wait ends at once), recording nothing, so it stays PENDING and
resumes from its checkpoints at recovery; the services that start work stop (the queue
dispatcher, the scheduler; the heartbeat no longer takes work over); and the process waits for
the workflows to have unwound, at most `shutdown_grace_period_sec`. A step still running then
is cut off with the process, as after a crash, and runs again at recovery (at least once).

SIGTERM: installed by `DBOS.launch()` from the main thread only (Python runs signal handlers
there, and a server that launches DBOS from a worker thread owns the signals itself), unless
`install_signal_handlers` is False. The handler that was there before is kept and chained: a
handler of the application's runs at once, as it would without DBOS; Python's default (end the
process) is taken once the drain is over: exit status 143 (128 + SIGTERM), the status of a
process ended by SIGTERM. The drain runs on a non-daemon thread, so an application whose own
handler ends the main thread still exits only after it. A handler installed after DBOS's replaces
it: calling the handler it replaced (as `signal.getsignal` returned it) keeps the drain.

SIGINT is left alone: it is the developer's Ctrl-C, which Python turns into KeyboardInterrupt
for the application's code; a server (uvicorn) handles it like SIGTERM and runs the same
drain from its lifespan shutdown (`_facade/fastapi.py`).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from .._config import DBOSConfig
from .._core.runtime import Runtime, logger, runtime_or_none

#: Kubernetes gives a pod 30 s between SIGTERM and SIGKILL by default: the drain ends well
#: before, leaving time to stop the services and close the databases.
DEFAULT_GRACE_PERIOD_SEC = 20.0


@dataclass(frozen=True)
class ShutdownSettings:
    grace_period_sec: float = DEFAULT_GRACE_PERIOD_SEC
    install_signal_handlers: bool = True

    @classmethod
    def from_config(cls, config: DBOSConfig) -> ShutdownSettings:
        grace = config.get("shutdown_grace_period_sec")
        install = config.get("install_signal_handlers")
        return cls(
            DEFAULT_GRACE_PERIOD_SEC if grace is None else float(grace),
            True if install is None else bool(install),
        )


def stop_gracefully(runtime: Runtime, grace_period_sec: float) -> int:
    """Stop claiming work, unwind every workflow at its next durable boundary and wait up to
    `grace_period_sec` for them to have done so; the number still running then."""
    runtime.unwind_workflows()  # first: a workflow between two steps stops at once
    runtime.stop_starting_work()  # what a dispatcher starts meanwhile stops at its first step
    with runtime.active_lock:
        running = len(runtime.active)
    if running:
        logger.info(
            "Stopping: %d workflows stop at their next step (those running one finish it "
            "first, for up to %gs) and resume at recovery",
            running,
            grace_period_sec,
        )
    return runtime.wait_for_active_to_end(grace_period_sec)


class GracefulShutdown:
    """The service `DBOS.launch()` starts last: the SIGTERM handler, and the graceful stop that
    it and the FastAPI integration's lifespan shutdown run before `destroy`."""

    def __init__(
        self, runtime: Runtime, settings: ShutdownSettings, destroy: Callable[[], None]
    ) -> None:
        self._runtime = runtime
        self._settings = settings
        self._destroy = destroy
        if settings.install_signal_handlers:
            _sigterm.attach(self.stop_process)

    def drain(self) -> int:
        return stop_gracefully(self._runtime, self._settings.grace_period_sec)

    def stop_process(self) -> None:
        """The graceful stop, then `DBOS.destroy()`."""
        try:
            self.drain()
        finally:
            self._destroy()

    def stop(self) -> None:
        _sigterm.detach(self.stop_process)


def drain_then(destroy: Callable[[], None]) -> None:
    """A server's shutdown (FastAPI's lifespan): the graceful stop of the launched DBOS, if any,
    then `destroy`."""
    runtime = runtime_or_none()
    if runtime is not None and not runtime.stopped:
        for service in runtime.services:
            if isinstance(service, GracefulShutdown):
                service.drain()
    destroy()


class _SigtermChain:
    """DBOS's SIGTERM handler, installed once per process and chained to the one before it.

    It stays installed across `destroy()` and a new `launch()` when something was installed
    over it (an application handler that calls it); with no DBOS attached it only passes the
    signal on, as if it were not there."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._installed = False
        self._previous: Any = signal.SIG_DFL
        self._stop: Callable[[], None] | None = None
        self._draining = False

    def attach(self, stop: Callable[[], None]) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signals are the main thread's (a server launching us owns them)
        with self._lock:
            if not self._installed:
                current = signal.getsignal(signal.SIGTERM)
                if current is None or current == signal.SIG_IGN:
                    return  # ignored on purpose, or a handler Python cannot chain to
                self._previous = current
                signal.signal(signal.SIGTERM, self.handle)
                self._installed = True
            self._stop = stop
            self._draining = False

    def detach(self, stop: Callable[[], None]) -> None:
        with self._lock:
            if self._stop == stop:
                self._stop = None
            if (
                self._installed
                and not self._draining
                and threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGTERM) == self.handle
            ):
                signal.signal(signal.SIGTERM, self._previous)
                self._installed = False

    def handle(self, signum: int, frame: FrameType | None) -> None:
        with self._lock:
            stop, previous, draining = self._stop, self._previous, self._draining
            if stop is not None and not draining:
                self._draining = True
        if draining:
            logger.info("SIGTERM again: DBOS is already stopping")
        elif stop is not None:
            logger.info("SIGTERM: DBOS stops taking work and lets the running steps finish")
            exit_after = previous == signal.SIG_DFL
            threading.Thread(
                target=self._drain, args=(stop, exit_after), name="dbos-shutdown", daemon=False
            ).start()
        elif previous == signal.SIG_DFL:
            _end_process(signum)  # no DBOS attached: what the default would do
        if callable(previous):
            previous(signum, frame)

    def _drain(self, stop: Callable[[], None], exit_after: bool) -> None:
        try:
            stop()
        except Exception:
            logger.exception("The graceful stop failed")
        if exit_after and threading.main_thread().is_alive():
            _end_process(signal.SIGTERM)


def _end_process(signum: int) -> None:
    """End the process as SIGTERM's default action does (exit status 128 + signal number),
    with what was printed flushed first. Works from any thread, unlike re-raising the signal,
    which would run an application's handler installed over ours a second time."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(128 + signum)


_sigterm = _SigtermChain()

"""Heartbeat and takeover: each process records that it is alive; survivors take over the
work of a process whose heartbeat is older than the bound.

Work belongs to a process through its owner tokens (`<instance>.<random>`), so a survivor can
tell exactly which PENDING workflows a silent process held. Taking over puts them back on a
queue (their own, or the internal queue for workflows that were started directly), where the
dispatchers of every survivor running that application version share them; the claim is the
compare-and-swap that keeps two survivors from both running one. A clean shutdown ages this
process's heartbeat at once, so nobody waits out the bound for work it left.

A process that could not beat for a while (a database outage or restart, a stall of its own)
does not judge the others until it has beaten steadily for a whole bound again: everybody's
heartbeat went stale in the same outage, and the others need that long to be heard from. Without
this wait the first process back takes over live work, whose steps then run a second time.
"""

from __future__ import annotations

import os
import socket
import threading
import time

from .._clock import real_now_ms
from .._core.running import recover_row
from .._core.runtime import Runtime, logger
from .._db.records import WorkflowRow as W
from .._registry.queues import INTERNAL_QUEUE

DEFAULT_EXECUTOR_TIMEOUT_SEC = 30.0


def heartbeat_interval(timeout_sec: float) -> float:
    return min(5.0, max(timeout_sec / 4, 0.05))


class Heartbeat:
    def __init__(self, runtime: Runtime, timeout_sec: float) -> None:
        self._runtime = runtime
        self._timeout_sec = timeout_sec
        self._interval = heartbeat_interval(timeout_sec)
        self._stopped = threading.Event()
        self.takeovers = 0  # workflows taken over by this process (for tests)
        self._beat()  # the row exists before this process owns any work
        self._last_beat = time.monotonic()
        self._steady_since = float("-inf")  # no stall seen yet: others may be judged at once
        self._thread = threading.Thread(target=self._run, name="dbos-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        try:
            self._runtime.sysdb.queues.mark_stopped(self._runtime.instance_id)
        except Exception as exc:  # the database may be gone; the bound then applies
            logger.warning("Could not record this process's shutdown: %s", exc)

    def _beat(self) -> None:
        rt = self._runtime
        rt.sysdb.queues.heartbeat(
            rt.instance_id, rt.executor_id, rt.app_version, socket.gethostname(), os.getpid()
        )

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self._beat()
                self._note_beat(time.monotonic())
                if self._runtime.unwinding:
                    continue  # stopping gracefully: beat (our work is ours), take none on
                self.resume_abandoned()
                if self.may_judge_others(time.monotonic()):
                    self.take_over()
            except Exception as exc:
                if self._stopped.is_set():
                    return
                logger.warning("Heartbeat: system database unreachable (%s)", exc)

    def _note_beat(self, now: float) -> None:
        """A gap of two intervals since the last beat means this process was not heard from
        either (a beat riding through an outage blocks rather than fails)."""
        if now - self._last_beat > 2 * self._interval:
            self._steady_since = now
        self._last_beat = now

    def may_judge_others(self, now: float) -> bool:
        return now - self._steady_since >= self._timeout_sec

    def resume_abandoned(self) -> int:
        """The database answers again: resume the workflows this process stopped running when
        it did not (they are still PENDING under our owner tokens, unless taken over)."""
        runtime = self._runtime
        resumed = 0
        for workflow_id, owner in runtime.take_abandoned().items():
            row = runtime.sysdb.workflows.get_workflow(workflow_id)
            if row is None or row[W.STATUS] != "PENDING" or row[W.OWNER] != owner:
                continue  # finished, cancelled or taken over meanwhile
            if row[W.QUEUE] is not None:
                runtime.sysdb.queues.requeue_one(workflow_id, owner, row[W.QUEUE])
            else:
                runtime.pool.submit(recover_row, row)
            resumed += 1
        if resumed:
            logger.info("Resuming %d workflows stopped by the database outage", resumed)
        return resumed

    def take_over(self) -> int:
        """Re-enqueue the PENDING work of every process silent past the bound."""
        sysdb = self._runtime.sysdb
        cutoff = real_now_ms() - int(self._timeout_sec * 1000)
        taken = 0
        for instance_id, executor_id in sysdb.queues.stale_instances(cutoff):
            if instance_id == self._runtime.instance_id:
                continue  # we were paused ourselves; our own next checkpoint will tell
            count = sysdb.queues.requeue_owned_by(instance_id, INTERNAL_QUEUE)
            if count:
                logger.warning(
                    "Took over %d workflows of executor %s (process %s), silent for more than %gs",
                    count,
                    executor_id,
                    instance_id,
                    self._timeout_sec,
                )
            taken += count
            sysdb.queues.forget_instance(instance_id, cutoff)
        self.takeovers += taken
        return taken

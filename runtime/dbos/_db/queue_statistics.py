"""PostgreSQL's statistics of queued rows, refreshed when a backlog outgrows them.

PostgreSQL plans every claim from its statistics of `workflow_status`, and autovacuum refreshes
them only after 10% of the table has changed, and at most once a minute. A queue is usually
empty when they are taken, so they describe no queued rows, and a backlog that arrives after
(10,000 enqueued at once; in a table of millions, a burst that never reaches 10%) is invisible
to the planner: it believes the claim-order index empty and chooses plans that read the whole
backlog once per candidate row. Measured on workload 8 (10,000 queued in one partition): a
partitioned claim took 150 ms instead of 3-6 ms, and the drains ran at 400 workflows a second
instead of ~3,000, until autovacuum happened to analyze the table.

So the dispatcher tells this class which queues it claims from, and a background thread
compares, for each of them (on its first claim, then at most every `CHECK_EVERY_SEC`), what
the planner believes (its estimate of the queue's queued rows) with what is queued (counted up
to `COUNT_CAP`);
when a backlog has outgrown its belief several times over, it runs ANALYZE on the table (one
process at a time, under an advisory lock). The belief is per queue because the statistics
are: a new queue filled beside others' backlogs is as invisible as a first backlog. A check
costs a plan and a bounded count per queue; SQLite plans without statistics unless told to
gather them, so it has nothing to do there.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from .connections import Connections
from .sql import advisory_lock_key

logger = logging.getLogger("dbos")

CHECK_EVERY_SEC = 10.0
# Below this many queued rows every plan of a claim is cheap, whatever the planner believes.
BACKLOG_FLOOR = 1000
# Queued rows past this many times the belief: the planner's choices may be off by as much.
OUTGROWN_FACTOR = 4
COUNT_CAP = 20_000

_LOCK_KEY = advisory_lock_key("dbos-statistics:workflow_status")


def outgrown(believed: float, queued: int) -> bool:
    """Whether `queued` rows have outgrown the planner's estimate of `believed`."""
    return queued >= BACKLOG_FLOOR and queued > OUTGROWN_FACTOR * max(believed, 0.0)


class QueuedRowStatistics:
    """Keeps the planner's count of each queue's queued rows within reach of the real one
    (PostgreSQL)."""

    def __init__(self, db: Connections) -> None:
        self._db = db
        self._enabled = db.backend == "postgresql"
        self._lock = threading.Lock()
        self._checked_at: dict[str, float] = {}  # monotonic time of each queue's last check
        self._due: set[str] = set()  # claimed from, and not checked for CHECK_EVERY_SEC
        self._checking = False  # a thread is checking (it takes the due queues as they come)
        self.refreshes = 0  # how many times this process ran ANALYZE (for tests, telemetry)

    def claimed(self, queue_name: str) -> None:
        """A claim of `queue_name` ran: check it in the background, unless it was checked in
        the last `CHECK_EVERY_SEC`. Spaced per queue, not per process: the internal queue's
        check at launch must not put off a backlog's first one (its claims would be planned
        from stale statistics meanwhile: workload 8's first second)."""
        if not self._enabled:
            return
        now = time.monotonic()
        with self._lock:
            last = self._checked_at.get(queue_name)
            if last is not None and now - last < CHECK_EVERY_SEC:
                return
            self._due.add(queue_name)
            if self._checking:
                return  # the thread checking takes it next
            self._checking = True
        threading.Thread(target=self._check_due, name="dbos-queue-statistics", daemon=True).start()

    def _check_due(self) -> None:
        """Check the due queues, and those that become due meanwhile, then end."""
        while True:
            with self._lock:
                queues = sorted(self._due)
                self._due.clear()
                if not queues:
                    self._checking = False
                    return
                now = time.monotonic()
                for name in queues:
                    self._checked_at[name] = now
            try:
                self.refresh_if_outgrown(queues)
            except Exception as exc:  # a maintenance step: a later claim's check tries again
                logger.debug("Queued-row statistics not checked: %s", exc)

    def refresh_if_outgrown(self, queues: list[str]) -> bool:
        """ANALYZE the workflow table if a queue's backlog outgrew the planner's estimate of
        it; whether this call ran it (False too when another process holds the turn)."""
        with self._db.connection() as conn, conn.transaction():
            cur = conn.cursor()
            cur.execute(self._db.sql.TRY_LOCK_STATISTICS, {"lock_key": _LOCK_KEY})
            if not cur.fetchone()[0]:
                return False  # another process is checking, or refreshing them
            grown = self._outgrown_queue(cur, queues)
            if grown is None:
                return False
            started = time.monotonic()
            cur.execute(self._db.sql.ANALYZE_WORKFLOW_STATUS)
        self.refreshes += 1
        name, believed, queued = grown
        logger.info(
            "Refreshed the planner's statistics of workflow_status in %.0f ms: queue %r held "
            "%d queued workflows against %.0f believed",
            (time.monotonic() - started) * 1000,
            name,
            queued,
            believed,
        )
        return True

    def _outgrown_queue(self, cur: Any, queues: list[str]) -> tuple[str, float, int] | None:
        """The first of `queues` whose backlog outgrew the planner's estimate: (its name,
        the estimate, the rows counted), or None."""
        sql = self._db.sql
        for name in queues:
            cur.execute(sql.QUEUED_ROWS_BELIEVED, {"queue_name": name})
            plan = cur.fetchone()[0]
            document = json.loads(plan) if isinstance(plan, str) else plan
            believed = float(document[0]["Plan"]["Plan Rows"])
            cur.execute(sql.QUEUED_ROWS_FOUND, {"queue_name": name, "cap": COUNT_CAP})
            queued = int(cur.fetchone()[0])
            if outgrown(believed, queued):
                return name, believed, queued
        return None

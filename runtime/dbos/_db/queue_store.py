"""Reads and writes of queues and executors: enqueue, claim, re-enqueue, heartbeats."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._clock import real_now_ms
from .._storable_text import WORKFLOW_ROW_NAMES, require_storable_fields
from .batch_enqueue import BatchEnqueueStore, is_dedup_violation
from .records import QUEUE, Deduplicated, now_ms
from .sql import advisory_lock_key, in_list


@dataclass(frozen=True)
class ClaimRequest:
    queue_name: str
    limit: int
    application_version: str
    executor_id: str
    claim_prefix: str  # owner tokens are this prefix + the workflow ID
    concurrency: int | None = None
    rate_limit: int | None = None
    rate_period_sec: float | None = None
    # A partitioned queue's per-partition limits (None: not set) and the partitions already at
    # this process's per-partition limit. `partitioned` False: the plain claim, where a row's
    # partition key (the seed's spelling on a queue that is not partitioned) runs one at a
    # time, in order.
    partitioned: bool = False
    partition_concurrency: int | None = None
    partition_worker_concurrency: int | None = None
    partition_rate_limit: int | None = None
    partition_rate_period_sec: float | None = None
    busy_partitions: tuple[str, ...] = ()
    # Not empty: claim only the heads of these partitions (see `sql.queues._PARTITION_HEADS`);
    # a queue without a shared budget only.
    partition_keys: tuple[str, ...] = ()

    @property
    def shared_budget(self) -> bool:
        return (
            self.concurrency is not None
            or self.rate_limit is not None
            or self.partition_rate_limit is not None
        )

    @property
    def ahead_cap(self) -> int:
        """The most rows of one partition a claim takes at once (the largest partition limit)."""
        caps = (
            self.partition_concurrency,
            self.partition_worker_concurrency,
            self.partition_rate_limit,
        )
        return max((c for c in caps if c is not None), default=1)

    def partition_params(self, now: int) -> dict[str, Any]:
        period_ms = int((self.partition_rate_period_sec or 0) * 1000)
        return {
            "ahead_cap": self.ahead_cap,
            "partition_concurrency": self.partition_concurrency or UNLIMITED,
            "partition_worker_concurrency": self.partition_worker_concurrency or UNLIMITED,
            "partition_rate_limit": self.partition_rate_limit or UNLIMITED,
            "partition_window_start": now - period_ms if self.partition_rate_limit else now,
        }


@dataclass(frozen=True)
class ClaimResult:
    rows: list[Sequence[Any]]
    # With the rate limit used up: when (epoch ms) its window next has room.
    next_slot_ms: int | None = None


# A limit not set, as the claim statements take it (a count no partition reaches).
UNLIMITED = 2**31 - 1
# Stands in the busy-partition list when no partition is busy (`NOT IN` needs one value).
_NO_PARTITION = "\x01dbos: no partition"


class QueueStore(BatchEnqueueStore):
    # ------------------------------------------------------------------ enqueue

    def enqueue_workflow(self, row: Mapping[str, Any]) -> bool:
        """Insert an ENQUEUED row; False when the ID exists already. Raises Deduplicated when
        its deduplication ID is taken (nothing written)."""
        require_storable_fields(row, WORKFLOW_ROW_NAMES)
        sql = self.workflows.insert_sql(row)
        try:
            inserted = self._start_committer.execute(sql, row) == 1
        except Exception as exc:
            if is_dedup_violation(exc):
                raise Deduplicated(row["deduplication_id"]) from exc
            raise
        inserted = inserted or self.workflows.created_by(
            row
        )  # a retried insert meeting its own row
        if inserted and row["status"] == "ENQUEUED":  # not one started here at once
            self.db.wake((QUEUE, str(row["queue_name"]), ""))
        return inserted

    def deduplicated_workflow(self, queue_name: str, deduplication_id: str) -> str | None:
        """The workflow holding this deduplication ID on the queue, or None when it is free."""
        row = self.db.fetchone(
            self.sql.DEDUPLICATED_HOLDER,
            {"queue_name": queue_name, "deduplication_id": deduplication_id},
        )
        return None if row is None else str(row[0])

    # ------------------------------------------------------------------ claim

    def claim(self, req: ClaimRequest) -> ClaimResult:
        """Move up to `req.limit` claimable rows of the queue to PENDING under this process;
        they come back oldest first. Claims of a queue with a shared budget (global
        concurrency, a rate limit) take turns across processes, so the budget holds.

        A claim retried after a lost connection first looks for the rows its first attempt
        may have claimed (their owner tokens carry the claim's prefix): those are its result,
        not work to leave stranded under a live process."""

        def attempt(number: int) -> ClaimResult:
            if number > 0:
                before = self.db.fetchall_once(
                    self.sql.CLAIMED_WITH_PREFIX, {"owner_prefix": f"{req.claim_prefix}%"}
                )
                if before:
                    return ClaimResult(before)
            return self._claim_once(req)

        return self.db.retrying(attempt)

    def _claim_once(self, req: ClaimRequest) -> ClaimResult:
        params: dict[str, Any] = {
            "queue_name": req.queue_name,
            "application_version": req.application_version,
            "executor_id": req.executor_id,
            "claim": req.claim_prefix,
            "now": now_ms(),
            "limit": req.limit,
        }
        if req.partition_keys:
            return self._claim_heads(req, params)
        if self.backend == "postgresql":
            claim_sql = self.sql.CLAIM_BATCH
            if req.partitioned:
                claim_sql, busy = in_list(
                    self.sql.CLAIM_PARTITIONED,
                    self.backend,
                    list(req.busy_partitions) or [_NO_PARTITION],
                )
                params |= busy
            if not req.shared_budget:
                if req.partitioned:
                    params |= req.partition_params(params["now"])
                return ClaimResult(self.db.fetchall_once(claim_sql, params))
            with self.db.connection() as conn, conn.transaction():
                cur = conn.cursor()
                lock_key = advisory_lock_key(f"dbos-queue:{req.queue_name}")
                cur.execute(self.sql.LOCK_QUEUE, {"lock_key": lock_key})
                params["now"] = now_ms()  # the start time is when we hold the queue
                if req.partitioned:
                    params |= req.partition_params(params["now"])
                room, next_slot = self._room(cur, req, params["now"])
                if room <= 0:
                    return ClaimResult([], next_slot)
                cur.execute(claim_sql, params | {"limit": min(room, req.limit)})
                return ClaimResult(list(cur.fetchall()))
        with self.db.transaction() as cur:  # BEGIN IMMEDIATE: no other writer meanwhile
            params["now"] = now_ms()  # taken once the write lock is ours
            limit = req.limit
            if req.shared_budget:
                room, next_slot = self._room(cur, req, params["now"])
                if room <= 0:
                    return ClaimResult([], next_slot)
                limit = min(room, limit)
            select_sql = self.sql.SELECT_CLAIMABLE
            if req.partitioned:
                select_sql, busy = in_list(
                    self.sql.SELECT_CLAIMABLE_PARTITIONED,
                    self.backend,
                    list(req.busy_partitions) or [_NO_PARTITION],
                )
                params |= busy | req.partition_params(params["now"])
            cur.execute(select_sql, params | {"limit": limit})
            return self._mark_claimed(cur, params, [str(r[0]) for r in cur.fetchall()])

    def _claim_heads(self, req: ClaimRequest, params: dict[str, Any]) -> ClaimResult:
        """The claim of `req.partition_keys`' heads: one statement on PostgreSQL, a select and
        an update inside BEGIN IMMEDIATE on SQLite."""
        if req.shared_budget:
            raise ValueError("a claim of named partitions cannot keep a shared budget")
        params |= req.partition_params(params["now"])
        keys = list(req.partition_keys)
        if self.backend == "postgresql":
            params["partition_keys"] = keys
            return ClaimResult(self.db.fetchall_once(self.sql.CLAIM_PARTITION_HEADS, params))
        params["partition_keys"] = json.dumps(keys)
        with self.db.transaction() as cur:
            params["now"] = now_ms()
            cur.execute(self.sql.SELECT_PARTITION_HEADS, params)
            return self._mark_claimed(cur, params, [str(r[0]) for r in cur.fetchall()])

    def _mark_claimed(self, cur: Any, params: Mapping[str, Any], ids: list[str]) -> ClaimResult:
        """SQLite: the selected rows moved to PENDING under this claim, in the selected order."""
        if not ids:
            return ClaimResult([])
        sql, id_params = in_list(self.sql.MARK_CLAIMED, self.backend, ids)
        cur.execute(sql, {**params, **id_params})
        by_id = {str(r[0]): r for r in cur.fetchall()}
        return ClaimResult([by_id[i] for i in ids if i in by_id])

    def _room(self, cur: Any, req: ClaimRequest, now: int) -> tuple[int, int | None]:
        """How many more may start now, and (when the rate limit is the bound) when one may."""
        period_ms = int((req.rate_period_sec or 0) * 1000)
        cur.execute(
            self.sql.QUEUE_USAGE,
            {"queue_name": req.queue_name, "window_start": now - period_ms},
        )
        running, started, oldest = cur.fetchone()
        room = req.limit
        if req.concurrency is not None:
            room = min(room, req.concurrency - int(running))
        next_slot: int | None = None
        if req.rate_limit is not None:
            left = req.rate_limit - int(started)
            if left <= 0 and oldest is not None:
                next_slot = int(oldest) + period_ms + 1
            room = min(room, left)
        return room, next_slot

    def queues_with_work(self, names: list[str]) -> list[str]:
        """Which of these queues have ENQUEUED rows (the change poller's check)."""
        sql, params = in_list(self.sql.HAS_ENQUEUED, self.backend, names)
        return [str(r[0]) for r in self.db.fetchall(sql, params)]

    # ------------------------------------------------------------------ delays and debouncing

    def promote_due(self) -> set[str]:
        """Move every DELAYED workflow whose time has come to its queue; the queues woken."""
        rows = self.db.execute_returning(self.sql.PROMOTE_DUE, {"now": now_ms()})
        queues = {str(r[0]) for r in rows}
        for queue in queues:
            self.db.wake((QUEUE, queue, ""))
        return queues

    def set_workflow_delay(self, workflow_id: str, delay_until_ms: int) -> bool:
        """Move a DELAYED workflow's start; False when it is not (or no longer) waiting."""
        params = {"workflow_uuid": workflow_id, "delay_until": delay_until_ms, "now": now_ms()}
        return self.db.execute(self.sql.SET_WORKFLOW_DELAY, params) == 1

    def next_due_ms(self) -> int | None:
        row = self.db.fetchone(self.sql.NEXT_DUE, {})
        return None if row is None or row[0] is None else int(row[0])

    def extend_debounce(
        self,
        queue_name: str,
        deduplication_id: str,
        inputs: str,
        serialization: str,
        application_version: str | None,
        due_ms: int,
    ) -> str | None:
        """Push back the start of the waiting workflow of this debounce key, with new inputs;
        its ID, or None when no workflow of the key waits any more."""
        rows = self.db.execute_returning(
            self.sql.EXTEND_DEBOUNCE,
            {
                "queue_name": queue_name,
                "deduplication_id": deduplication_id,
                "inputs": inputs,
                "serialization": serialization,
                "application_version": application_version,
                "due": due_ms,
                "now": now_ms(),
            },
        )
        return str(rows[0][0]) if rows else None

    # ------------------------------------------------------------------ re-enqueue

    def requeue_owned_by(self, instance_id: str, internal_queue: str) -> int:
        """Put every PENDING workflow a (dead) process held back on a queue."""
        count = self.db.execute(
            self.sql.REQUEUE_OWNED_BY,
            {"owner_prefix": f"{instance_id}.%", "internal_queue": internal_queue, "now": now_ms()},
        )
        if count:
            self.db.wake((QUEUE, internal_queue, ""))
        return count

    def requeue_one(
        self, workflow_id: str, owner: str, queue_name: str, *, give_back_attempt: bool = False
    ) -> bool:
        """Put a PENDING workflow of `owner` back on its queue; `give_back_attempt` for one
        just claimed that this process cannot run (the claim's attempt is not counted)."""
        done = self.db.execute(
            self.sql.HAND_BACK_ONE if give_back_attempt else self.sql.REQUEUE_ONE,
            {"workflow_uuid": workflow_id, "owner_xid": owner, "now": now_ms()},
        )
        if done:
            self.db.wake((QUEUE, queue_name, ""))
        return done == 1

    def requeue_for_resume(self, workflow_id: str, queue_name: str) -> bool:
        done = self.db.execute(
            self.sql.REQUEUE_FOR_RESUME,
            {"workflow_uuid": workflow_id, "queue_name": queue_name, "now": now_ms()},
        )
        if done:
            self.db.wake((QUEUE, queue_name, ""))
        return done == 1

    # ------------------------------------------------------------------ executors

    def heartbeat(
        self,
        instance_id: str,
        executor_id: str,
        application_version: str,
        hostname: str,
        pid: int,
    ) -> None:
        self.db.execute(
            self.sql.HEARTBEAT,
            {
                "instance_id": instance_id,
                "executor_id": executor_id,
                "application_version": application_version,
                "hostname": hostname,
                "pid": pid,
                "now": real_now_ms(),  # liveness: judged by other processes' real clocks
            },
        )

    def mark_stopped(self, instance_id: str) -> None:
        """A clean shutdown: survivors may take this process's work over at once."""
        self.db.execute(self.sql.MARK_STOPPED, {"instance_id": instance_id})

    def instances(self) -> list[Sequence[Any]]:
        """(instance_id, executor_id, hostname, pid, heartbeat_at) of every known process."""
        return self.db.fetchall(self.sql.SELECT_INSTANCES, {})

    def stale_instances(self, cutoff_ms: int) -> list[tuple[str, str]]:
        rows = self.db.fetchall(self.sql.STALE_INSTANCES, {"cutoff": cutoff_ms})
        return [(str(r[0]), str(r[1])) for r in rows]

    def forget_instance(self, instance_id: str, cutoff_ms: int) -> None:
        self.db.execute(self.sql.FORGET_INSTANCE, {"instance_id": instance_id, "cutoff": cutoff_ms})

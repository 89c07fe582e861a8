"""Statements of queues (claims, limits, re-enqueues) and of executors (heartbeats, takeover).

A claim moves ENQUEUED rows of one queue to PENDING under this process's owner token in one
statement, oldest first by priority and enqueue order (`{seq}`: the rowid on SQLite, a column
on PostgreSQL); that commit is also the workflows' start, so a dequeued workflow costs no write
of its own before its first step. A row with a partition key is claimable only at the head of
its partition and while no other row of that partition runs: one at a time per key, in order.
A row of no particular version (enqueued by a client) is claimed by the processes of the latest
application version only (`application_versions`), as upstream's.
"""

from __future__ import annotations

from typing import Final

from .workflows import _WORKFLOW_COLUMNS

# This process's version, or none when it is the latest (one uncorrelated subquery, evaluated
# once per statement: the claim gains no query).
_VERSION_MATCH = """(w.application_version = :application_version OR (
        w.application_version IS NULL AND COALESCE((
            SELECT v.version_name FROM {s}application_versions v
            ORDER BY v.version_timestamp DESC, v.created_at DESC, v.version_name LIMIT 1
        ), :application_version) = :application_version
    ))"""

_CLAIMABLE = f"""
    w.queue_name = :queue_name AND w.status = 'ENQUEUED'
    AND {_VERSION_MATCH}
    AND (w.queue_partition_key IS NULL OR (
        NOT EXISTS (
            SELECT 1 FROM {{s}}workflow_status r
            WHERE r.queue_name = w.queue_name AND r.queue_partition_key = w.queue_partition_key
                AND r.status = 'PENDING'
        )
        AND NOT EXISTS (
            SELECT 1 FROM {{s}}workflow_status e
            WHERE e.queue_name = w.queue_name AND e.queue_partition_key = w.queue_partition_key
                AND e.status = 'ENQUEUED'
                AND (e.priority, e.partition_round, e.{{seq}})
                    < (w.priority, w.partition_round, w.{{seq}})
        )
    ))"""

_CLAIMED_SET = """
    status = 'PENDING', executor_id = :executor_id, owner_xid = :claim || workflow_uuid,
    started_at_epoch_ms = :now, updated_at = :now, recovery_attempts = recovery_attempts + 1,
    application_version = :application_version,
    workflow_deadline_epoch_ms = CASE WHEN workflow_timeout_ms IS NULL
        THEN workflow_deadline_epoch_ms ELSE :now + workflow_timeout_ms END"""

# PostgreSQL: select, lock (skipping rows another claim holds) and claim in one statement.
CLAIM_BATCH: Final = f"""
WITH picked AS (
    SELECT w.workflow_uuid FROM {{s}}workflow_status w
    WHERE {_CLAIMABLE}
    ORDER BY w.priority, w.partition_round, w.{{seq}}
    LIMIT :limit
    FOR UPDATE OF w SKIP LOCKED
)
UPDATE {{s}}workflow_status SET {_CLAIMED_SET}
WHERE workflow_uuid IN (SELECT workflow_uuid FROM picked)
RETURNING {_WORKFLOW_COLUMNS}
"""

# SQLite: the same in two statements, inside a BEGIN IMMEDIATE that excludes other writers.
SELECT_CLAIMABLE: Final = f"""
SELECT w.workflow_uuid FROM {{s}}workflow_status w
WHERE {_CLAIMABLE}
ORDER BY w.priority, w.partition_round, w.{{seq}}
LIMIT :limit
"""

MARK_CLAIMED: Final = f"""
UPDATE {{s}}workflow_status SET {_CLAIMED_SET}
WHERE workflow_uuid IN ({{ids}}) AND status = 'ENQUEUED'
RETURNING {_WORKFLOW_COLUMNS}
"""

# A partitioned queue: each partition bounded by its limits (how many of it run anywhere, how
# many started within its limiter's window, how many this process runs: partitions at that
# limit are left out by `{ids}`), fairly (rows in fair-round order: see `partition_round`).
# The candidates are a bounded window of the queue's first rows in that order, so a claim's
# cost does not grow with the backlog or the number of partitions: a partition that cannot
# take more holds back only its head (whose round keeps new partitions' rounds just behind
# it), so the window needs little more than the batch plus the partitions now running.
# The window is a prefix of the queue's order, so a row's place in its partition within the
# window (`here`, a window function) is where it stands among this version's rows; only rows
# within `:ahead_cap` of their partition's head are checked against the partition's limits:
# rows of other versions ahead of them (an index probe each), the partition's running ones,
# and its recent starts (a probe, only with a partition rate limit). On PostgreSQL the running
# rows are counted per partition once per claim, into one JSON object each head looks itself
# up in (an uncorrelated subquery: evaluated once, whatever the plan). Joined to the heads,
# the count was planned, with statistics from before anything ran, as a scan repeated for
# each head (101 heads x 100 running rows, 10-40 ms a claim in workload 8); a probe per head
# could be planned through the queue's running rows for each. SQLite probes each head's
# partition in its index (no plan there walks the running rows per head). `{fence}` keeps
# the planner from inlining the probes into each of the comparisons that use them. The probe
# of rows ahead is ordered as the partition's index is, though any `:ahead_cap` rows would
# count the same: unordered, a LIMIT lets the planner expect its rows early in a sequential
# scan (it estimates the partition's rows, not the few, usually none, ahead of its head), and
# it read the whole table once per candidate row (150 ms a claim with 11,000 rows). In
# order, only the partition's index finds them cheaply.
# On PostgreSQL the partition key leads the comparison (the same test, the key being equal):
# the queue's claim-order index then cannot serve it as a range, only the partition's can.
# With statistics taken while one partition held the whole queue, the planner expected a row
# ahead at once through the queue's index and filtered its head of the queue once per
# partition instead (0.45 ms a probe, 42 ms a claim of 94; workload 8's cold tenants waited
# 180-250 ms at the median instead of 45). SQLite found no index for the longer comparison.
_PARTITION_CANDIDATES = """
SELECT h.workflow_uuid FROM (
    SELECT c.workflow_uuid, c.queue_partition_key, c.priority, c.partition_round, c.o,
        (SELECT count(*) FROM (
            SELECT 1 FROM {s}workflow_status e
            WHERE e.queue_name = :queue_name AND e.queue_partition_key = c.queue_partition_key
                AND e.status = 'ENQUEUED'
                AND ({postgresql:e.queue_partition_key, }e.priority, e.partition_round, e.{seq})
                    < ({postgresql:c.queue_partition_key, }c.priority, c.partition_round, c.o)
            ORDER BY e.priority, e.partition_round, e.{seq}
            LIMIT :ahead_cap) a) AS ahead,
        {postgresql:COALESCE(((SELECT jsonb_object_agg(p.k, p.n) FROM (
            SELECT queue_partition_key AS k, count(*) AS n FROM {s}workflow_status
            WHERE queue_name = :queue_name AND status = 'PENDING'
                AND queue_partition_key IS NOT NULL
            GROUP BY queue_partition_key) p) ->> c.queue_partition_key)::bigint, 0)}
        {sqlite:(SELECT count(*) FROM {s}workflow_status r
            WHERE r.queue_name = :queue_name AND r.queue_partition_key = c.queue_partition_key
                AND r.status = 'PENDING')} AS running,
        CASE WHEN :partition_rate_limit < 2147483647 THEN (SELECT count(*) FROM (
            SELECT 1 FROM {s}workflow_status t
            WHERE t.queue_name = :queue_name AND t.queue_partition_key = c.queue_partition_key
                AND t.started_at_epoch_ms > :partition_window_start
            LIMIT :partition_rate_limit) d) ELSE 0 END AS started
    FROM (
        SELECT w.*, row_number() OVER (
            PARTITION BY w.queue_partition_key ORDER BY w.priority, w.partition_round, w.o
        ) - 1 AS here
        FROM (
            SELECT workflow_uuid, queue_partition_key, priority, partition_round, {seq} AS o
            FROM {s}workflow_status w
            WHERE queue_name = :queue_name AND status = 'ENQUEUED' AND __VERSION_MATCH__
            ORDER BY priority, partition_round, {seq}
            LIMIT :limit * 2 + 64 + 2 * (
                SELECT count(*) FROM {s}workflow_status
                WHERE queue_name = :queue_name AND status = 'PENDING')
        ) w
    ) c
    WHERE c.queue_partition_key IS NULL OR (
        c.here < :ahead_cap AND c.queue_partition_key NOT IN ({ids}))
    {fence}
) h
WHERE h.queue_partition_key IS NULL OR (
    h.ahead < :partition_worker_concurrency
    AND h.ahead + h.running < :partition_concurrency
    AND h.ahead + h.started < :partition_rate_limit
)
ORDER BY h.priority, h.partition_round, h.o
LIMIT :limit
""".replace("__VERSION_MATCH__", _VERSION_MATCH)

CLAIM_PARTITIONED: Final = f"""
WITH picked AS (
    SELECT w.workflow_uuid FROM {{s}}workflow_status w
    WHERE w.workflow_uuid IN ({_PARTITION_CANDIDATES}) AND w.status = 'ENQUEUED'
    FOR UPDATE OF w SKIP LOCKED
)
UPDATE {{s}}workflow_status SET {_CLAIMED_SET}
WHERE workflow_uuid IN (SELECT workflow_uuid FROM picked)
RETURNING {_WORKFLOW_COLUMNS}
"""

SELECT_CLAIMABLE_PARTITIONED: Final = _PARTITION_CANDIDATES

# A partitioned queue's claim limited to named partitions (those whose workflow just finished
# here): each one's first `:ahead_cap` queued rows, found through the partition's own index,
# checked against the partition's limits as the full claim checks them (`ahead`: rows of any
# version before it in its partition; `running`: the partition's PENDING rows). It reads
# nothing of the other partitions, so its cost follows the partitions named, not the queue.
# Only where the full claim would take the same rows: a queue without a shared budget (see
# `QueueDispatcher._claim_heads`). `{heads}` is the dialect's "first rows of each named
# partition" as `e`, with the key as `k.key`.
_PARTITION_HEADS = """
SELECT h.workflow_uuid FROM (
    SELECT e.workflow_uuid, e.application_version AS av, e.priority, e.partition_round, e.o,
        row_number() OVER (
            PARTITION BY e.queue_partition_key ORDER BY e.priority, e.partition_round, e.o
        ) - 1 AS ahead,
        (SELECT count(*) FROM {s}workflow_status r
         WHERE r.queue_name = :queue_name AND r.queue_partition_key = e.queue_partition_key
            AND r.status = 'PENDING') AS running
    FROM {heads}
) h
WHERE __VERSION_MATCH__
    AND h.ahead < :partition_worker_concurrency
    AND h.ahead + h.running < :partition_concurrency
ORDER BY h.priority, h.partition_round, h.o
LIMIT :limit
""".replace("__VERSION_MATCH__", _VERSION_MATCH.replace("w.application_version", "h.av"))

# PostgreSQL: the keys as one array; each partition's rows through a lateral index scan.
_HEADS_POSTGRES = """unnest(CAST(:partition_keys AS text[])) AS k(key)
    CROSS JOIN LATERAL (
        SELECT f.workflow_uuid, f.application_version, f.queue_partition_key, f.priority,
            f.partition_round, f.seq AS o
        FROM {s}workflow_status f
        WHERE f.queue_name = :queue_name AND f.queue_partition_key = k.key
            AND f.status = 'ENQUEUED'
        ORDER BY f.priority, f.partition_round, f.seq
        LIMIT :ahead_cap
    ) e"""

CLAIM_PARTITION_HEADS: Final = f"""
WITH picked AS (
    SELECT w.workflow_uuid FROM {{s}}workflow_status w
    WHERE w.workflow_uuid IN ({_PARTITION_HEADS.replace("{heads}", _HEADS_POSTGRES)})
        AND w.status = 'ENQUEUED'
    FOR UPDATE OF w SKIP LOCKED
)
UPDATE {{s}}workflow_status SET {_CLAIMED_SET}
WHERE workflow_uuid IN (SELECT workflow_uuid FROM picked)
RETURNING {_WORKFLOW_COLUMNS}
"""

# SQLite (no LATERAL): the keys as one JSON array, each partition's rows by rowid through a
# correlated subquery on the partition's index.
_HEADS_SQLITE = """(SELECT e0.workflow_uuid, e0.application_version, e0.queue_partition_key,
            e0.priority, e0.partition_round, e0.rowid AS o
        FROM json_each(:partition_keys) AS k
        JOIN {s}workflow_status e0 ON e0.rowid IN (
            SELECT f.rowid FROM {s}workflow_status f
            WHERE f.queue_name = :queue_name AND f.queue_partition_key = k.value
                AND f.status = 'ENQUEUED'
            ORDER BY f.priority, f.partition_round, f.rowid
            LIMIT :ahead_cap)
    ) e"""

SELECT_PARTITION_HEADS: Final = _PARTITION_HEADS.replace("{heads}", _HEADS_SQLITE)

CLAIMED_WITH_PREFIX: Final = f"""
SELECT {_WORKFLOW_COLUMNS} FROM {{s}}workflow_status
WHERE status = 'PENDING' AND owner_xid LIKE :owner_prefix
ORDER BY priority, {{seq}}
"""

# How much of a queue's shared budget is in use: running workflows (global concurrency) and
# starts within the limiter's window.
QUEUE_USAGE: Final = """
SELECT
    (SELECT count(*) FROM {s}workflow_status
     WHERE queue_name = :queue_name AND status = 'PENDING'),
    (SELECT count(*) FROM {s}workflow_status
     WHERE queue_name = :queue_name AND started_at_epoch_ms > :window_start),
    (SELECT min(started_at_epoch_ms) FROM {s}workflow_status
     WHERE queue_name = :queue_name AND started_at_epoch_ms > :window_start)
"""

# Claims of a queue with a shared budget take turns across processes (PostgreSQL).
LOCK_QUEUE: Final = """
SELECT pg_advisory_xact_lock(:lock_key)
"""

HAS_ENQUEUED: Final = """
SELECT DISTINCT queue_name FROM {s}workflow_status
WHERE queue_name IN ({ids}) AND status = 'ENQUEUED'
"""

# A dead process's queued work goes back to its queue; its other pending work to the
# internal queue, so that every survivor (not just the first to look) shares it.
REQUEUE_OWNED_BY: Final = """
UPDATE {s}workflow_status
SET status = 'ENQUEUED', queue_name = COALESCE(queue_name, :internal_queue),
    executor_id = NULL, updated_at = :now
WHERE status = 'PENDING' AND owner_xid LIKE :owner_prefix
"""

# A PENDING workflow of a queue back on it: recovered at launch, or taken over from a dead
# executor (its attempt stays counted: the next claim counts one more, so its run loads the
# steps recorded so far).
REQUEUE_ONE: Final = """
UPDATE {s}workflow_status
SET status = 'ENQUEUED', executor_id = NULL, updated_at = :now
WHERE workflow_uuid = :workflow_uuid AND status = 'PENDING' AND owner_xid = :owner_xid
"""

# A claimed workflow this process cannot run (its code, or its values' format, is not here),
# handed back: the claim's attempt is given back too, so a worker looking at it now and then
# never dead-letters it for want of what another worker has.
HAND_BACK_ONE: Final = """
UPDATE {s}workflow_status
SET status = 'ENQUEUED', executor_id = NULL, updated_at = :now,
    recovery_attempts = recovery_attempts - 1
WHERE workflow_uuid = :workflow_uuid AND status = 'PENDING' AND owner_xid = :owner_xid
"""

HEARTBEAT: Final = """
INSERT INTO {s}executors (
    instance_id, executor_id, application_version, hostname, pid, started_at, heartbeat_at
) VALUES (:instance_id, :executor_id, :application_version, :hostname, :pid, :now, :now)
ON CONFLICT (instance_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at
"""

SELECT_INSTANCES: Final = """
SELECT instance_id, executor_id, hostname, pid, heartbeat_at FROM {s}executors
"""

# A clean shutdown ages the heartbeat at once: survivors need not wait out the bound.
MARK_STOPPED: Final = """
UPDATE {s}executors SET heartbeat_at = 0 WHERE instance_id = :instance_id
"""

STALE_INSTANCES: Final = """
SELECT instance_id, executor_id FROM {s}executors WHERE heartbeat_at < :cutoff
"""

FORGET_INSTANCE: Final = """
DELETE FROM {s}executors WHERE instance_id = :instance_id AND heartbeat_at < :cutoff
"""

# Delayed workflows whose time has come join their queue. A debounced one gives its
# deduplication ID back as it does, so the next call with its key opens a new window.
PROMOTE_DUE: Final = """
UPDATE {s}workflow_status
SET status = 'ENQUEUED', updated_at = :now,
    deduplication_id = CASE WHEN debounce_deadline_epoch_ms IS NULL THEN deduplication_id END
WHERE status = 'DELAYED' AND delay_until_epoch_ms <= :now
RETURNING queue_name
"""

NEXT_DUE: Final = """
SELECT min(delay_until_epoch_ms) FROM {s}workflow_status WHERE status = 'DELAYED'
"""

# A call within a debounce window: the latest arguments win, and the start moves to `:due`
# (but never past the window's deadline). Only while the workflow still waits.
EXTEND_DEBOUNCE: Final = """
UPDATE {s}workflow_status
SET inputs = :inputs, serialization = :serialization,
    application_version = :application_version, updated_at = :now,
    delay_until_epoch_ms = CASE
        WHEN :due < COALESCE(debounce_deadline_epoch_ms, :due) THEN :due
        ELSE COALESCE(debounce_deadline_epoch_ms, :due) END
WHERE queue_name = :queue_name AND deduplication_id = :deduplication_id AND status = 'DELAYED'
RETURNING workflow_uuid
"""

SET_DELAY: Final = """
UPDATE {s}workflow_status
SET delay_until_epoch_ms = :delay_until, debounce_deadline_epoch_ms = :debounce_deadline
WHERE workflow_uuid = :workflow_uuid AND status = 'DELAYED'
"""

# The workflow holding a deduplication ID (queued, delayed or running): what an enqueue with
# duplication_policy "return-existing" attaches to.
DEDUPLICATED_HOLDER: Final = """
SELECT workflow_uuid FROM {s}workflow_status
WHERE queue_name = :queue_name AND deduplication_id = :deduplication_id
"""

# `set_workflow_delay`: a new start time for a workflow still waiting DELAYED.
SET_WORKFLOW_DELAY: Final = """
UPDATE {s}workflow_status SET delay_until_epoch_ms = :delay_until, updated_at = :now
WHERE workflow_uuid = :workflow_uuid AND status = 'DELAYED'
"""

# PostgreSQL: how many queued rows of a queue the planner believes there are (its estimate,
# from the table's statistics as of its last ANALYZE) and how many there are, counted up to
# `:cap` (see `queue_statistics.py`).
QUEUED_ROWS_BELIEVED: Final = """
EXPLAIN (FORMAT JSON)
SELECT 1 FROM {s}workflow_status WHERE queue_name = :queue_name AND status = 'ENQUEUED'
"""

QUEUED_ROWS_FOUND: Final = """
SELECT count(*) FROM (
    SELECT 1 FROM {s}workflow_status
    WHERE queue_name = :queue_name AND status = 'ENQUEUED'
    ORDER BY priority, partition_round, {seq}
    LIMIT :cap) q
"""

# One process refreshes the statistics at a time; the others skip their turn.
TRY_LOCK_STATISTICS: Final = """
SELECT pg_try_advisory_xact_lock(:lock_key)
"""

# Only the columns claims and flushes filter and order on (and the table's row count, which
# any ANALYZE refreshes): the inputs and outputs are large texts whose statistics no claim
# uses, and computing them doubled the refresh (127-146 ms against 59-72 ms on a table of
# 33,000 rows), run on the machine that is draining the backlog. Autovacuum's own ANALYZE
# refreshes every column.
ANALYZE_WORKFLOW_STATUS: Final = """
ANALYZE {s}workflow_status (queue_name, status, queue_partition_key, priority, partition_round,
    seq, application_version, started_at_epoch_ms, executor_id)
"""

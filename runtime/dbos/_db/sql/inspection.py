"""Statements of the admin tools (`dbos` command, dashboard): what a workflow received, set
and wrote, how deep each queue is, which processes are alive. Read-only, never on a hot path.
"""

from __future__ import annotations

from typing import Final

INSPECT_MESSAGES: Final = """
SELECT seq, message_uuid, topic, message, serialization, consumed, created_at_epoch_ms
FROM {s}notifications WHERE destination_uuid = :workflow_uuid ORDER BY seq LIMIT :limit
"""

INSPECT_EVENTS: Final = """
SELECT key, value, serialization FROM {s}workflow_events
WHERE workflow_uuid = :workflow_uuid ORDER BY key
"""

INSPECT_EVENT_HISTORY: Final = """
SELECT function_id, key, value, serialization FROM {s}workflow_events_history
WHERE workflow_uuid = :workflow_uuid ORDER BY function_id, key
"""

INSPECT_STREAMS: Final = """
SELECT key, seq, value, serialization, function_id FROM {s}streams
WHERE workflow_uuid = :workflow_uuid ORDER BY key, seq LIMIT :limit
"""

# Live workflows per queue and status, through the (queue_name, status) index.
INSPECT_QUEUE_DEPTHS: Final = """
SELECT queue_name, status, count(*) FROM {s}workflow_status
WHERE queue_name IS NOT NULL AND status IN ('ENQUEUED', 'PENDING', 'DELAYED')
GROUP BY queue_name, status
"""

# How many partitions of each queue hold live work, through the partition index.
INSPECT_PARTITION_COUNTS: Final = """
SELECT queue_name, count(DISTINCT queue_partition_key) FROM {s}workflow_status
WHERE queue_name IS NOT NULL AND queue_partition_key IS NOT NULL
    AND status IN ('ENQUEUED', 'PENDING', 'DELAYED')
GROUP BY queue_name
"""

# One queue's largest partitions (live workflows, by status), largest first.
INSPECT_PARTITIONS: Final = """
SELECT queue_partition_key,
    sum(CASE WHEN status = 'ENQUEUED' THEN 1 ELSE 0 END),
    sum(CASE WHEN status = 'PENDING' THEN 1 ELSE 0 END),
    sum(CASE WHEN status = 'DELAYED' THEN 1 ELSE 0 END),
    count(*) AS live
FROM {s}workflow_status
WHERE queue_name = :queue_name AND queue_partition_key IS NOT NULL
    AND status IN ('ENQUEUED', 'PENDING', 'DELAYED')
GROUP BY queue_partition_key
ORDER BY live DESC, queue_partition_key
LIMIT :limit
"""

INSPECT_EXECUTORS: Final = """
SELECT instance_id, executor_id, application_version, hostname, pid, started_at, heartbeat_at
FROM {s}executors ORDER BY heartbeat_at DESC
"""

# Running workflows per executor ID, through the (executor_id, status) index.
INSPECT_RUNNING: Final = """
SELECT executor_id, count(*) FROM {s}workflow_status
WHERE status = 'PENDING' AND executor_id IS NOT NULL GROUP BY executor_id
"""

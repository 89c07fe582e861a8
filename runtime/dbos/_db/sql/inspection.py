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

INSPECT_QUEUES: Final = """
SELECT name, concurrency, worker_concurrency, rate_limit_max, rate_limit_period_sec,
    priority_enabled, partition_queue, updated_at
FROM {s}queues ORDER BY name
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

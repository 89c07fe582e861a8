"""Statements on the `queues` table: queues registered at run time and declared in code."""

from __future__ import annotations

from typing import Final

_QUEUE_COLUMNS = """name, concurrency, worker_concurrency, rate_limit_max,
    rate_limit_period_sec, priority_enabled, partition_queue, partition_concurrency,
    partition_worker_concurrency, partition_rate_limit_max, partition_rate_limit_period_sec,
    polling_interval_sec, declared_in_code, application_name, created_at, updated_at"""

_SETTINGS = """concurrency = excluded.concurrency,
    worker_concurrency = excluded.worker_concurrency,
    rate_limit_max = excluded.rate_limit_max,
    rate_limit_period_sec = excluded.rate_limit_period_sec,
    priority_enabled = excluded.priority_enabled, partition_queue = excluded.partition_queue,
    partition_concurrency = excluded.partition_concurrency,
    partition_worker_concurrency = excluded.partition_worker_concurrency,
    partition_rate_limit_max = excluded.partition_rate_limit_max,
    partition_rate_limit_period_sec = excluded.partition_rate_limit_period_sec,
    polling_interval_sec = excluded.polling_interval_sec,
    declared_in_code = excluded.declared_in_code, updated_at = excluded.updated_at"""

_INSERT = """
INSERT INTO {s}queues AS q (
    name, queue_id, concurrency, worker_concurrency, rate_limit_max, rate_limit_period_sec,
    priority_enabled, partition_queue, partition_concurrency, partition_worker_concurrency,
    partition_rate_limit_max, partition_rate_limit_period_sec, polling_interval_sec,
    declared_in_code, application_name, created_at, updated_at
) VALUES (
    :name, :queue_id, :concurrency, :worker_concurrency, :rate_limit_max,
    :rate_limit_period_sec, :priority_enabled, :partition_queue, :partition_concurrency,
    :partition_worker_concurrency, :partition_rate_limit_max,
    :partition_rate_limit_period_sec, :polling_interval_sec, :declared_in_code,
    :application_name, :now, :now
)"""

# A registration: new, or (on_conflict 'always_update') replacing the settings; the owning
# application stays the first registrar's.
REGISTER_QUEUE: Final = (
    _INSERT + f"\nON CONFLICT (name) DO UPDATE SET {_SETTINGS},"
    "\n    application_name = COALESCE(q.application_name, excluded.application_name)"
)

REGISTER_QUEUE_IF_NEW: Final = _INSERT + "\nON CONFLICT (name) DO NOTHING"

# A queue declared in code, recorded when its process launches (or declares it later): its
# settings are the code's, but a queue registered at run time under the same name keeps its
# row (the declaring process serves its own settings; others keep the registered ones).
RECORD_DECLARED_QUEUE: Final = (
    _INSERT + f"\nON CONFLICT (name) DO UPDATE SET {_SETTINGS}\nWHERE q.declared_in_code"
)

SELECT_QUEUE: Final = f"""
SELECT {_QUEUE_COLUMNS} FROM {{s}}queues WHERE name = :name
"""

SELECT_QUEUE_FOR_UPDATE: Final = f"""
SELECT {_QUEUE_COLUMNS} FROM {{s}}queues WHERE name = :name{{postgresql: FOR UPDATE}}
"""

SELECT_QUEUES: Final = f"""
SELECT {_QUEUE_COLUMNS} FROM {{s}}queues ORDER BY name
"""

# What a dispatcher serves besides its own code's queues, read every refresh: small (one row
# per registered queue) and only the settings.
SELECT_REGISTERED_QUEUES: Final = f"""
SELECT {_QUEUE_COLUMNS} FROM {{s}}queues WHERE NOT declared_in_code ORDER BY name
"""

UPDATE_QUEUE_SETTINGS: Final = """
UPDATE {s}queues SET
    concurrency = :concurrency, worker_concurrency = :worker_concurrency,
    rate_limit_max = :rate_limit_max, rate_limit_period_sec = :rate_limit_period_sec,
    priority_enabled = :priority_enabled, partition_queue = :partition_queue,
    partition_concurrency = :partition_concurrency,
    partition_worker_concurrency = :partition_worker_concurrency,
    partition_rate_limit_max = :partition_rate_limit_max,
    partition_rate_limit_period_sec = :partition_rate_limit_period_sec,
    polling_interval_sec = :polling_interval_sec, updated_at = :now
WHERE name = :name AND NOT declared_in_code
"""

# The work a queue holds: what a delete would strand (a DELAYED or ENQUEUED workflow would
# never be claimed again; a PENDING one would be requeued onto it after a crash).
QUEUE_WORK: Final = """
SELECT status, count(*) FROM {s}workflow_status
WHERE queue_name = :name AND status IN ('DELAYED', 'ENQUEUED', 'PENDING')
GROUP BY status
"""

QUEUE_WORK_IDS: Final = """
SELECT workflow_uuid FROM {s}workflow_status
WHERE queue_name = :name AND status IN ('DELAYED', 'ENQUEUED', 'PENDING')
"""

# Deleted only while it holds no work, in one statement: an enqueue racing the delete either
# lands first (and the delete is refused) or finds the queue gone.
DELETE_IDLE_QUEUE: Final = """
DELETE FROM {s}queues WHERE name = :name AND NOT EXISTS (
    SELECT 1 FROM {s}workflow_status
    WHERE queue_name = :name AND status IN ('DELAYED', 'ENQUEUED', 'PENDING')
)
"""

QUEUE_EXISTS: Final = """
SELECT 1 FROM {s}queues WHERE name = :name
"""

# The application version of the most recently started process: the "latest version" that
# may overwrite a queue's settings on registration (upstream's update_if_latest_version).
LATEST_APPLICATION_VERSION: Final = """
SELECT application_version FROM {s}executors ORDER BY started_at DESC LIMIT 1
"""

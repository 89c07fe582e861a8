"""Statements on cron schedules (`schedules`): their declarations and the latest tick fired."""

from __future__ import annotations

from typing import Final

RECORD_SCHEDULE: Final = """
INSERT INTO {s}schedules (name, cron, queue_name, last_fired_at, updated_at)
VALUES (:name, :cron, :queue_name, NULL, :now)
ON CONFLICT (name) DO UPDATE SET
    cron = excluded.cron, queue_name = excluded.queue_name, updated_at = excluded.updated_at
"""

# Only the process whose insert of a tick won records it, so the cost of a tick does not grow
# with the number of processes.
TICK_FIRED: Final = """
UPDATE {s}schedules SET last_fired_at = :fired_at
WHERE name = :name AND (last_fired_at IS NULL OR last_fired_at < :fired_at)
"""

SELECT_SCHEDULES: Final = """
SELECT name, cron, queue_name, last_fired_at FROM {s}schedules ORDER BY name
"""

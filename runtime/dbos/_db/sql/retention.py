"""Statements of garbage collection: finding finished workflows past the retention bound and
deleting them with everything they own, one bounded batch per transaction.

A workflow is deleted only while it is finished (also re-checked by the DELETE itself, so a
workflow resumed meanwhile stays) and while its parent is not live: a parent replaying its
start of a child must still find the child's row and result.
"""

from __future__ import annotations

from typing import Final

_FINISHED = "('SUCCESS', 'ERROR', 'CANCELLED', 'MAX_RECOVERY_ATTEMPTS_EXCEEDED')"
_LIVE = "('PENDING', 'ENQUEUED', 'DELAYED')"

# The creation time of the `:offset`-th newest workflow: those created before it are past a
# bound of that many rows.
GC_ROWS_BOUNDARY: Final = """
SELECT created_at FROM {s}workflow_status ORDER BY created_at DESC LIMIT 1 OFFSET :offset
"""

# The next batch, oldest first from `:from_ms` (a keyset: rows already passed over, live ones,
# are not scanned again). `created_at` bounds the scan through its index; a finished
# workflow's completion time is at least its creation time.
GC_CANDIDATES: Final = f"""
SELECT w.workflow_uuid, w.created_at FROM {{s}}workflow_status w
WHERE w.created_at >= :from_ms AND w.created_at < :created_before
    AND w.status IN {_FINISHED}
    AND COALESCE(w.completed_at, w.updated_at) < :finished_before
    AND NOT EXISTS (
        SELECT 1 FROM {{s}}workflow_status p
        WHERE p.workflow_uuid = w.parent_workflow_id AND p.status IN {_LIVE}
    )
ORDER BY w.created_at
LIMIT :limit
"""

# The workflow rows first: on PostgreSQL that locks them, so a concurrent resume either lands
# before (and the row, no longer finished, is kept) or finds it gone. Foreign keys cascade
# the delete to what the workflow owns; the statements after it do the same explicitly, so a
# database without enforced foreign keys is left without orphans too.
GC_DELETE_WORKFLOWS: Final = f"""
DELETE FROM {{s}}workflow_status
WHERE workflow_uuid IN ({{ids}}) AND status IN {_FINISHED}
    AND NOT EXISTS (
        SELECT 1 FROM {{s}}workflow_status p
        WHERE p.workflow_uuid = {{s}}workflow_status.parent_workflow_id AND p.status IN {_LIVE}
    )
RETURNING workflow_uuid
"""

GC_DELETE_STEPS: Final = """
DELETE FROM {s}operation_outputs WHERE workflow_uuid IN ({ids})
"""

GC_DELETE_MESSAGES: Final = """
DELETE FROM {s}notifications WHERE destination_uuid IN ({ids})
"""

GC_DELETE_EVENTS: Final = """
DELETE FROM {s}workflow_events WHERE workflow_uuid IN ({ids})
"""

GC_DELETE_EVENT_HISTORY: Final = """
DELETE FROM {s}workflow_events_history WHERE workflow_uuid IN ({ids})
"""

GC_DELETE_STREAMS: Final = """
DELETE FROM {s}streams WHERE workflow_uuid IN ({ids})
"""

# `DBOS.delete_workflows`: the user's own choice of workflows, whatever their status (a live
# one here stops at its next checkpoint, finding its row gone).
DELETE_WORKFLOWS: Final = """
DELETE FROM {s}workflow_status WHERE workflow_uuid IN ({ids}) RETURNING workflow_uuid
"""

CHILDREN_OF: Final = """
SELECT workflow_uuid FROM {s}workflow_status WHERE parent_workflow_id IN ({ids})
"""

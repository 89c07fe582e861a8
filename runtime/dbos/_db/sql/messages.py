"""Statements on messages (`notifications`), events (`workflow_events`, `..._history`) and
streams (`streams`).

Writes made from a workflow are conditional on the sender still owning its PENDING row, like a
step checkpoint, and commit in one transaction with the step that records them: a recovered
workflow never sends, sets or writes twice, and a superseded execution writes nothing.
"""

from __future__ import annotations

from typing import Final

_OWNS_SENDER = """EXISTS (
    SELECT 1 FROM {s}workflow_status
    WHERE workflow_uuid = :workflow_uuid AND status = 'PENDING' AND owner_xid = :owner_xid
)"""

SEND_MESSAGE: Final = """
INSERT INTO {s}notifications (
    message_uuid, destination_uuid, topic, message, serialization, consumed, created_at_epoch_ms
) VALUES (:message_uuid, :destination_uuid, :topic, :message, :serialization, false, :now)
ON CONFLICT (message_uuid) DO NOTHING
"""

SEND_MESSAGE_FROM_WORKFLOW: Final = f"""
INSERT INTO {{s}}notifications (
    message_uuid, destination_uuid, topic, message, serialization, consumed, created_at_epoch_ms
) SELECT :message_uuid, :destination_uuid, :topic, :message, :serialization, false, :now
WHERE {_OWNS_SENDER}
ON CONFLICT (message_uuid) DO NOTHING
"""

# A send that completes a receive: a `DBOS.recv` waiting in this process (`handoff.py`) for
# the message's destination and topic gets the message recorded as its step's output in the
# send's own transaction, and the message is stored consumed. Only while the receiver still owns
# its PENDING row, no older message of the topic waits for it (it takes the oldest first), and
# the message is not a repeat; the step's primary key settles a race with the receiver recording
# its own outcome (a timeout): whichever commits first wins, and a message not recorded is
# stored unconsumed, as any send. From a workflow, both writes are also conditional on the
# sender still owning its row (the step that sends is recorded with them).
_RECEIVER_TAKES = """EXISTS (
    SELECT 1 FROM {s}workflow_status
    WHERE workflow_uuid = :destination_uuid AND status = 'PENDING'
    AND owner_xid = :receiver_owner
) AND NOT EXISTS (
    SELECT 1 FROM {s}notifications
    WHERE destination_uuid = :destination_uuid AND topic = :topic AND consumed = false
) AND NOT EXISTS (SELECT 1 FROM {s}notifications WHERE message_uuid = :message_uuid)"""


def _record_handed_off(sender_guard: str) -> str:
    return f"""
INSERT INTO {{s}}operation_outputs (
    workflow_uuid, function_id, function_name, output, error, child_workflow_id,
    serialization, started_at_epoch_ms, completed_at_epoch_ms
) SELECT :destination_uuid, :receiver_function_id, :receiver_function_name, :message, NULL,
    NULL, :serialization, :receiver_started_at, :now
WHERE {_RECEIVER_TAKES}{sender_guard}
ON CONFLICT (workflow_uuid, function_id) DO NOTHING
"""


def _store_handed_off(consumed: str, sender_guard: str) -> str:
    return f"""
INSERT INTO {{s}}notifications (
    message_uuid, destination_uuid, topic, message, serialization, consumed, created_at_epoch_ms
) SELECT :message_uuid, :destination_uuid, :topic, :message, :serialization, {consumed}, :now
WHERE true{sender_guard}
ON CONFLICT (message_uuid) DO NOTHING
"""


def _deliver_to_receiver(sender_guard: str) -> str:
    """PostgreSQL: one statement, whose one row (a row count of 1) says the receiver took the
    message: recorded now, or by an earlier attempt of this statement whose commit's answer was
    lost (its message stored consumed and the receiver's step there: what a retry sees)."""
    recorded = _record_handed_off(sender_guard).strip()
    stored = _store_handed_off("EXISTS (SELECT 1 FROM recorded)", sender_guard).strip()
    return f"""
WITH recorded AS (
{recorded}
RETURNING 1
), stored AS (
{stored}
)
SELECT 1 FROM recorded
UNION ALL
SELECT 1 FROM {{s}}notifications
WHERE message_uuid = :message_uuid AND destination_uuid = :destination_uuid AND consumed
AND EXISTS (
    SELECT 1 FROM {{s}}operation_outputs
    WHERE workflow_uuid = :destination_uuid AND function_id = :receiver_function_id
    AND function_name = :receiver_function_name
)
"""


_FROM_WORKFLOW = f" AND {_OWNS_SENDER}"

DELIVER_TO_RECEIVER: Final = _deliver_to_receiver("")
DELIVER_TO_RECEIVER_FROM_WORKFLOW: Final = _deliver_to_receiver(_FROM_WORKFLOW)
# SQLite: the same as two statements of one transaction (writes there are serialized); the
# second stores the message consumed when the first recorded it (`changes()`: its row count).
RECORD_HANDED_OFF: Final = _record_handed_off("")
RECORD_HANDED_OFF_FROM_WORKFLOW: Final = _record_handed_off(_FROM_WORKFLOW)
STORE_HANDED_OFF: Final = _store_handed_off("changes() > 0", "")
STORE_HANDED_OFF_FROM_WORKFLOW: Final = _store_handed_off("changes() > 0", _FROM_WORKFLOW)

HAS_MESSAGE: Final = """
SELECT 1 FROM {s}notifications
WHERE destination_uuid = :workflow_uuid AND topic = :topic AND consumed = false LIMIT 1
"""

# Inside the receiving transaction: the oldest unconsumed message, locked on PostgreSQL.
OLDEST_MESSAGE: Final = """
SELECT seq, message, serialization FROM {s}notifications
WHERE destination_uuid = :workflow_uuid AND topic = :topic AND consumed = false
ORDER BY seq LIMIT 1{postgresql: FOR UPDATE}
"""

MARK_CONSUMED: Final = """
UPDATE {s}notifications SET consumed = true WHERE seq = :seq
"""

UPSERT_EVENT: Final = f"""
INSERT INTO {{s}}workflow_events (workflow_uuid, key, value, serialization)
SELECT :workflow_uuid, :key, :value, :serialization
WHERE {_OWNS_SENDER}
ON CONFLICT (workflow_uuid, key)
DO UPDATE SET value = excluded.value, serialization = excluded.serialization
"""

INSERT_EVENT_HISTORY: Final = f"""
INSERT INTO {{s}}workflow_events_history (workflow_uuid, function_id, key, value, serialization)
SELECT :workflow_uuid, :function_id, :key, :value, :serialization
WHERE {_OWNS_SENDER}
ON CONFLICT (workflow_uuid, key, function_id)
DO UPDATE SET value = excluded.value, serialization = excluded.serialization
"""

# The event and the workflow's status in one round trip: a waiter stops once neither can change.
GET_EVENT: Final = """
SELECT ws.status, we.value, we.serialization
FROM {s}workflow_status ws
LEFT JOIN {s}workflow_events we ON we.workflow_uuid = ws.workflow_uuid AND we.key = :key
WHERE ws.workflow_uuid = :workflow_uuid
"""

GET_ALL_EVENTS: Final = """
SELECT key, value, serialization FROM {s}workflow_events
WHERE workflow_uuid = :workflow_uuid ORDER BY key
"""

INSERT_STREAM_VALUE: Final = f"""
INSERT INTO {{s}}streams (workflow_uuid, key, seq, value, serialization, function_id)
SELECT :workflow_uuid, :key,
    (SELECT COALESCE(MAX(seq) + 1, 0) FROM {{s}}streams
     WHERE workflow_uuid = :workflow_uuid AND key = :key),
    :value, :serialization, :function_id
WHERE {_OWNS_SENDER}
"""

# Values from `from_seq` on and the writer's status, in one round trip. With no value yet the
# row has a NULL seq; a NULL value at a seq is the end of the stream.
READ_STREAM: Final = """
SELECT ws.status, st.seq, st.value, st.serialization
FROM {s}workflow_status ws
LEFT JOIN {s}streams st
    ON st.workflow_uuid = ws.workflow_uuid AND st.key = :key AND st.seq >= :from_seq
WHERE ws.workflow_uuid = :workflow_uuid
ORDER BY st.seq LIMIT :limit
"""

COPY_EVENT_HISTORY_FOR_FORK: Final = """
INSERT INTO {s}workflow_events_history (workflow_uuid, function_id, key, value, serialization)
SELECT :new_workflow_uuid, function_id, key, value, serialization
FROM {s}workflow_events_history WHERE workflow_uuid = :workflow_uuid AND function_id < :start_step
"""

# A fork's events are what the original's stood at before the fork's first step.
REBUILD_EVENTS_FOR_FORK: Final = """
INSERT INTO {s}workflow_events (workflow_uuid, key, value, serialization)
SELECT h.workflow_uuid, h.key, h.value, h.serialization
FROM {s}workflow_events_history h
WHERE h.workflow_uuid = :new_workflow_uuid AND h.function_id = (
    SELECT MAX(h2.function_id) FROM {s}workflow_events_history h2
    WHERE h2.workflow_uuid = h.workflow_uuid AND h2.key = h.key
)
"""

COPY_STREAMS_FOR_FORK: Final = """
INSERT INTO {s}streams (workflow_uuid, key, seq, value, serialization, function_id)
SELECT :new_workflow_uuid, key, seq, value, serialization, function_id
FROM {s}streams WHERE workflow_uuid = :workflow_uuid AND function_id < :start_step
"""

# PostgreSQL only: receive in one round trip and one implicit transaction. Locks the oldest
# unconsumed message, marks it consumed and records it as the step's output (with the recv's
# deadline step, unless a wait recorded it already), all only while the receiver still owns its
# PENDING row; the one row returned says which happened.
TAKE_MESSAGE: Final = f"""
WITH oldest AS (
    SELECT seq, message, serialization FROM {{s}}notifications
    WHERE destination_uuid = :workflow_uuid AND topic = :topic AND consumed = false
    ORDER BY seq LIMIT 1 FOR UPDATE
), taken AS (
    UPDATE {{s}}notifications n SET consumed = true FROM oldest
    WHERE n.seq = oldest.seq AND {_OWNS_SENDER}
    RETURNING oldest.message, oldest.serialization
), recorded AS (
    INSERT INTO {{s}}operation_outputs (
        workflow_uuid, function_id, function_name, output, error, child_workflow_id,
        serialization, started_at_epoch_ms, completed_at_epoch_ms
    ) SELECT :workflow_uuid, :function_id, :function_name, message, NULL, NULL,
        serialization, :started_at, :completed_at
    FROM taken
    RETURNING output, serialization
), deadline AS (
    INSERT INTO {{s}}operation_outputs (
        workflow_uuid, function_id, function_name, output, error, child_workflow_id,
        serialization, started_at_epoch_ms, completed_at_epoch_ms
    ) SELECT :workflow_uuid, :deadline_function_id, 'DBOS.sleep', :deadline_output, NULL, NULL,
        :deadline_serialization, :started_at, :completed_at
    FROM taken
    ON CONFLICT (workflow_uuid, function_id) DO NOTHING
)
SELECT recorded.output, recorded.serialization, {_OWNS_SENDER} AS owns
FROM (SELECT 1) AS one LEFT JOIN recorded ON true
"""

# The change poller's checks: `{ids}` is replaced by a list of parameters (see `in_list`).
UNCONSUMED_MESSAGE_KEYS: Final = """
SELECT DISTINCT destination_uuid, topic FROM {s}notifications
WHERE destination_uuid IN ({ids}) AND consumed = false
"""

EVENT_KEYS: Final = """
SELECT workflow_uuid, key FROM {s}workflow_events WHERE workflow_uuid IN ({ids})
"""

STREAM_HEADS: Final = """
SELECT workflow_uuid, key, MAX(seq) FROM {s}streams
WHERE workflow_uuid IN ({ids}) GROUP BY workflow_uuid, key
"""

FINISHED_WORKFLOWS: Final = """
SELECT workflow_uuid FROM {s}workflow_status
WHERE workflow_uuid IN ({ids})
AND status IN ('SUCCESS', 'ERROR', 'CANCELLED', 'MAX_RECOVERY_ATTEMPTS_EXCEEDED')
"""

# A message's destination exists (checked before a send in the application's transaction,
# whose SQLite connection may not enforce the foreign key).
WORKFLOW_EXISTS: Final = """
SELECT 1 FROM {s}workflow_status WHERE workflow_uuid = :workflow_uuid
"""

# `send_to_forks`: the workflows forked from each of `{ids}`, directly or from its forks.
FORK_DESCENDANTS: Final = """
WITH RECURSIVE forks(root, workflow_uuid) AS (
    SELECT workflow_uuid, workflow_uuid FROM {s}workflow_status WHERE workflow_uuid IN ({ids})
    UNION
    SELECT forks.root, w.workflow_uuid FROM {s}workflow_status w
    JOIN forks ON w.forked_from = forks.workflow_uuid
)
SELECT root, workflow_uuid FROM forks WHERE workflow_uuid <> root ORDER BY workflow_uuid
"""

# Which of `{ids}` exist: names the missing destinations of a send its foreign key refused.
EXISTING_WORKFLOW_IDS: Final = """
SELECT workflow_uuid FROM {s}workflow_status WHERE workflow_uuid IN ({ids})
"""

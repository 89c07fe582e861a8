"""PostgreSQL triggers that wake waiters in other processes: one NOTIFY per write they wait on.

Waiters (recv, get_event, read_stream, get_result) in another process hear about a write through
LISTEN on one channel. The payload names what changed, `kind|<length of the workflow ID>|<the
workflow ID><the key>` (IDs and keys may contain any character), so a process wakes only the
waiters of that key. NOTIFY is transactional: it is delivered when the write commits,
never before. Step checkpoints have no trigger: the hot path pays nothing.

Kinds: `m` a message (destination, topic; not one stored consumed, handed to a receive waiting
in the sending process, which wakes it itself), `e` an event (workflow, key), `s` a stream value
(workflow, key), `w` a workflow reaching a final status (workflow), `q` a queue with work
to claim or a slot freed (queue name): a row enqueued or re-enqueued, or a queued workflow
that stopped running (a batch enqueue sends its queue's one NOTIFY itself: see
`BATCH_SETTING`); `Q` the `queues` table changed (a queue registered, changed or deleted:
dispatchers re-read it). A payload too long for
NOTIFY is sent as `*`, which wakes every waiter of the process to re-check.
"""

from __future__ import annotations

CHANNEL = "dbos_wake"

_NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION {s}dbos_wake_{name}() RETURNS trigger AS $$
DECLARE
    payload text := {payload};
BEGIN
    IF octet_length(payload) > 7900 THEN
        payload := '*';
    END IF;
    PERFORM pg_notify('{channel}', payload);
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""

_TRIGGER = """
DROP TRIGGER IF EXISTS dbos_wake_{name} ON {s}{table};
CREATE TRIGGER dbos_wake_{name} AFTER {events} ON {s}{table}
FOR EACH ROW {when} EXECUTE FUNCTION {s}dbos_wake_{name}()
"""

# Set (SET LOCAL) by a batch enqueue, which sends its queue's one NOTIFY itself: the per-row
# trigger would run its function once per row of the batch for the same payload.
BATCH_SETTING = "dbos.batch_enqueue"

_FINAL = "('SUCCESS', 'ERROR', 'CANCELLED', 'MAX_RECOVERY_ATTEMPTS_EXCEEDED')"
_QUEUE_PAYLOAD = "'q|' || length(NEW.queue_name) || '|' || NEW.queue_name"

# name, table, events, WHEN clause, payload expression
_WAKE_TRIGGERS: list[tuple[str, str, str, str, str]] = [
    (
        "message",
        "notifications",
        "INSERT",
        "WHEN (NOT NEW.consumed)",  # a message handed to its receiver here (`handoff.py`)
        "'m|' || length(NEW.destination_uuid) || '|' || NEW.destination_uuid || NEW.topic",
    ),
    (
        "event",
        "workflow_events",
        "INSERT OR UPDATE",
        "",
        "'e|' || length(NEW.workflow_uuid) || '|' || NEW.workflow_uuid || NEW.key",
    ),
    (
        "stream",
        "streams",
        "INSERT",
        "",
        "'s|' || length(NEW.workflow_uuid) || '|' || NEW.workflow_uuid || NEW.key",
    ),
    (
        "final",
        "workflow_status",
        "UPDATE OF status",
        f"WHEN (NEW.status IS DISTINCT FROM OLD.status AND NEW.status IN {_FINAL})",
        "'w|' || length(NEW.workflow_uuid) || '|' || NEW.workflow_uuid",
    ),
    (
        "enqueued",
        "workflow_status",
        "INSERT",
        f"WHEN (NEW.status = 'ENQUEUED' AND current_setting('{BATCH_SETTING}', true) "
        "IS DISTINCT FROM 'on')",
        _QUEUE_PAYLOAD,
    ),
    (
        "queue_slot",
        "workflow_status",
        "UPDATE OF status",
        "WHEN (NEW.queue_name IS NOT NULL AND NEW.status IS DISTINCT FROM OLD.status "
        "AND (NEW.status = 'ENQUEUED' OR OLD.status = 'PENDING'))",
        _QUEUE_PAYLOAD,
    ),
    ("queues", "queues", "INSERT OR UPDATE OR DELETE", "", "'Q|0|'"),
]


def wake_trigger_ddl(schema: str, tables: set[str] | None = None) -> list[str]:
    """The statements that (re)create every wake-up trigger (only those on `tables`, when
    given: an older schema being migrated may lack some); safe to run again."""
    prefix = f'"{schema}".'
    ddl: list[str] = []
    for name, table, events, when, payload in _WAKE_TRIGGERS:
        if tables is not None and table not in tables:
            continue
        ddl.append(_NOTIFY_FUNCTION.format(s=prefix, name=name, payload=payload, channel=CHANNEL))
        for statement in _TRIGGER.split(";"):
            ddl.append(statement.format(s=prefix, name=name, table=table, events=events, when=when))
    return [d.strip() for d in ddl if d.strip()]


def parse_payload(payload: str) -> tuple[str, str, str] | None:
    """(kind, workflow ID, key) from a trigger's payload; None for `*` (wake everyone)."""
    if payload == "*":
        return None
    kind, _, rest = payload.partition("|")
    length, _, rest = rest.partition("|")
    n = int(length)
    return kind, rest[:n], rest[n:]

"""The statements that bring a system database written by upstream DBOS 2.x to our schema.

They target our schema as it stood at version 6 (`upstream_convert.CONVERTED_VERSION`), frozen
here like any migration: the ordinary migrations after 6 then run from there. `{s}` is the
schema prefix (PostgreSQL), as in every area's SQL.
"""

from __future__ import annotations

from typing import Final

# workflow_status at our version 6: every column upstream's may lack, with its type. Upstream
# 2.x adds most of these over its history (queue_partition_key in its migration 2 ... the
# debounce deadline in 42); trace_context is ours alone.
WORKFLOW_STATUS_COLUMNS: Final = (
    ("class_name", "TEXT"),
    ("config_name", "TEXT"),
    ("authenticated_user", "TEXT"),
    ("assumed_role", "TEXT"),
    ("authenticated_roles", "TEXT"),
    ("inputs", "TEXT"),
    ("output", "TEXT"),
    ("error", "TEXT"),
    ("serialization", "TEXT"),
    ("executor_id", "TEXT"),
    ("application_version", "TEXT"),
    ("application_id", "TEXT"),
    ("completed_at", "BIGINT"),
    ("recovery_attempts", "BIGINT NOT NULL DEFAULT 0"),
    ("owner_xid", "TEXT"),
    ("queue_name", "TEXT"),
    ("queue_partition_key", "TEXT"),
    ("deduplication_id", "TEXT"),
    ("priority", "INTEGER NOT NULL DEFAULT 0"),
    ("started_at_epoch_ms", "BIGINT"),
    ("delay_until_epoch_ms", "BIGINT"),
    ("workflow_timeout_ms", "BIGINT"),
    ("workflow_deadline_epoch_ms", "BIGINT"),
    ("parent_workflow_id", "TEXT"),
    ("forked_from", "TEXT"),
    ("was_forked_from", "BOOLEAN NOT NULL DEFAULT false"),
    ("debounce_deadline_epoch_ms", "BIGINT"),
    ("trace_context", "TEXT"),
    ("attributes", "TEXT"),
)

OPERATION_OUTPUTS_COLUMNS: Final = (
    ("child_workflow_id", "TEXT"),
    ("serialization", "TEXT"),
    ("started_at_epoch_ms", "BIGINT"),
    ("completed_at_epoch_ms", "BIGINT"),
    ("attempts", "INTEGER"),
)

EVENTS_COLUMNS: Final = (("serialization", "TEXT"),)

# Upstream's columns with no counterpart here that would make the database read as upstream's
# again (see `upstream.detect`): `request` was never written by upstream 2.x.
DROPPED_WORKFLOW_STATUS_COLUMNS: Final = ("request",)

# The indexes ours keep on the tables converted in place; upstream's others go (they serve
# upstream's queries and would cost every write here).
OUR_INDEXES: Final = frozenset(
    {
        "workflow_status_created_at_index",
        "workflow_status_executor_status_index",
        "workflow_status_parent_index",
        "workflow_status_queue_status_index",
        "workflow_status_enqueued_index",  # made by our migration 7
        "workflow_status_partition_index",
        "workflow_status_dedup_index",
        "workflow_status_delayed_index",
        "workflow_status_started_index",
        "notifications_destination_topic_index",
    }
)

CREATE_INDEXES: Final = (
    "CREATE INDEX IF NOT EXISTS workflow_status_created_at_index "
    "ON {s}workflow_status (created_at)",
    "CREATE INDEX IF NOT EXISTS workflow_status_executor_status_index "
    "ON {s}workflow_status (executor_id, status)",
    "CREATE INDEX IF NOT EXISTS workflow_status_parent_index "
    "ON {s}workflow_status (parent_workflow_id)",
    "CREATE INDEX IF NOT EXISTS workflow_status_queue_status_index "
    "ON {s}workflow_status (queue_name, status)",
    "CREATE INDEX IF NOT EXISTS workflow_status_partition_index "
    "ON {s}workflow_status (queue_name, queue_partition_key, status) "
    "WHERE queue_partition_key IS NOT NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS workflow_status_dedup_index "
    "ON {s}workflow_status (queue_name, deduplication_id) WHERE deduplication_id IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS workflow_status_delayed_index "
    "ON {s}workflow_status (delay_until_epoch_ms) WHERE status = 'DELAYED'",
    "CREATE INDEX IF NOT EXISTS workflow_status_started_index "
    "ON {s}workflow_status (queue_name, started_at_epoch_ms) "
    "WHERE started_at_epoch_ms IS NOT NULL",
)

_FK = (
    "FOREIGN KEY (workflow_uuid) REFERENCES {s}workflow_status (workflow_uuid) "
    "ON DELETE CASCADE ON UPDATE CASCADE"
)

CREATE_NOTIFICATIONS: Final = f"""
CREATE TABLE {{s}}notifications (
    seq {{serial}} NOT NULL,
    message_uuid TEXT NOT NULL,
    destination_uuid TEXT NOT NULL,
    topic TEXT NOT NULL,
    message TEXT NOT NULL,
    serialization TEXT,
    consumed BOOLEAN DEFAULT false NOT NULL,
    created_at_epoch_ms BIGINT NOT NULL,
    PRIMARY KEY (seq),
    UNIQUE (message_uuid),
    {_FK.replace("(workflow_uuid) REFERENCES", "(destination_uuid) REFERENCES")}
)
"""

CREATE_NOTIFICATIONS_INDEX: Final = (
    "CREATE INDEX notifications_destination_topic_index "
    "ON {s}notifications (destination_uuid, topic, seq)"
)

# Send order is upstream's receive order: oldest first (`created_at_epoch_ms`), the physical
# order breaking ties. A NULL topic is stored as our (and upstream 2.x's) null-topic marker.
COPY_NOTIFICATIONS: Final = """
INSERT INTO {s}notifications
    (message_uuid, destination_uuid, topic, message, serialization, consumed, created_at_epoch_ms)
SELECT message_uuid, destination_uuid, COALESCE(topic, :null_topic), message, {format},
    {consumed}, CAST(created_at_epoch_ms AS BIGINT)
FROM {s}{old} ORDER BY created_at_epoch_ms, {physical}
"""

CREATE_STREAMS: Final = f"""
CREATE TABLE {{s}}streams (
    workflow_uuid TEXT NOT NULL,
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    value TEXT,
    serialization TEXT,
    function_id INTEGER NOT NULL,
    PRIMARY KEY (workflow_uuid, key, seq),
    {_FK}
)
"""

# Upstream closes a stream with a sentinel value at the next offset; ours with a NULL value.
COPY_STREAMS: Final = """
INSERT INTO {s}streams (workflow_uuid, key, seq, value, serialization, function_id)
SELECT workflow_uuid, key, "offset",
    CASE WHEN {closed} THEN NULL ELSE value END,
    CASE WHEN {closed} THEN NULL ELSE {format} END,
    {function_id}
FROM {s}{old}
"""

CREATE_EVENTS_HISTORY: Final = f"""
CREATE TABLE {{s}}workflow_events_history (
    workflow_uuid TEXT NOT NULL,
    function_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    serialization TEXT,
    PRIMARY KEY (workflow_uuid, key, function_id),
    {_FK}
)
"""

CREATE_EXECUTORS: Final = """
CREATE TABLE {s}executors (
    instance_id TEXT NOT NULL,
    executor_id TEXT NOT NULL,
    application_version TEXT,
    hostname TEXT,
    pid BIGINT,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    PRIMARY KEY (instance_id)
)
"""

CREATE_QUEUES: Final = """
CREATE TABLE {s}queues (
    name TEXT NOT NULL,
    concurrency INTEGER,
    worker_concurrency INTEGER,
    rate_limit_max INTEGER,
    rate_limit_period_sec FLOAT,
    priority_enabled BOOLEAN DEFAULT false NOT NULL,
    partition_queue BOOLEAN DEFAULT false NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (name)
)
"""

CREATE_SCHEDULES: Final = """
CREATE TABLE {s}schedules (
    name TEXT NOT NULL,
    cron TEXT NOT NULL,
    queue_name TEXT NOT NULL,
    last_fired_at BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (name)
)
"""

# Rows written before upstream recorded a format (its migration 11) hold its default format,
# pickle; the label lets our reader refuse them plainly unless pickle is configured. Only
# text that is base64 of a pickle (protocol 2 or later starts with 0x80, "gA" in base64) is
# labelled, so a custom serializer's rows stay unlabelled, for that serializer to read.
LABEL_PICKLED: Final = """
UPDATE {s}{table} SET serialization = 'py_pickle'
WHERE serialization IS NULL AND ({checks})
"""

PICKLED_TEXT: Final = "({column} IS NOT NULL AND {column} LIKE 'gA%')"

# Our recovery claims a PENDING row by swapping its owner token: upstream before its migration
# 7 wrote none. A token without a process prefix belongs to no live process here.
WORKFLOW_STATUS_DEFAULTS: Final = """
UPDATE {s}workflow_status SET
    recovery_attempts = COALESCE(recovery_attempts, 0),
    priority = COALESCE(priority, 0),
    created_at = CAST(created_at AS BIGINT),
    updated_at = CAST(updated_at AS BIGINT),
    owner_xid = CASE
        WHEN owner_xid IS NULL AND status = 'PENDING' THEN 'upstream' ELSE owner_xid END,
    completed_at = CASE
        WHEN completed_at IS NULL
            AND status IN ('SUCCESS', 'ERROR', 'CANCELLED', 'MAX_RECOVERY_ATTEMPTS_EXCEEDED')
        THEN CAST(updated_at AS BIGINT) ELSE completed_at END
"""

STAMP: Final = "INSERT INTO {s}dbos_migrations (version) VALUES (:version)"
CLEAR_STAMP: Final = "DELETE FROM {s}dbos_migrations"

# PostgreSQL: workflow_status's total order (`seq`), numbered in creation order, then an
# identity for new rows from where the numbering ended.
PG_ADD_SEQ: Final = (
    "ALTER TABLE {s}workflow_status ADD COLUMN seq BIGINT",
    """UPDATE {s}workflow_status ws SET seq = ordered.n FROM (
        SELECT workflow_uuid, row_number() OVER (ORDER BY created_at, workflow_uuid) AS n
        FROM {s}workflow_status) ordered
    WHERE ws.workflow_uuid = ordered.workflow_uuid""",
    "ALTER TABLE {s}workflow_status ALTER COLUMN seq SET NOT NULL",
    "ALTER TABLE {s}workflow_status ALTER COLUMN seq "
    "ADD GENERATED BY DEFAULT AS IDENTITY (START WITH {start})",
)

PG_ATTRIBUTES_AS_TEXT: Final = (
    "ALTER TABLE {s}workflow_status ALTER COLUMN attributes TYPE TEXT USING attributes::text"
)

PG_INDEXES: Final = """
SELECT i.relname, c.conname, t.relname
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = t.oid
WHERE n.nspname = :schema AND t.relname = :table AND NOT x.indisprimary
"""

PG_TABLE_INDEXES: Final = """
SELECT i.relname FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = :schema AND t.relname = :table
"""

# Upstream's stored functions (its SQL enqueue and send, its NOTIFY triggers' functions) write
# upstream's shapes; they go with the conversion.
PG_UPSTREAM_FUNCTIONS: Final = """
SELECT p.oid::regprocedure::text FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = :schema AND p.proname IN (
    'enqueue_workflow', 'send_message', 'notifications_function',
    'workflow_events_function', 'streams_function')
"""

PG_UPSTREAM_TRIGGERS: Final = """
SELECT tg.tgname, t.relname FROM pg_trigger tg
JOIN pg_class t ON t.oid = tg.tgrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = :schema AND NOT tg.tgisinternal AND tg.tgname IN (
    'dbos_notifications_trigger', 'dbos_workflow_events_trigger', 'dbos_streams_trigger')
"""

SQLITE_INDEXES: Final = """
SELECT name FROM sqlite_master
WHERE type = 'index' AND tbl_name = :table AND sql IS NOT NULL
"""

# Liveness: the newest write upstream's processes made, from the rows they touch as they run.
# A step's start is when its row was written (its completion may be a sleep's projected end,
# in the future); times past now are not writes.
LAST_WRITE: Final = """
SELECT MAX(t) FROM (
    SELECT MAX(updated_at) AS t FROM {s}workflow_status WHERE updated_at <= :now
    UNION ALL SELECT MAX(created_at_epoch_ms) FROM {s}notifications
        WHERE created_at_epoch_ms <= :now
    {step_times}
) newest
"""

STEP_TIMES: Final = """UNION ALL SELECT MAX(started_at_epoch_ms) FROM {s}operation_outputs
        WHERE started_at_epoch_ms <= :now"""

# Other sessions connected to this database (PostgreSQL): a running upstream process holds a
# pool of them, and its notification listener waits in LISTEN.
PG_OTHER_SESSIONS: Final = """
SELECT COALESCE(NULLIF(application_name, ''), '?'), COALESCE(client_addr::text, 'local'),
    state, LEFT(COALESCE(query, ''), 80)
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
"""

# Work in flight, by the application version that owns it: upstream recovers a workflow only
# in a process of the same version, and so does this runtime.
IN_FLIGHT_BY_VERSION: Final = """
SELECT application_version, status, COUNT(*) FROM {s}workflow_status
WHERE status IN ('PENDING', 'ENQUEUED', 'DELAYED')
GROUP BY application_version, status
ORDER BY application_version, status
"""

# A kept-aside upstream table's rows, into our table of the same purpose once a migration has
# made it: the columns both have, rows whose key ours lacks. A row that would break another of
# our unique constraints is left out rather than failing the launch (upstream's application
# versions are unique per application, ours per name: a name two applications registered
# carries over once).
CARRY_OVER: Final = """
INSERT INTO {s}{target} ({columns})
SELECT {columns} FROM {s}{aside} a
WHERE NOT EXISTS (SELECT 1 FROM {s}{target} t WHERE t.{key} = a.{key})
ON CONFLICT DO NOTHING
"""

# Upstream's schedules, before they are carried into ours: upstream's table records no format
# for a schedule's context (it is pickled unless upstream was configured otherwise), so each
# gets the label ours keeps, and the carry's time as its creation. A context that is upstream's
# default, a pickled None (matched against its pickles, never unpickled), becomes our JSON
# null: such a schedule then fires in every process, not only in one configured for pickle.
SCHEDULE_ASIDE_COLUMNS: Final = (
    ("context_serialization", "TEXT"),
    ("created_at", "BIGINT"),
    ("updated_at", "BIGINT"),
)
LABEL_SCHEDULE_CONTEXTS: Final = """
UPDATE {s}{aside} SET
    context = CASE WHEN context IN ({none_pickles}) THEN :json_none ELSE context END,
    context_serialization = CASE
        WHEN context IN ({none_pickles}) THEN :json_format
        WHEN context LIKE 'gA%' THEN 'py_pickle'
    END,
    created_at = :now,
    updated_at = :now
"""

"""SQL functions in the PostgreSQL system schema: enqueue a workflow or send a message from any
SQL client, inside that client's own transaction (the outbox pattern: the workflow or message
exists exactly when the application's writes beside it commit).

Their names, parameters and errors are upstream DBOS's (`dbos.enqueue_workflow(workflow_name =>
..., queue_name => ..., positional_args => ARRAY[...]::json[], ...)` and `dbos.send_message(
destination_id => ..., message => ..., topic => ..., message_id => ...)`), so SQL written for
upstream runs here unchanged. Values are JSON written by the caller, stored in the portable
JSON format (`portable_json`), which every DBOS reads.

A workflow enqueued here joins its queue like any other: the row's insert wakes the dispatchers
(the wake-up trigger), and on a partitioned queue it takes its fair round from its partition.
"""

from __future__ import annotations

# Created by migration 7 and with every fresh schema; {s} is the quoted schema.
_ENQUEUE_WORKFLOW = """
CREATE OR REPLACE FUNCTION {s}.enqueue_workflow(
    workflow_name TEXT,
    queue_name TEXT,
    positional_args JSON[] DEFAULT ARRAY[]::JSON[],
    named_args JSON DEFAULT '{{}}'::JSON,
    class_name TEXT DEFAULT NULL,
    config_name TEXT DEFAULT NULL,
    workflow_id TEXT DEFAULT NULL,
    app_version TEXT DEFAULT NULL,
    timeout_ms BIGINT DEFAULT NULL,
    deadline_epoch_ms BIGINT DEFAULT NULL,
    deduplication_id TEXT DEFAULT NULL,
    priority INT4 DEFAULT NULL,
    queue_partition_key TEXT DEFAULT NULL,
    authenticated_user TEXT DEFAULT NULL,
    authenticated_roles TEXT DEFAULT NULL,
    delay_until_epoch_ms BIGINT DEFAULT NULL,
    application_name TEXT DEFAULT NULL
) RETURNS TEXT AS $$
DECLARE
    v_workflow_id TEXT := COALESCE(workflow_id, gen_random_uuid()::TEXT);
    v_priority INT4 := COALESCE(priority, 0);
    v_now BIGINT := (EXTRACT(epoch FROM clock_timestamp()) * 1000)::BIGINT;
    v_round BIGINT := 0;
    v_partitioned BOOLEAN;
BEGIN
    IF workflow_name IS NULL OR workflow_name = '' THEN
        RAISE EXCEPTION 'Workflow name cannot be null or empty';
    END IF;
    IF queue_name IS NULL OR queue_name = '' THEN
        RAISE EXCEPTION 'Queue name cannot be null or empty';
    END IF;
    IF named_args IS NOT NULL AND json_typeof(named_args) <> 'object' THEN
        RAISE EXCEPTION 'Named args must be a JSON object';
    END IF;
    IF workflow_id IS NOT NULL AND workflow_id = '' THEN
        RAISE EXCEPTION 'Workflow ID cannot be an empty string if provided.';
    END IF;
    IF delay_until_epoch_ms IS NOT NULL AND delay_until_epoch_ms < 0 THEN
        RAISE EXCEPTION 'delay_until_epoch_ms must be >= 0';
    END IF;
    IF timeout_ms IS NOT NULL AND timeout_ms <= 0 THEN
        RAISE EXCEPTION 'timeout_ms must be > 0';
    END IF;

    IF enqueue_workflow.queue_partition_key IS NOT NULL THEN
        SELECT q.partition_queue INTO v_partitioned
        FROM {s}.queues q WHERE q.name = enqueue_workflow.queue_name;
        IF v_partitioned THEN
            v_round := COALESCE(
                (SELECT max(w.partition_round) FROM {s}.workflow_status w
                 WHERE w.queue_name = enqueue_workflow.queue_name
                   AND w.queue_partition_key = enqueue_workflow.queue_partition_key
                   AND w.priority = v_priority AND w.status = 'ENQUEUED'),
                (SELECT min(w.partition_round) FROM {s}.workflow_status w
                 WHERE w.queue_name = enqueue_workflow.queue_name
                   AND w.priority = v_priority AND w.status = 'ENQUEUED'
                   AND w.queue_partition_key IS NOT NULL),
                0) + 1;
        END IF;
    END IF;

    INSERT INTO {s}.workflow_status (
        workflow_uuid, status, name, class_name, config_name, inputs, serialization,
        application_version, created_at, updated_at, recovery_attempts,
        workflow_timeout_ms, workflow_deadline_epoch_ms, queue_name, deduplication_id,
        priority, queue_partition_key, partition_round, authenticated_user,
        authenticated_roles, delay_until_epoch_ms
    ) VALUES (
        v_workflow_id,
        CASE WHEN delay_until_epoch_ms IS NULL THEN 'ENQUEUED' ELSE 'DELAYED' END,
        workflow_name, class_name, config_name,
        json_build_object('positionalArgs', positional_args, 'namedArgs', named_args)::TEXT,
        'portable_json', app_version, v_now, v_now, 0,
        timeout_ms, deadline_epoch_ms, queue_name, deduplication_id,
        v_priority, queue_partition_key, v_round, authenticated_user,
        authenticated_roles, delay_until_epoch_ms
    )
    ON CONFLICT (workflow_uuid) DO NOTHING;
    RETURN v_workflow_id;
EXCEPTION
    WHEN unique_violation THEN
        RAISE EXCEPTION 'DBOS queue duplicated'
            USING DETAIL = format(
                'Workflow %s with queue %s and deduplication ID %s already exists',
                v_workflow_id, queue_name, deduplication_id),
            ERRCODE = 'unique_violation';
END;
$$ LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
"""

_SEND_MESSAGE = """
CREATE OR REPLACE FUNCTION {s}.send_message(
    destination_id TEXT,
    message JSON,
    topic TEXT DEFAULT NULL,
    message_id TEXT DEFAULT NULL
) RETURNS VOID AS $$
BEGIN
    INSERT INTO {s}.notifications (
        message_uuid, destination_uuid, topic, message, serialization, created_at_epoch_ms
    ) VALUES (
        COALESCE(message_id, gen_random_uuid()::TEXT), destination_id,
        COALESCE(topic, '{null_topic}'), message::TEXT, 'portable_json',
        (EXTRACT(epoch FROM clock_timestamp()) * 1000)::BIGINT
    )
    ON CONFLICT (message_uuid) DO NOTHING;
EXCEPTION
    WHEN foreign_key_violation THEN
        RAISE EXCEPTION 'DBOS non-existent workflow'
            USING DETAIL = format('Destination workflow %s does not exist', destination_id),
            ERRCODE = 'foreign_key_violation';
END;
$$ LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
"""


def sql_api_ddl(schema: str) -> list[str]:
    """The statements that (re)create the SQL functions; safe to run again."""
    from .schema import NULL_TOPIC

    quoted = f'"{schema}"'
    return [
        _ENQUEUE_WORKFLOW.format(s=quoted).strip(),
        _SEND_MESSAGE.format(s=quoted, null_topic=NULL_TOPIC).strip(),
    ]

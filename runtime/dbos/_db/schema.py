"""The system database schema: one SQLAlchemy Core definition for SQLite and PostgreSQL.

Timestamps are epoch milliseconds (BIGINT) so both dialects compare and sort them alike.
On PostgreSQL the tables live in their own schema (`dbos` by default); SQLite has none.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    text,
)

# Bumped with every migration in migrations.py; a database stamped higher is refused.
SCHEMA_VERSION = 12

# A message sent without a topic; a column in a primary lookup is easier NOT NULL.
NULL_TOPIC = "__null__topic__"

_NOT_QUEUED = "status <> 'ENQUEUED'"


def _enqueue_order(schema: str | None) -> list[Column[int]]:
    """PostgreSQL's total order of rows (ties within one millisecond included); SQLite uses
    its rowid, which already is one (see `sql.render`'s `{seq}`)."""
    if not schema:
        return []
    return [Column("seq", BigInteger, Identity(), nullable=False)]


def build_metadata(schema: str | None) -> MetaData:
    metadata = MetaData(schema=schema)
    prefix = f"{schema}." if schema else ""

    Table(
        "dbos_migrations",
        metadata,
        Column("version", BigInteger, primary_key=True, autoincrement=False),
    )

    Table(
        "workflow_status",
        metadata,
        Column("workflow_uuid", Text, primary_key=True),
        Column("status", Text, nullable=False),
        Column("name", Text, nullable=False),
        Column("class_name", Text),
        Column("config_name", Text),
        Column("authenticated_user", Text),
        Column("assumed_role", Text),
        Column("authenticated_roles", Text),
        Column("inputs", Text),
        Column("output", Text),
        Column("error", Text),
        Column("serialization", Text),
        Column("executor_id", Text),
        Column("application_version", Text),
        Column("application_id", Text),
        Column("created_at", BigInteger, nullable=False),
        Column("updated_at", BigInteger, nullable=False),
        Column("completed_at", BigInteger),
        Column("recovery_attempts", BigInteger, nullable=False, server_default=text("0")),
        Column("owner_xid", Text),
        Column("queue_name", Text),
        Column("queue_partition_key", Text),
        Column("deduplication_id", Text),
        Column("priority", Integer, nullable=False, server_default=text("0")),
        Column("started_at_epoch_ms", BigInteger),
        Column("delay_until_epoch_ms", BigInteger),
        Column("workflow_timeout_ms", BigInteger),
        Column("workflow_deadline_epoch_ms", BigInteger),
        Column("parent_workflow_id", Text),
        Column("forked_from", Text),
        Column("was_forked_from", Boolean, nullable=False, server_default=text("false")),
        # A debounced workflow waits (DELAYED) until this at the latest, however often its
        # start is pushed back; NULL for any other workflow.
        Column("debounce_deadline_epoch_ms", BigInteger),
        # W3C trace context (`traceparent`) its executions' spans hang from, so the trace of a
        # recovered run continues the original one; NULL when started without tracing.
        Column("trace_context", Text),
        # `SetWorkflowAttributes`: a JSON object, filterable in list_workflows; NULL for none.
        Column("attributes", Text),
        # A partitioned queue's fair order: the round in which the row's partition reaches it
        # (its partition's last queued round + 1, or the queue's lowest queued round + 1 for a
        # partition with nothing queued), so a tenant enqueued behind another's backlog is
        # claimed within a round instead of after it. 0 on queues that are not partitioned.
        Column("partition_round", BigInteger, nullable=False, server_default=text("0")),
        # The schedule whose tick (or trigger, or backfill) started this workflow.
        Column("schedule_name", Text),
        # A parked workflow (gave its thread back in a durable wait, `_core/parking.py`): what
        # it last waited for (`m:<workflow>:<topic>`, `e:...`, `sleep` ...) and until when;
        # cleared when it finishes. Informational: its wake-up does not depend on them.
        Column("waiting_for", Text),
        Column("waiting_until_epoch_ms", BigInteger),
        *_enqueue_order(schema),
        Index("workflow_status_created_at_index", "created_at"),
        Index("workflow_status_executor_status_index", "executor_id", "status"),
        Index("workflow_status_parent_index", "parent_workflow_id"),
        # A queue's rows by status, its queued ones aside on PostgreSQL: those are reached in
        # claim order through the two indexes below. Were they here too, the planner would
        # see "queue and status" as a way to a partition's queued rows as cheap as its own
        # index whenever it expects a row or none (which its statistics say of a partition's
        # rows ahead of its head), and took it: every claim then filtered the queue's whole
        # backlog once per partition (150 ms a claim with 10,000 queued; 3-6 ms without).
        # SQLite keeps the plain index: its planner ranks indexes by the columns they match.
        Index(
            "workflow_status_queue_status_index",
            "queue_name",
            "status",
            postgresql_where=text(_NOT_QUEUED),
        ),
        # The claim: the ENQUEUED rows of a queue by priority, fair round, then enqueue order
        # (SQLite appends the rowid to every index, which is its enqueue order; PostgreSQL has
        # `seq` for that).
        Index(
            "workflow_status_enqueued_index",
            "queue_name",
            "priority",
            "partition_round",
            *(["seq"] if schema else []),
            sqlite_where=text("status = 'ENQUEUED'"),
            postgresql_where=text("status = 'ENQUEUED'"),
        ),
        # A partition's queued rows in claim order: how many are ahead of a row (bounded by
        # the partition's limit), and the partition's last round when a row joins it.
        Index(
            "workflow_status_partition_queued_index",
            "queue_name",
            "queue_partition_key",
            "priority",
            "partition_round",
            *(["seq"] if schema else []),
            sqlite_where=text("status = 'ENQUEUED' AND queue_partition_key IS NOT NULL"),
            postgresql_where=text("status = 'ENQUEUED' AND queue_partition_key IS NOT NULL"),
        ),
        # A partition's rows by status (what runs in it), its queued ones aside on PostgreSQL
        # for the reason given above.
        Index(
            "workflow_status_partition_index",
            "queue_name",
            "queue_partition_key",
            "status",
            sqlite_where=text("queue_partition_key IS NOT NULL"),
            postgresql_where=text(f"queue_partition_key IS NOT NULL AND {_NOT_QUEUED}"),
        ),
        # A deduplication ID is taken while its workflow is queued or running.
        Index(
            "workflow_status_dedup_index",
            "queue_name",
            "deduplication_id",
            unique=True,
            sqlite_where=text("deduplication_id IS NOT NULL"),
            postgresql_where=text("deduplication_id IS NOT NULL"),
        ),
        # Delayed workflows (debounced, or enqueued with a delay) in the order they come due.
        Index(
            "workflow_status_delayed_index",
            "delay_until_epoch_ms",
            sqlite_where=text("status = 'DELAYED'"),
            postgresql_where=text("status = 'DELAYED'"),
        ),
        # `send_to_forks` walks a workflow's forks (only forks have the column set).
        Index(
            "workflow_status_forked_from_index",
            "forked_from",
            sqlite_where=text("forked_from IS NOT NULL"),
            postgresql_where=text("forked_from IS NOT NULL"),
        ),
        # The rate limiter counts the starts of a queue in a window.
        Index(
            "workflow_status_schedule_name_index",
            "schedule_name",
            sqlite_where=text("schedule_name IS NOT NULL"),
            postgresql_where=text("schedule_name IS NOT NULL"),
        ),
        Index(
            "workflow_status_started_index",
            "queue_name",
            "started_at_epoch_ms",
            sqlite_where=text("started_at_epoch_ms IS NOT NULL"),
            postgresql_where=text("started_at_epoch_ms IS NOT NULL"),
        ),
        # ... and a partition's limiter those of one partition.
        Index(
            "workflow_status_partition_started_index",
            "queue_name",
            "queue_partition_key",
            "started_at_epoch_ms",
            sqlite_where=text(
                "queue_partition_key IS NOT NULL AND started_at_epoch_ms IS NOT NULL"
            ),
            postgresql_where=text(
                "queue_partition_key IS NOT NULL AND started_at_epoch_ms IS NOT NULL"
            ),
        ),
    )

    Table(
        "operation_outputs",
        metadata,
        Column(
            "workflow_uuid",
            Text,
            ForeignKey(
                f"{prefix}workflow_status.workflow_uuid", onupdate="CASCADE", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        Column("function_id", Integer, nullable=False),
        Column("function_name", Text, nullable=False),
        Column("output", Text),
        Column("error", Text),
        Column("child_workflow_id", Text),
        Column("serialization", Text),
        Column("started_at_epoch_ms", BigInteger),
        Column("completed_at_epoch_ms", BigInteger),
        # How many times a retrying step ran; NULL for a step without retries (one run).
        Column("attempts", Integer),
        PrimaryKeyConstraint("workflow_uuid", "function_id"),
    )

    # One row per running process (not per executor ID: several processes may share one).
    # Owner tokens start with the instance ID, so survivors can tell whose work a dead
    # process held, and take it over once its heartbeat is older than the bound.
    Table(
        "executors",
        metadata,
        Column("instance_id", Text, primary_key=True),
        Column("executor_id", Text, nullable=False),
        Column("application_version", Text),
        Column("hostname", Text),
        Column("pid", BigInteger),
        Column("started_at", BigInteger, nullable=False),
        Column("heartbeat_at", BigInteger, nullable=False),
        # The workflows this process has registered (a JSON array of names): a schedule whose
        # workflow no live process registers is reported instead of silently never firing.
        Column("workflow_names", Text),
    )

    # Every queue: registered at run time (`DBOS.register_queue`, a client, the `dbos queue`
    # command) or declared in code (`Queue(...)`, rewritten by each process declaring it when it
    # launches). A superset of upstream DBOS's `queues` table (the same names and types for the
    # same settings), so its rows carry over as they are. Dispatchers read it, so a change of a
    # registered queue's limits applies in every process without a restart.
    Table(
        "queues",
        metadata,
        Column("name", Text, primary_key=True),
        Column("queue_id", Text),
        Column("concurrency", Integer),
        Column("worker_concurrency", Integer),
        Column("rate_limit_max", Integer),
        Column("rate_limit_period_sec", Float),
        Column("priority_enabled", Boolean, nullable=False, server_default=text("false")),
        Column("partition_queue", Boolean, nullable=False, server_default=text("false")),
        Column("partition_concurrency", Integer),
        Column("partition_worker_concurrency", Integer),
        Column("partition_rate_limit_max", Integer),
        Column("partition_rate_limit_period_sec", Float),
        Column("polling_interval_sec", Float, nullable=False, server_default=text("1.0")),
        Column("created_at", BigInteger, nullable=False, server_default=text("0")),
        Column("updated_at", BigInteger, nullable=False),
        Column("application_name", Text),
        # True for a queue declared in code: only processes declaring it serve it, with the
        # settings of their code (a registered queue's are changed at run time instead).
        Column("declared_in_code", Boolean, nullable=False, server_default=text("false")),
    )

    # Cron schedules: upstream DBOS's `workflow_schedules` (same name, columns and types, so an
    # upstream database's schedules carry over as they are), for schedules created at run time
    # and `@DBOS.scheduled` ones alike, plus what this scheduler needs after `application_name`.
    Table(
        "workflow_schedules",
        metadata,
        Column("schedule_id", Text, primary_key=True),
        Column("schedule_name", Text, nullable=False, unique=True),
        Column("workflow_name", Text, nullable=False),
        Column("workflow_class_name", Text),
        Column("schedule", Text, nullable=False),  # the cron expression
        Column("status", Text, nullable=False, server_default=text("'ACTIVE'")),  # or PAUSED
        Column("context", Text, nullable=False),  # serialized; every tick's second argument
        Column("last_fired_at", Text),  # ISO 8601, in the schedule's timezone
        Column("automatic_backfill", Boolean, nullable=False, server_default=text("false")),
        Column("cron_timezone", Text),  # IANA name; NULL for UTC
        Column("queue_name", Text),  # NULL for the internal queue
        Column("application_name", Text),
        # The format `context` is stored in (a serializer's name; NULL: the configured one).
        Column("context_serialization", Text),
        # "api" (DBOS.create_schedule and friends) or "decorator" (@DBOS.scheduled, whose
        # ticks get (scheduled_time, actual_time) instead of (scheduled_time, context)).
        Column("source", Text, nullable=False, server_default=text("'api'")),
        # After downtime, at most this many of the latest missed ticks run (with
        # automatic_backfill; NULL: all of them, up to the configured backfill limit).
        Column("catch_up_limit", Integer),
        # Epoch ms of the earliest tick not yet fired: the scheduler claims rows whose time
        # has come, in batches, and sleeps until the earliest one (NULL: not computed yet).
        Column("next_tick_at", BigInteger),
        Column("created_at", BigInteger),
        Column("updated_at", BigInteger),
        Index(
            "workflow_schedules_due_index",
            "workflow_name",
            "next_tick_at",
            sqlite_where=text("status = 'ACTIVE'"),
            postgresql_where=text("status = 'ACTIVE'"),
        ),
    )

    # Every application version launched on this database, the latest first (the one whose
    # processes take version-less queued work). Upstream 2.31's columns, so its rows carry over.
    Table(
        "application_versions",
        metadata,
        Column("version_id", Text, primary_key=True),
        Column("version_name", Text, nullable=False, unique=True),
        Column("version_timestamp", BigInteger, nullable=False),
        Column("created_at", BigInteger, nullable=False),
        Column("application_name", Text),  # the application that registered it
        Index("application_versions_timestamp_index", "version_timestamp"),
    )

    Table(
        "notifications",
        metadata,
        # Send order: messages of one topic are received oldest first. On SQLite this is the
        # rowid; on PostgreSQL a BIGSERIAL.
        Column(
            "seq",
            BigInteger().with_variant(Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        # Deterministic inside a workflow (`<workflow>-<step>`) or the caller's idempotency key,
        # so a retried send is recognised and not delivered twice.
        Column("message_uuid", Text, nullable=False, unique=True),
        Column(
            "destination_uuid",
            Text,
            ForeignKey(
                f"{prefix}workflow_status.workflow_uuid", onupdate="CASCADE", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        Column("topic", Text, nullable=False),  # None is stored as NULL_TOPIC
        Column("message", Text, nullable=False),
        Column("serialization", Text),
        Column("consumed", Boolean, nullable=False, server_default=text("false")),
        Column("created_at_epoch_ms", BigInteger, nullable=False),
        Index("notifications_destination_topic_index", "destination_uuid", "topic", "seq"),
    )

    Table(
        "workflow_events",
        metadata,
        Column(
            "workflow_uuid",
            Text,
            ForeignKey(
                f"{prefix}workflow_status.workflow_uuid", onupdate="CASCADE", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        Column("key", Text, nullable=False),
        Column("value", Text, nullable=False),
        Column("serialization", Text),
        PrimaryKeyConstraint("workflow_uuid", "key"),
    )

    # Every value an event took, by the step that set it: a fork from step N starts with the
    # events as they stood before step N.
    Table(
        "workflow_events_history",
        metadata,
        Column(
            "workflow_uuid",
            Text,
            ForeignKey(
                f"{prefix}workflow_status.workflow_uuid", onupdate="CASCADE", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        Column("function_id", Integer, nullable=False),
        Column("key", Text, nullable=False),
        Column("value", Text, nullable=False),
        Column("serialization", Text),
        PrimaryKeyConstraint("workflow_uuid", "key", "function_id"),
    )

    Table(
        "streams",
        metadata,
        Column(
            "workflow_uuid",
            Text,
            ForeignKey(
                f"{prefix}workflow_status.workflow_uuid", onupdate="CASCADE", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        Column("key", Text, nullable=False),
        Column("seq", Integer, nullable=False),  # 0, 1, 2 ... in write order
        Column("value", Text),  # NULL marks the end of the stream (close_stream)
        Column("serialization", Text),
        Column("function_id", Integer, nullable=False),
        PrimaryKeyConstraint("workflow_uuid", "key", "seq"),
    )
    return metadata

"""The system database schema: one SQLAlchemy Core definition for SQLite and PostgreSQL.

Timestamps are epoch milliseconds (BIGINT) so both dialects compare and sort them alike.
On PostgreSQL the tables live in their own schema (`dbos` by default); SQLite has none.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    text,
)

# Bumped with every migration in migrations.py; a database stamped higher is refused.
SCHEMA_VERSION = 2

# A message sent without a topic; a column in a primary lookup is easier NOT NULL.
NULL_TOPIC = "__null__topic__"


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
        Index("workflow_status_created_at_index", "created_at"),
        Index("workflow_status_executor_status_index", "executor_id", "status"),
        Index("workflow_status_parent_index", "parent_workflow_id"),
        Index("workflow_status_queue_status_index", "queue_name", "status"),
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
        PrimaryKeyConstraint("workflow_uuid", "function_id"),
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

"""`DBOSClient.enqueue_in_transaction`, `send_in_transaction` and `send_bulk_in_transaction`:
a workflow enqueued (or a message sent) inside the application's own SQLAlchemy transaction on
the system database, committed or rolled back with the application's writes beside it (the
outbox pattern: no workflow for an order that was never saved, no saved order without its
workflow).

Everything is checked before the first statement (the options, the queue, the arguments); the
caller commits or rolls back. A handle is valid once the transaction has committed. From async
code, bridge with `await conn.run_sync(lambda c: client.enqueue_in_transaction(c, ...))`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._core.handles import WorkflowHandle
from .._core.messages import SendMessage, detached_messages, own_serializer
from .._core.options_enqueue import EnqueueOptions
from .._db.caller_writes import ForeignConnection, MissingDestination
from .._db.records import Deduplicated
from .._error import DBOSException, DBOSNonExistentWorkflowError, DBOSQueueDeduplicatedError
from .._serialization import WorkflowSerializationFormat

if TYPE_CHECKING:
    from .._core.options_enqueue import Resolved
    from .._core.runtime import Runtime


class TransactionalClient:
    """The client's writes inside a caller-owned transaction (see the module docstring)."""

    @property
    def _runtime(self) -> Runtime:
        raise NotImplementedError  # DBOSClient's

    def _prepare(
        self, options: EnqueueOptions, args: Sequence[Any], kwargs: dict[str, Any]
    ) -> tuple[Resolved, dict[str, Any]]:
        raise NotImplementedError  # DBOSClient's

    def _cursor(self, conn_or_session: Any) -> Any:
        try:
            return self._runtime.sysdb.caller_writes.caller_cursor(conn_or_session)
        except ForeignConnection as exc:
            raise DBOSException(
                f"The connection given must reach the DBOS system database: {exc}"
            ) from None

    def enqueue_in_transaction(
        self, conn_or_session: Any, options: EnqueueOptions, *args: Any, **kwargs: Any
    ) -> WorkflowHandle[Any]:
        """Enqueue as `enqueue` does, inside the caller's transaction (a SQLAlchemy
        `Connection` or ORM `Session` on the system database): the workflow exists once that
        transaction commits, and never if it rolls back. A taken deduplication ID raises
        DBOSQueueDeduplicatedError (roll the transaction back then)."""
        if options.get("duplication_policy") == "return-existing":
            raise DBOSException(
                "duplication_policy 'return-existing' is not supported by "
                "enqueue_in_transaction. Use enqueue instead."
            )
        _resolved, row = self._prepare(options, args, kwargs)
        cursor = self._cursor(conn_or_session)
        try:
            self._runtime.sysdb.caller_writes.enqueue_in(cursor, row)
        except Deduplicated:
            raise DBOSQueueDeduplicatedError(
                row["workflow_uuid"], row["queue_name"], row["deduplication_id"]
            ) from None
        finally:
            cursor.close()
        return WorkflowHandle(row["workflow_uuid"], runtime=self._runtime)

    def send_in_transaction(
        self,
        conn_or_session: Any,
        destination_id: str,
        message: Any,
        topic: str | None = None,
        idempotency_key: str | None = None,
        *,
        serialization_type: WorkflowSerializationFormat | None = None,
    ) -> None:
        """Send as `send` does, inside the caller's transaction: the destination receives the
        message once that transaction commits, never if it rolls back. With an idempotency
        key it is delivered once however often it is sent (the ID `<key>::<destination>`)."""
        self._send_in(
            conn_or_session,
            [SendMessage(destination_id, message, topic, idempotency_key)],
            serialization_type,
        )

    def send_bulk_in_transaction(
        self,
        conn_or_session: Any,
        messages: Sequence[SendMessage],
        *,
        serialization_type: WorkflowSerializationFormat | None = None,
    ) -> None:
        """Send many `SendMessage`s inside the caller's transaction, as `send_bulk` does (the
        same checks, IDs and format). Two with one idempotency key are refused before anything
        is written."""
        self._send_in(conn_or_session, messages, serialization_type)

    def _send_in(
        self,
        conn_or_session: Any,
        messages: Sequence[SendMessage],
        serialization_type: WorkflowSerializationFormat | None,
    ) -> None:
        runtime = self._runtime
        outgoing = detached_messages(messages, own_serializer(runtime, serialization_type))
        if not outgoing:
            return
        cursor = self._cursor(conn_or_session)
        try:
            runtime.sysdb.caller_writes.send_in(cursor, outgoing)
        except MissingDestination as missing:
            raise DBOSNonExistentWorkflowError(str(missing)) from None
        finally:
            cursor.close()

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

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._core.handles import WorkflowHandle
from .._core.messages import serialize_value
from .._core.options_enqueue import EnqueueOptions
from .._db.caller_writes import ForeignConnection, MissingDestination
from .._db.records import Deduplicated
from .._error import DBOSException, DBOSNonExistentWorkflowError, DBOSQueueDeduplicatedError

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
            return self._runtime.sysdb.caller_cursor(conn_or_session)
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
            self._runtime.sysdb.enqueue_in(cursor, row)
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
    ) -> None:
        """Send as `send` does, inside the caller's transaction: the destination receives the
        message once that transaction commits, never if it rolls back. With an idempotency
        key it is delivered once however often it is sent (the ID `<key>::<destination>`)."""
        self._send_in(conn_or_session, [(destination_id, message, topic, idempotency_key)])

    def send_bulk_in_transaction(self, conn_or_session: Any, messages: Sequence[Any]) -> None:
        """Send many messages inside the caller's transaction: each a `SendMessage` (or any
        object with `destination_id`, `message`, `topic` and `idempotency_key`). Two with one
        idempotency key are refused before anything is written."""
        self._send_in(
            conn_or_session,
            [
                (
                    m.destination_id,
                    m.message,
                    getattr(m, "topic", None),
                    getattr(m, "idempotency_key", None),
                )
                for m in messages
            ],
        )

    def _send_in(
        self, conn_or_session: Any, messages: list[tuple[str, Any, str | None, str | None]]
    ) -> None:
        keys = [key for _, _, _, key in messages if key]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise DBOSException(
                f"send_bulk received duplicate idempotency keys: {', '.join(repeated)}"
            )
        runtime = self._runtime
        rows = []
        for destination, message, topic, key in messages:
            if not isinstance(destination, str) or not destination:
                raise DBOSException(
                    f"A message needs a destination workflow ID, got {destination!r}"
                )
            rows.append(
                {
                    "message_uuid": f"{key}::{destination}" if key else str(uuid.uuid4()),
                    "destination_uuid": destination,
                    "topic": topic,
                    "message": serialize_value(
                        runtime.serializer, message, f"The message to workflow {destination}"
                    ),
                    "serialization": runtime.serializer.name(),
                }
            )
        if not rows:
            return
        cursor = self._cursor(conn_or_session)
        try:
            runtime.sysdb.send_in(cursor, rows)
        except MissingDestination as missing:
            raise DBOSNonExistentWorkflowError(str(missing)) from None
        finally:
            cursor.close()

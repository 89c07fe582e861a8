"""Sending messages: `send` and `send_bulk`, defined once and served by `DBOS` and `DBOSClient`,
sync and async (see `operations.py`). From a workflow a send is one step of its own, written
with its messages (`_core/messages.py`), so these operations record nothing more."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._core import messages as _messages
from .._core.messages import SendMessage
from .._serialization import WorkflowSerializationFormat
from .operations import Caller, async_operation, operation


def _runtime_of(caller: Caller) -> Any:
    """None for `DBOS` (the launched runtime, whose sends in a workflow are steps), else the
    client's own runtime (which records nothing)."""
    return None if caller.records_steps else caller.runtime


@operation(None)
def _send(
    caller: Caller,
    destination_id: str,
    message: Any,
    topic: str | None = None,
    idempotency_key: str | None = None,
    *,
    serialization_type: WorkflowSerializationFormat | None = None,
    send_to_forks: bool = False,
) -> None:
    """Send `message` to workflow `destination_id` on `topic`. From a workflow it is a step: a
    recovered sender does not send again. `idempotency_key` delivers it once per destination
    however often it is sent; `send_to_forks` also to every workflow forked from it.
    `serialization_type`: the message's format (default: the sending workflow's, else the
    configured serializer)."""
    _messages.send(
        [SendMessage(destination_id, message, topic, idempotency_key)],
        _messages.SEND,
        serialization_type=serialization_type,
        send_to_forks=send_to_forks,
        runtime=_runtime_of(caller),
    )


@async_operation(None)
async def _send_async(
    caller: Caller,
    destination_id: str,
    message: Any,
    topic: str | None = None,
    idempotency_key: str | None = None,
    *,
    serialization_type: WorkflowSerializationFormat | None = None,
    send_to_forks: bool = False,
) -> None:
    """`send` for async code; in a workflow its step number is taken at call time."""
    write = _messages.prepare_send(
        [SendMessage(destination_id, message, topic, idempotency_key)],
        _messages.SEND,
        serialization_type=serialization_type,
        send_to_forks=send_to_forks,
        runtime=_runtime_of(caller),
    )
    if write is not None:
        await caller.off_loop(write)


@operation(None)
def _send_bulk(
    caller: Caller,
    messages: Sequence[SendMessage],
    *,
    serialization_type: WorkflowSerializationFormat | None = None,
    send_to_forks: bool = False,
) -> None:
    """Send many messages in one transaction: all are delivered, or none (a missing
    destination raises DBOSNonExistentWorkflowError naming it). From a workflow it is one
    step. Two messages with one idempotency key are refused before anything is written."""
    _messages.send(
        messages,
        _messages.SEND_BULK,
        serialization_type=serialization_type,
        send_to_forks=send_to_forks,
        runtime=_runtime_of(caller),
    )


@async_operation(None)
async def _send_bulk_async(
    caller: Caller,
    messages: Sequence[SendMessage],
    *,
    serialization_type: WorkflowSerializationFormat | None = None,
    send_to_forks: bool = False,
) -> None:
    """`send_bulk` for async code; in a workflow its step number is taken at call time."""
    write = _messages.prepare_send(
        messages,
        _messages.SEND_BULK,
        serialization_type=serialization_type,
        send_to_forks=send_to_forks,
        runtime=_runtime_of(caller),
    )
    if write is not None:
        await caller.off_loop(write)


class Messaging:
    """The message-sending surface shared by `DBOS` and `DBOSClient`."""

    send = _send
    send_async = _send_async
    send_bulk = _send_bulk
    send_bulk_async = _send_bulk_async

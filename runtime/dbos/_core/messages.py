"""`DBOS.send` and `DBOS.recv`: durable messages between workflows (and from outside them).

A send from a workflow is a step: the message row and the step record commit together, under
a message ID derived from the sender and step number, so a recovered sender never sends again.
A recv is two steps: `DBOS.recv` (the message it consumed, or None on timeout) and the durable
deadline `DBOS.sleep` just after it, recorded before the first wait, so a recovered receiver
gets the same message and waits only for what is left of its original timeout.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from .._db.message_store import NoSuchWorkflow, stored_topic
from .._db.records import MESSAGE, StepWrite, now_ms
from .._error import DBOSException, DBOSNonExistentWorkflowError, DBOSSerializationError
from .._serialization import Serializer
from .checkpoint import (
    active_workflow,
    check_deadline,
    owned_write,
    recorded_result,
    replay,
    step_write,
    write_checkpoint,
)
from .formats import value_serializer
from .runtime import Runtime, get_runtime
from .sleeping import record_deadline, recorded_deadline
from .waiters import WaitKey
from .waiting import NOTHING, BlockingCall

SEND = "DBOS.send"
RECV = "DBOS.recv"


def serialize_value(serializer: Serializer, value: Any, what: str) -> str:
    """Serialize a value about to be stored, or refuse naming it (nothing written)."""
    try:
        return serializer.serialize(value)
    except DBOSSerializationError as exc:
        raise DBOSSerializationError(
            f"{what} cannot be serialized ({exc.message}); nothing was written"
        ) from None


def prepare_send(
    destination_id: str,
    message: Any,
    topic: str | None,
    idempotency_key: str | None,
    serialization_type: object = None,
) -> Callable[[], None] | None:
    """Everything a send decides at call time (its step number); the returned write does the
    rest, or None when a replay finds the send already made."""
    runtime = get_runtime()
    serializer = value_serializer(runtime, serialization_type)
    text = serialize_value(serializer, message, f"The message to workflow {destination_id}")
    fmt = serializer.name()
    ctx = active_workflow()
    if ctx is None:
        message_uuid = idempotency_key or str(uuid.uuid4())
        return lambda: _deliver(runtime, message_uuid, destination_id, topic, text, fmt, None)
    step_id = ctx.take_step_id()
    if ctx.recorded and replay(ctx, step_id, SEND) is not None:
        return None
    check_deadline(runtime, ctx)
    step = step_write(ctx, step_id, SEND, now_ms())
    message_uuid = f"{ctx.workflow_id}-{step_id}"

    def write() -> None:
        with owned_write(runtime, ctx):
            _deliver(runtime, message_uuid, destination_id, topic, text, fmt, step)

    return write


def _deliver(
    runtime: Runtime,
    message_uuid: str,
    destination_id: str,
    topic: str | None,
    text: str,
    fmt: str,
    step: StepWrite | None,
) -> None:
    try:
        runtime.sysdb.send_message(message_uuid, destination_id, topic, text, fmt, step)
    except NoSuchWorkflow:
        raise DBOSNonExistentWorkflowError(destination_id) from None


def send(
    destination_id: str,
    message: Any,
    topic: str | None = None,
    idempotency_key: str | None = None,
    serialization_type: object = None,
) -> None:
    write = prepare_send(destination_id, message, topic, idempotency_key, serialization_type)
    if write is not None:
        write()


class Receive(BlockingCall):
    """One `DBOS.recv`: its two step numbers are taken when it is called."""

    def __init__(self, topic: str | None, timeout_seconds: float) -> None:
        ctx = active_workflow()
        if ctx is None:
            raise DBOSException("DBOS.recv must be called from within a workflow (not a step)")
        self.runtime = get_runtime()
        self.ctx = ctx
        self.topic = topic
        self.timeout_seconds = timeout_seconds
        self.step_id = ctx.take_step_id()
        self.sleep_id = ctx.take_step_id()
        self.keys = (WaitKey(MESSAGE, ctx.workflow_id, stored_topic(topic)),)
        self.deadline = None
        self.started_at = now_ms()
        record = replay(ctx, self.step_id, RECV) if ctx.recorded else None
        if record is not None:
            self.done, self.value = True, recorded_result(self.runtime, record)
            return
        check_deadline(self.runtime, ctx)
        self.deadline = recorded_deadline(self.runtime, ctx, self.sleep_id)

    def _step(self) -> StepWrite:
        assert self.ctx is not None
        return step_write(self.ctx, self.step_id, RECV, self.started_at)

    def first_miss(self) -> float:
        """Nothing waiting: record when the wait must end, before it begins."""
        assert self.ctx is not None
        return record_deadline(self.runtime, self.ctx, self.sleep_id, self.timeout_seconds)

    def check(self) -> Any:
        assert self.ctx is not None
        if not self.runtime.sysdb.has_message(self.ctx.workflow_id, self.topic):
            return NOTHING
        with owned_write(self.runtime, self.ctx):
            found, text, fmt = self.runtime.sysdb.receive_message(self._step(), self.topic)
        return self.runtime.decode(text, fmt) if found else NOTHING

    def finish(self, found: Any) -> Any:
        if found is not NOTHING:
            return found
        assert self.ctx is not None
        # Timed out: record None, so a replay returns None at once instead of waiting again.
        write_checkpoint(self.runtime, self.ctx, self.step_id, RECV, None, None, self.started_at)
        return None

"""`DBOS.send`, `DBOS.send_bulk` and `DBOS.recv`: durable messages between workflows (and from
outside them).

A send from a workflow is a step: the message rows and the step record commit together, under
message IDs derived from the sender and step number, so a recovered sender never sends again.
A recv is two steps: `DBOS.recv` (the message it consumed, or None on timeout) and the durable
deadline `DBOS.sleep` just after it, recorded before the first wait, so a recovered receiver
gets the same message and waits only for what is left of its original timeout.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .._db.handoff import IN_FLIGHT, UNKNOWN, WaitingReceiver
from .._db.message_store import NoSuchWorkflow, OutgoingMessage, stored_topic
from .._db.records import MESSAGE, StepWrite, now_ms
from .._error import (
    DBOSException,
    DBOSNonExistentWorkflowError,
    DBOSSerializationError,
    DBOSWorkflowConflictIDError,
)
from .._serialization import Serializer
from .._storable_text import require_storable
from .._threads import yield_the_gil
from .checkpoint import (
    active_workflow,
    check_deadline,
    owned_write,
    recorded_result,
    replay,
    step_write,
    write_checkpoint,
)
from .formats import serializer_for, value_serializer
from .parking import Parked
from .runtime import Runtime, get_runtime, logger
from .sleeping import deadline_step, record_deadline, recorded_deadline
from .time_ordered_ids import new_id
from .waiters import WaitKey
from .waiting import NOTHING, BlockingCall

SEND = "DBOS.send"
SEND_BULK = "DBOS.send_bulk"
RECV = "DBOS.recv"


@dataclass
class SendMessage:
    """One message of `DBOS.send_bulk`: `message` for workflow `destination_id` on `topic`.
    An `idempotency_key` delivers it once to each destination, however often it is sent."""

    destination_id: str
    message: Any
    topic: str | None = None
    idempotency_key: str | None = None


def serialize_value(serializer: Serializer, value: Any, what: str) -> str:
    """Serialize a value about to be stored, or refuse naming it (nothing written)."""
    try:
        return serializer.serialize(value)
    except DBOSSerializationError as exc:
        raise DBOSSerializationError(
            f"{what} cannot be serialized ({exc.message}); nothing was written"
        ) from None


def _checked(messages: Sequence[SendMessage]) -> list[SendMessage]:
    """The messages, refused (before anything is written) when one is not a SendMessage or
    two share an idempotency key: they would be one message, and which one is ambiguous."""
    checked = list(messages)
    for message in checked:
        if not isinstance(message, SendMessage):
            raise TypeError(f"send_bulk takes SendMessage(...) objects, got {message!r}")
        if not isinstance(message.destination_id, str) or not message.destination_id:
            raise DBOSException(
                f"A message needs a destination workflow ID, got {message.destination_id!r}"
            )
        require_storable(message.destination_id, "A destination workflow ID")
        require_storable(message.topic, "A topic")
    keys = [m.idempotency_key for m in checked if m.idempotency_key is not None]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise DBOSException(
            f"send_bulk received duplicate idempotency keys: {', '.join(duplicates)}"
        )
    return checked


def _message_id(message: SendMessage, base: str) -> str:
    """The row's unique ID, which makes a retried send deliver once: the idempotency key
    scoped to its destination (`<key>::<destination>`, upstream's scheme), else `base`."""
    if message.idempotency_key is not None:
        return f"{message.idempotency_key}::{message.destination_id}"
    return base


def prepare_send(
    messages: Sequence[SendMessage],
    step_name: str,
    *,
    serialization_type: object = None,
    send_to_forks: bool = False,
    runtime: Runtime | None = None,
) -> Callable[[], None] | None:
    """Everything a send decides at call time (serialized messages, its step number); the
    returned write delivers them in one transaction, or None when a replay finds them sent.

    From a workflow (`runtime` None: the launched one) the send is one step, committed with
    its messages, whose IDs derive from the sender and step (`<workflow>-<step>`, `.<i>` for
    the i-th of a bulk) unless keyed; a recovered sender sends nothing again. `send_to_forks`
    delivers each message to every workflow forked (recursively) from its destination too.
    `serialization_type`: the messages' format (default: the sending workflow's, else the
    configured serializer; a client's, its configured one)."""
    ctx = active_workflow() if runtime is None else None
    if ctx is None:
        if runtime is None:  # `DBOS` outside a workflow (in a step: its workflow's format)
            runtime = get_runtime()
            serializer = value_serializer(runtime, serialization_type)
        else:  # a client: its own configured format
            serializer = own_serializer(runtime, serialization_type)
        outgoing = detached_messages(messages, serializer)
        if not outgoing:
            return None
        sender = runtime
        return lambda: _deliver(sender, outgoing, None, send_to_forks)
    runtime = get_runtime()
    checked = _checked(messages)
    texts, fmt = _serialized(value_serializer(runtime, serialization_type), checked)
    step_id = ctx.take_step_id()
    if ctx.recorded and replay(ctx, step_id, step_name) is not None:
        return None
    check_deadline(runtime, ctx)
    logger.debug("Running %s, id: %d, messages: %d", step_name, step_id, len(checked))
    step = step_write(ctx, step_id, step_name, now_ms())
    base = f"{ctx.workflow_id}-{step_id}"
    ids = [_message_id(m, base if i == 0 else f"{base}.{i}") for i, m in enumerate(checked)]
    outgoing = _outgoing(checked, ids, texts, fmt)

    def write() -> None:
        with owned_write(runtime, ctx):
            _deliver(runtime, outgoing, step, send_to_forks)

    return write


def own_serializer(runtime: Runtime, serialization_type: object = None) -> Serializer:
    """A client's format for its messages: the one asked for, else its configured one."""
    return serializer_for(runtime, serialization_type) or runtime.serializer


def detached_messages(
    messages: Sequence[SendMessage], serializer: Serializer
) -> list[OutgoingMessage]:
    """Messages sent from no workflow (outside one, by a client, or in an application's own
    transaction): checked, serialized and given their IDs (the key's `<key>::<destination>`,
    else a fresh one), all before anything is written."""
    checked = _checked(messages)
    texts, fmt = _serialized(serializer, checked)
    ids = [_message_id(m, new_id()) for m in checked]
    return _outgoing(checked, ids, texts, fmt)


def _serialized(serializer: Serializer, messages: list[SendMessage]) -> tuple[list[str], str]:
    texts = [
        serialize_value(serializer, m.message, f"The message to workflow {m.destination_id}")
        for m in messages
    ]
    return texts, serializer.name()


def _outgoing(
    messages: list[SendMessage], ids: list[str], texts: list[str], fmt: str
) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(message_id, m.destination_id, m.topic, text, fmt, m.idempotency_key)
        for m, message_id, text in zip(messages, ids, texts, strict=True)
    ]


def _deliver(
    runtime: Runtime,
    outgoing: list[OutgoingMessage],
    step: StepWrite | None,
    send_to_forks: bool,
) -> None:
    with _sends.under_way() as alone:
        try:
            completed = runtime.sysdb.messages.send_messages(outgoing, step, to_forks=send_to_forks)
        except NoSuchWorkflow as missing:
            raise DBOSNonExistentWorkflowError(str(missing), "`send` destination") from None
    if completed and alone and not runtime.pool.saturated():
        # The receive this send completed runs on now instead of when the sender next blocks
        # (measured on PostgreSQL: 0.15-0.2 ms after its wake-up, 0.04-0.08 ms with this).
        # Only for a send alone in a process not backed up: under a burst of sends every
        # thread has work anyway.
        yield_the_gil()


class _SendsUnderWay:
    """How many sends of this process are writing now (`under_way` says whether alone)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    @contextlib.contextmanager
    def under_way(self) -> Iterator[bool]:
        with self._lock:
            self._count += 1
            alone = self._count == 1
        try:
            yield alone
        finally:
            with self._lock:
                self._count -= 1


_sends = _SendsUnderWay()


def send(
    messages: Sequence[SendMessage],
    step_name: str = SEND,
    *,
    serialization_type: object = None,
    send_to_forks: bool = False,
    runtime: Runtime | None = None,
) -> None:
    write = prepare_send(
        messages,
        step_name,
        serialization_type=serialization_type,
        send_to_forks=send_to_forks,
        runtime=runtime,
    )
    if write is not None:
        write()


class Receive(BlockingCall):
    """One `DBOS.recv`: its two step numbers are taken when it is called. Once its deadline
    is recorded it waits as a `WaitingReceiver`, which a send from this process completes by
    recording the message as its step in the send's transaction (`_db/handoff.py`): the
    receive then returns it with no write of its own."""

    receiver: WaitingReceiver | None = None

    def __init__(self, topic: str | None, timeout_seconds: float) -> None:
        ctx = active_workflow()
        if ctx is None:
            raise DBOSException("recv() must be called from within a workflow (not a step)")
        self.runtime = get_runtime()
        self.ctx = ctx
        self.topic = topic
        self.timeout_seconds = timeout_seconds
        self.step_id = ctx.take_step_id()
        self.sleep_id = ctx.take_step_id()
        self.keys = (WaitKey(MESSAGE, ctx.workflow_id, stored_topic(topic)),)
        self.deadline = None
        self.started_at = ctx.begin_blocking(self.step_id)
        record = replay(ctx, self.step_id, RECV) if ctx.recorded else None
        if record is not None:
            # Parked here and completed by a send: its receiver is done with.
            self.runtime.sysdb.messages.receivers.discard(
                ctx.workflow_id, stored_topic(topic), self.step_id
            )
            self.done, self.value = True, recorded_result(self.runtime, record)
            return
        check_deadline(self.runtime, ctx)
        logger.debug("Running recv, id: %d, topic: %s", self.step_id, topic)
        self.deadline = recorded_deadline(self.runtime, ctx, self.sleep_id)
        if self.deadline is not None:
            self._offer_to_senders()

    def _step(self) -> StepWrite:
        assert self.ctx is not None
        return step_write(self.ctx, self.step_id, RECV, self.started_at)

    def _offer_to_senders(self) -> None:
        """Its deadline recorded, all a send must write to complete it is its step."""
        receivers = self.runtime.sysdb.messages.receivers
        self.receiver = receivers.register(self._step(), stored_topic(self.topic))

    def _stop_offering(self) -> None:
        if self.receiver is not None:
            self.runtime.sysdb.messages.receivers.unregister(self.receiver)

    def first_miss(self) -> float:
        """Nothing waiting: record when the wait must end, before it begins."""
        assert self.ctx is not None
        deadline = record_deadline(self.runtime, self.ctx, self.sleep_id, self.timeout_seconds)
        self._offer_to_senders()
        return deadline

    def _handed_off(self) -> Any:
        """The message a send from this process recorded as this receive's step; IN_FLIGHT
        while such a send's transaction is under way (it wakes the receive when done); else
        NOTHING. A send that could not tell whether it recorded it leaves UNKNOWN: the step
        is read."""
        receiver = self.receiver
        mailbox = None if receiver is None else receiver.mailbox
        if mailbox is None:
            return NOTHING
        if mailbox is IN_FLIGHT:
            return IN_FLIGHT
        if mailbox is UNKNOWN:
            found = self._recorded_by_a_send()
            if found is NOTHING and receiver is not None:
                receiver.mailbox = None  # not recorded: offered to sends again
            return found
        assert isinstance(mailbox, tuple)
        text, fmt = mailbox
        return self.runtime.decode(text, fmt)

    def _recorded_by_a_send(self) -> Any:
        found, text, fmt = self.runtime.sysdb.messages.received(self._step())
        return self.runtime.decode(text, fmt) if found else NOTHING

    def check(self) -> Any:
        assert self.ctx is not None
        handed = self._handed_off()
        if handed is IN_FLIGHT:
            return NOTHING  # no need to look: the send wakes this receive when it is done
        if handed is not NOTHING:
            return handed
        if not self.runtime.sysdb.messages.has_message(self.ctx.workflow_id, self.topic):
            return NOTHING
        with owned_write(self.runtime, self.ctx):
            deadline = deadline_step(
                self.runtime, self.ctx, self.sleep_id, self.timeout_seconds, self.started_at
            )
            found, text, fmt = self.runtime.sysdb.messages.receive_message(
                self._step(), self.topic, deadline
            )
        return self.runtime.decode(text, fmt) if found else NOTHING

    def finish(self, found: Any) -> Any:
        self._stop_offering()
        if found is not NOTHING:
            return found
        assert self.ctx is not None
        # Timed out: record None, so a replay returns None at once instead of waiting again.
        try:
            write_checkpoint(
                self.runtime, self.ctx, self.step_id, RECV, None, None, self.started_at
            )
        except DBOSWorkflowConflictIDError:
            handed = self._recorded_by_a_send()  # as it timed out, a send completed it
            if handed is NOTHING:
                raise
            return handed
        return None

    def abandon(self) -> None:
        self._stop_offering()

    def parked(self, entry: Parked) -> None:
        """Still offered to sends; one that begins resumes it at once (`wake_early`)."""
        if self.receiver is not None:
            runtime = self.runtime
            self.receiver.wake_early = lambda: _resume_early(runtime, entry)


def _resume_early(runtime: Runtime, entry: Parked) -> None:
    """Resume a parked receive as a send to it begins, when a workflow thread is free to take
    it now. With work queued for the pool (many sends at once), the resumed run would meet the
    send still under way, park again at once (the pool being busy) and be resumed a second time
    by the send's wake-up: it waits for that wake-up instead."""
    if not runtime.pool.saturated():
        entry.fire()

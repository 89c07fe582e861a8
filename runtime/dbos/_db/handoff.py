"""Receivers waiting in this process, so that a send from this process completes their receive.

A wake-up by message was two durable commits in a row: the send's, then the receiver's (the
message marked consumed and recorded as its `DBOS.recv` step). When the receiver waits in this
process, the sender knows everything the second commit writes (the receiver's step number,
owner token, start time; the message is its own), so its transaction writes both
(`sql.DELIVER_TO_RECEIVER`): the receiver wakes to a recorded step and returns it without a
write of its own. A receiver that parked resumes by replay and finds the step in its history.

The database decides, not this registry: the step is recorded only while the receiver owns its
PENDING row and no older message waits for it, and its primary key settles a race with the
receiver recording a timeout. A receiver is registered only once its deadline is recorded (the
receive's other step), so nothing else of the receive is left to write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .records import StepWrite


class Mark:
    """A state of a receiver's mailbox other than a message (`IN_FLIGHT`, `UNKNOWN`)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


# A send has taken the receiver and its transaction is under way: the receiver need not look
# in the database (the send fills the mailbox, or empties it, and then wakes it).
IN_FLIGHT = Mark("IN_FLIGHT")
# The send cannot tell whether its transaction recorded the message as the receiver's step (it
# failed, or a retry met its own first attempt's step): the receiver reads its step.
UNKNOWN = Mark("UNKNOWN")


@dataclass(eq=False, slots=True)
class WaitingReceiver:
    """One `DBOS.recv` waiting in this process: its step (owner, number, start time) for a
    send to record, and the mailbox a send fills before waking it."""

    step: StepWrite
    topic: str  # as stored (`stored_topic`)
    # None while offered to sends; then IN_FLIGHT, and (message, format) once a send from this
    # process recorded it as its step, or UNKNOWN.
    mailbox: tuple[str, str | None] | Mark | None = field(default=None)
    # A parked receive's resume: a send starts it as it begins, so that the resumed run's
    # history read overlaps the send's commit (the run then finds the message in the
    # mailbox, or in its history).
    wake_early: Callable[[], None] | None = None


class ReceiverRegistry:
    """This process's waiting receivers, one per (workflow, topic): the latest registered."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[tuple[str, str], WaitingReceiver] = {}

    def __len__(self) -> int:
        return len(self._by_key)

    def register(self, step: StepWrite, topic: str) -> WaitingReceiver:
        """The receiver of this receive (`step`, waiting on `topic`): the one registered for
        it already, if any (its park's, which a send may be filling while it resumes; no
        longer parked), else a new one, replacing any other of the workflow's on this topic."""
        key = (step.workflow_id, topic)
        with self._lock:
            receiver = self._by_key.get(key)
            if receiver is None or (receiver.step.function_id, receiver.step.owner) != (
                step.function_id,
                step.owner,
            ):
                receiver = self._by_key[key] = WaitingReceiver(step, topic)
            receiver.wake_early = None
            return receiver

    def unregister(self, receiver: WaitingReceiver) -> None:
        """Forget `receiver` (and only it: a later receive of the same topic may have replaced
        it)."""
        key = (receiver.step.workflow_id, receiver.topic)
        with self._lock:
            if self._by_key.get(key) is receiver:
                del self._by_key[key]

    def discard(self, workflow_id: str, topic: str, function_id: int) -> None:
        """Forget the receiver of this receive, if registered: a parked receive that resumed
        (its step recorded by a send, or its wait about to register again)."""
        with self._lock:
            receiver = self._by_key.get((workflow_id, topic))
            if receiver is not None and receiver.step.function_id == function_id:
                del self._by_key[(workflow_id, topic)]

    def take(self, destination_id: str, topic: str) -> WaitingReceiver | None:
        """The receiver a send to `destination_id` on `topic` completes, marked IN_FLIGHT (no
        other send takes it), or None when none is offered."""
        if not self._by_key:
            return None  # (every send asks: no lock while nobody waits here)
        with self._lock:
            receiver = self._by_key.get((destination_id, topic))
            if receiver is None or receiver.mailbox is not None:
                return None
            receiver.mailbox = IN_FLIGHT
            return receiver

    def waiting(self, destination_id: str, topic: str) -> WaitingReceiver | None:
        """The receiver offered to sends for `destination_id` and `topic`, if any."""
        receiver = self._by_key.get((destination_id, topic))
        return receiver if receiver is not None and receiver.mailbox is None else None


def receiver_params(receiver: WaitingReceiver) -> dict[str, object]:
    """The receiver's parameters of `sql.DELIVER_TO_RECEIVER` (and its SQLite pair)."""
    step = receiver.step
    return {
        "receiver_owner": step.owner,
        "receiver_function_id": step.function_id,
        "receiver_function_name": step.function_name,
        "receiver_started_at": step.started_at,
    }

"""Reads and writes of messages, events and streams, and the checks the change poller runs.

Each write wakes this process's waiters on its key once it has committed (`self.db.wake`); other
processes hear of it through the PostgreSQL triggers or the SQLite poller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .._storable_text import require_storable
from .connections import Connections
from .handoff import UNKNOWN, ReceiverRegistry, WaitingReceiver, receiver_params
from .records import (
    EVENT,
    FINAL,
    MESSAGE,
    QUEUE,
    STREAM,
    NotOwner,
    StepWrite,
    WakeKey,
    is_unique_violation,
    now_ms,
)
from .schema import NULL_TOPIC
from .sql import in_list
from .store import Store
from .workflow_store import WorkflowStore

# Bind lists for the poller's IN (...) checks are cut to this size (SQLite's variable limit is
# far higher; smaller statements plan and run faster).
_CHUNK = 500


def stored_topic(topic: str | None) -> str:
    return NULL_TOPIC if topic is None else topic


def _is_foreign_key_violation(exc: BaseException) -> bool:
    if getattr(exc, "sqlstate", None) == "23503":
        return True
    return "FOREIGN KEY constraint failed" in str(exc)


class NoSuchWorkflow(Exception):
    """The destination of a message does not exist (its foreign key refused the row); the
    exception's text names the missing destinations."""


@dataclass(frozen=True)
class OutgoingMessage:
    """A message about to be stored: its unique ID (a repeat with the same ID is skipped),
    destination, topic, and the serialized value with the format it is in."""

    message_uuid: str
    destination_id: str
    topic: str | None
    message: str
    serialization: str
    idempotency_key: str | None = None  # the sender's, when its ID derives from one

    def __post_init__(self) -> None:
        require_storable(self.destination_id, "A destination workflow ID")
        require_storable(self.topic, "A topic")

    def params(self, now: int) -> dict[str, Any]:
        return {
            "message_uuid": self.message_uuid,
            "destination_uuid": self.destination_id,
            "topic": stored_topic(self.topic),
            "message": self.message,
            "serialization": self.serialization,
            "now": now,
        }

    def to_fork(self, fork_id: str) -> OutgoingMessage:
        """The copy for a fork of the destination, its ID scoped to the fork: the key's
        (`<key>::<fork>`, as upstream), else this message's with the fork appended."""
        base = self.idempotency_key if self.idempotency_key is not None else self.message_uuid
        return replace(self, message_uuid=f"{base}::{fork_id}", destination_id=fork_id)


class MessageStore(Store):
    def __init__(self, db: Connections, workflows: WorkflowStore) -> None:
        super().__init__(db)
        self.workflows = workflows  # its rule for the INSERT of a new row, and its reads
        self.receivers = ReceiverRegistry()  # receives waiting in this process (handoff.py)

    def _write_unit(
        self,
        workflow_id: str,
        statements: list[tuple[str, Mapping[str, Any]]],
        step_params: Mapping[str, Any] | None,
        *,
        step_decides: bool = False,
    ) -> list[int] | None:
        """Commit `statements` (each written only while the workflow is ours) together with
        the step that records them; NotOwner when any of them found the workflow not ours.
        With `step_decides`, only the step's count says so: the statements may skip a row
        that exists already (a message sent before under its idempotency key). Returns the
        statements' row counts, or None when an earlier attempt committed them.

        The step row is the unit's receipt: a unit retried after an unknown outcome meets its
        own step row, its transaction (duplicates included) rolls back, and the row, compared
        with ours, says the first attempt committed."""
        if step_params is not None:
            statements = [*statements, (self.sql.RECORD_STEP, step_params)]
        try:
            counts = self._committer.execute_unit(statements)
        except Exception as exc:
            if (
                step_params is not None
                and is_unique_violation(exc)
                and self.workflows.recorded_as(step_params)
            ):
                return None
            raise
        checked = counts[-1:] if step_decides and step_params is not None else counts
        if any(c != 1 for c in checked):
            raise NotOwner(workflow_id)
        return counts

    # ------------------------------------------------------------------ messages

    def send_messages(
        self,
        messages: Sequence[OutgoingMessage],
        step: StepWrite | None = None,
        *,
        to_forks: bool = False,
    ) -> int:
        """Deliver messages in one transaction; from a workflow (`step`), together with the step
        that sent them. A message whose ID is taken is a repeat, delivered already: skipped.
        `to_forks`: also to every workflow forked (recursively) from each destination. The
        first message for a receive waiting in this process completes it (`handoff.py`).
        Returns how many receives in this process it completed (and woke).

        Raises NoSuchWorkflow naming the missing destinations (nothing written) and NotOwner
        when the sending workflow is no longer this execution's (nothing written either)."""
        if to_forks:
            messages = self._with_forks(messages)
        now = now_ms()
        rows = [m.params(now) for m in messages]
        guard = (
            None if step is None else {"workflow_uuid": step.workflow_id, "owner_xid": step.owner}
        )
        handoffs: list[tuple[int, int, WaitingReceiver]] = []
        counts: list[int] | None = None
        try:  # (from here on, a receiver taken is told, and woken, whatever happens)
            statements = self._send_statements(rows, guard, handoffs)
            for _index, _statement, receiver in handoffs:
                wake_early, receiver.wake_early = receiver.wake_early, None
                if wake_early is not None:
                    wake_early()
            if step is not None:
                counts = self._write_unit(
                    step.workflow_id, statements, step.params(), step_decides=True
                )
            elif len(statements) == 1:
                counts = [self._committer.execute(*statements[0])]
            elif statements:
                counts = self._committer.execute_unit(statements)
        except Exception as exc:
            if _is_foreign_key_violation(exc):
                raise NoSuchWorkflow(self._missing({m.destination_id for m in messages})) from exc
            raise
        finally:
            completed = self._fill_mailboxes(handoffs, rows, counts)
            for key in {(MESSAGE, m.destination_id, stored_topic(m.topic)) for m in messages}:
                self.db.wake(key)
        return completed

    def _send_statements(
        self,
        rows: list[dict[str, Any]],
        guard: dict[str, Any] | None,
        handoffs: list[tuple[int, int, WaitingReceiver]],
    ) -> list[tuple[str, Mapping[str, Any]]]:
        """The statements that store `rows` (guarded by the sending workflow's ownership when
        `guard` is given); the handoffs among them are appended to `handoffs` as they are
        taken: (row, statement whose row count says the receiver took it, receiver). Only a
        destination and topic's first message of the send may complete a receive: the
        receiver takes the oldest."""
        sql = self.sql
        from_workflow = guard is not None
        plain = sql.SEND_MESSAGE_FROM_WORKFLOW if from_workflow else sql.SEND_MESSAGE
        if self.backend == "postgresql":
            handed = [
                sql.DELIVER_TO_RECEIVER_FROM_WORKFLOW if from_workflow else sql.DELIVER_TO_RECEIVER
            ]
        else:
            handed = [
                sql.RECORD_HANDED_OFF_FROM_WORKFLOW if from_workflow else sql.RECORD_HANDED_OFF,
                sql.STORE_HANDED_OFF_FROM_WORKFLOW if from_workflow else sql.STORE_HANDED_OFF,
            ]
        statements: list[tuple[str, Mapping[str, Any]]] = []
        seen: set[tuple[str, str]] = set()
        for index, row in enumerate(rows):
            params = row if guard is None else row | guard
            key = (row["destination_uuid"], row["topic"])
            receiver = None if key in seen else self.receivers.take(*key)
            seen.add(key)
            if receiver is None:
                statements.append((plain, params))
                continue
            params = params | receiver_params(receiver)
            handoffs.append((index, len(statements), receiver))
            statements.extend((statement, params) for statement in handed)
        return statements

    def _fill_mailboxes(
        self,
        handoffs: list[tuple[int, int, WaitingReceiver]],
        rows: list[dict[str, Any]],
        counts: list[int] | None,
    ) -> int:
        """Tell each receiver a send took what became of it, before waking it: the message,
        recorded as its step; UNKNOWN when the send failed or a retry met its own earlier
        attempt (it reads its step); else it did not take the message (an older one waits, it
        timed out, or it is no longer ours): its mailbox is emptied and it is no longer offered
        to sends (a stale entry goes; a live receive gets this send's message as any other).
        Returns how many got their message."""
        completed = 0
        for index, statement, receiver in handoffs:
            if counts is None:
                receiver.mailbox = UNKNOWN
            elif counts[statement] == 1:
                row = rows[index]
                receiver.mailbox = (row["message"], row["serialization"])
                completed += 1
            else:
                self.receivers.unregister(receiver)
                receiver.mailbox = None
        return completed

    def _with_forks(self, messages: Sequence[OutgoingMessage]) -> list[OutgoingMessage]:
        """Each message, and a copy of it for every fork of its destination (its ID scoped to
        the fork, so that a repeat is still recognised)."""
        roots = sorted({m.destination_id for m in messages})
        forks: dict[str, list[str]] = {}
        for start in range(0, len(roots), _CHUNK):
            sql, params = in_list(self.sql.FORK_DESCENDANTS, self.backend, roots[start:][:_CHUNK])
            for root, fork in self.db.fetchall(sql, params):
                forks.setdefault(str(root), []).append(str(fork))
        out: list[OutgoingMessage] = []
        for message in messages:
            out.append(message)
            out.extend(message.to_fork(fork) for fork in forks.get(message.destination_id, []))
        return out

    def _missing(self, destinations: set[str]) -> str:
        wanted = sorted(destinations)
        found: set[str] = set()
        for start in range(0, len(wanted), _CHUNK):
            sql, params = in_list(
                self.sql.EXISTING_WORKFLOW_IDS, self.backend, wanted[start:][:_CHUNK]
            )
            found.update(str(r[0]) for r in self.db.fetchall(sql, params))
        return ", ".join(d for d in wanted if d not in found) or ", ".join(wanted)

    def has_message(self, workflow_id: str, topic: str | None) -> bool:
        """Whether a message waits; on PostgreSQL always True, since receiving costs no more."""
        require_storable(topic, "A topic")
        if self.backend == "postgresql":
            return True
        row = self.db.fetchone(
            self.sql.HAS_MESSAGE, {"workflow_uuid": workflow_id, "topic": stored_topic(topic)}
        )
        return row is not None

    def receive_message(
        self, step: StepWrite, topic: str | None, deadline: StepWrite
    ) -> tuple[bool, str | None, str | None]:
        """Consume the oldest unconsumed message of `topic` and record it as `step`'s output,
        in one transaction: (True, message, format), or (False, None, None) when there is none.
        The recv's `deadline` step is recorded with it, unless a wait recorded it first.

        Raises NotOwner (and changes nothing) when the workflow is no longer this execution's."""
        require_storable(topic, "A topic")
        lookup = {"workflow_uuid": step.workflow_id, "topic": stored_topic(topic)}
        try:
            if self.backend == "postgresql":
                return self._receive(step, lookup, deadline)  # one statement, retried by fetchone
            return self.db.retrying(lambda _attempt: self._receive(step, lookup, deadline))
        except Exception as exc:
            if not is_unique_violation(exc):
                raise
            # A retried receive meets the step its first attempt recorded: that message is ours.
            received = self.received(step)
            if not received[0]:
                raise
            return received

    def received(self, step: StepWrite) -> tuple[bool, str | None, str | None]:
        """Whether `step` (a receive's) is recorded with a message (by the receive itself, or
        a send that completed it): (True, message, format), else (False, None, None)."""
        row = self.db.fetchone(self.sql.SELECT_STEP, step.params())
        if row is None or row[0] != step.function_name or row[2] is not None:
            return False, None, None
        return True, row[1], row[5]

    def _receive(
        self, step: StepWrite, lookup: dict[str, Any], deadline: StepWrite
    ) -> tuple[bool, str | None, str | None]:
        if self.backend == "postgresql":
            deadline_params = {
                "deadline_function_id": deadline.function_id,
                "deadline_output": deadline.output,
                "deadline_serialization": deadline.serialization,
            }
            row = self.db.fetchone(self.sql.TAKE_MESSAGE, lookup | step.params() | deadline_params)
            assert row is not None  # the statement always returns its one row
            output, serialization, owns = row
            if not owns:
                raise NotOwner(step.workflow_id)
            return output is not None, output, serialization
        with self.db.transaction() as cur:
            cur.execute(self.sql.OLDEST_MESSAGE, lookup)
            row = cur.fetchone()
            if row is None:
                return False, None, None
            seq, message, serialization = row
            recorded = StepWrite(
                step.workflow_id,
                step.owner,
                step.function_id,
                step.function_name,
                output=message,
                serialization=serialization,
                started_at=step.started_at,
            )
            cur.execute(self.sql.RECORD_STEP, recorded.params())
            if cur.rowcount != 1:
                raise NotOwner(step.workflow_id)
            cur.execute(self.sql.RECORD_STEP_IF_ABSENT, deadline.params())
            cur.execute(self.sql.MARK_CONSUMED, {"seq": seq})
        return True, message, serialization

    # ------------------------------------------------------------------ events

    def set_event(
        self,
        workflow_id: str,
        owner: str,
        function_id: int,
        key: str,
        value: str,
        serialization: str,
        step: StepWrite | None,
    ) -> None:
        """Set `key` to `value` (the latest wins) and keep it in the history under
        `function_id`; from a workflow (`step`) together with the step record."""
        require_storable(key, "An event key")
        params = {
            "workflow_uuid": workflow_id,
            "owner_xid": owner,
            "function_id": function_id,
            "key": key,
            "value": value,
            "serialization": serialization,
        }
        self._write_unit(
            workflow_id,
            [(self.sql.UPSERT_EVENT, params), (self.sql.INSERT_EVENT_HISTORY, params)],
            None if step is None else step.params(),
        )
        self.db.wake((EVENT, workflow_id, key))

    def get_event(self, workflow_id: str, key: str) -> tuple[str | None, str | None, str | None]:
        """(status of the workflow or None if it does not exist, value, format)."""
        require_storable(workflow_id, "A workflow ID")
        require_storable(key, "An event key")
        row = self.db.fetchone(self.sql.GET_EVENT, {"workflow_uuid": workflow_id, "key": key})
        if row is None:
            return None, None, None
        return row[0], row[1], row[2]

    def get_all_events(self, workflow_id: str) -> list[Sequence[Any]]:
        return self.db.fetchall(self.sql.GET_ALL_EVENTS, {"workflow_uuid": workflow_id})

    # ------------------------------------------------------------------ streams

    def write_stream(
        self,
        workflow_id: str,
        owner: str,
        function_id: int,
        key: str,
        value: str | None,
        serialization: str | None,
        step: StepWrite | None,
    ) -> None:
        """Append `value` (None: the end of the stream) at the next position of the stream."""
        require_storable(key, "A stream key")
        params = {
            "workflow_uuid": workflow_id,
            "owner_xid": owner,
            "function_id": function_id,
            "key": key,
            "value": value,
            "serialization": serialization,
        }
        self._write_unit(
            workflow_id,
            [(self.sql.INSERT_STREAM_VALUE, params)],
            None if step is None else step.params(),
        )
        self.db.wake((STREAM, workflow_id, key))

    def read_stream(
        self, workflow_id: str, key: str, from_seq: int, limit: int = 100
    ) -> tuple[str | None, list[tuple[int, str | None, str | None]]]:
        """(writer's status or None if it does not exist, [(seq, value, format)] from
        `from_seq` on); a None value is the end of the stream."""
        require_storable(workflow_id, "A workflow ID")
        require_storable(key, "A stream key")
        rows = self.db.fetchall(
            self.sql.READ_STREAM,
            {"workflow_uuid": workflow_id, "key": key, "from_seq": from_seq, "limit": limit},
        )
        if not rows:
            return None, []
        status = rows[0][0]
        return status, [(int(r[1]), r[2], r[3]) for r in rows if r[1] is not None]

    # ------------------------------------------------------------------ the poller's checks

    def changed_keys(
        self, keys: Sequence[WakeKey], stream_heads: dict[tuple[str, str], int]
    ) -> list[WakeKey]:
        """Which of these waited-on keys another process may have satisfied: a message waiting,
        an event set, a stream grown past `stream_heads` (updated here), a workflow finished.
        One query per kind present, however many waiters."""
        by_kind: dict[str, list[WakeKey]] = {}
        for key in keys:
            by_kind.setdefault(key[0], []).append(key)
        hits: list[WakeKey] = []
        for kind, kind_keys in by_kind.items():
            ids = sorted({k[1] for k in kind_keys})
            wanted = set(kind_keys)
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                hits.extend(k for k in self._changed(kind, chunk, stream_heads) if k in wanted)
        return hits

    def _changed(
        self, kind: str, ids: list[str], stream_heads: dict[tuple[str, str], int]
    ) -> list[WakeKey]:
        statement = {
            MESSAGE: self.sql.UNCONSUMED_MESSAGE_KEYS,
            EVENT: self.sql.EVENT_KEYS,
            STREAM: self.sql.STREAM_HEADS,
            FINAL: self.sql.FINISHED_WORKFLOWS,
            QUEUE: self.sql.HAS_ENQUEUED,
        }.get(kind)
        if statement is None:
            return []
        sql, params = in_list(statement, self.backend, ids)
        rows = self.db.fetchall(sql, params)
        if kind in (FINAL, QUEUE):
            return [(kind, str(r[0]), "") for r in rows]
        if kind != STREAM:
            return [(kind, str(r[0]), str(r[1])) for r in rows]
        grown: list[WakeKey] = []
        for wf, key, head in rows:
            if stream_heads.get((wf, key)) != head:
                stream_heads[(wf, key)] = int(head)
                grown.append((STREAM, str(wf), str(key)))
        return grown

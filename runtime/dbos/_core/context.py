"""Per-execution state kept in `contextvars`, so threads and asyncio tasks each see their own.

A `WorkflowContext` is what the checkpoint core needs to place the next step: the workflow ID,
the owner token of this execution, the next step number, the deadline, and (on a recovered run
only) the outputs recorded before the crash, read once when the run began.
"""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from .. import _clock
from .._error import DBOSException
from .._storable_text import require_storable
from .waiters import FINAL, Waiter, WaitKey

if TYPE_CHECKING:
    from .._db.records import StepRecord
    from .._serialization import Serializer


@dataclass
class WorkflowContext:
    workflow_id: str
    name: str
    owner: str
    deadline_ms: int | None = None
    recorded: dict[int, StepRecord] = field(default_factory=dict)
    # True when this run continues an earlier one (recovery, resume, fork): only then can work
    # be committed somewhere without its checkpoint (a transaction's own output row).
    resumed: bool = False
    next_step: int = 1
    cancelled: threading.Event = field(default_factory=threading.Event)
    # Waiters this execution is blocked in (recv, get_event, sleep ...): a cancel wakes them.
    waiters: set[Waiter] = field(default_factory=set)
    # The workflow's format (see formats.py); None: the configured serializer.
    serializer: Serializer | None = None
    # An async body's own task: code in tasks it starts (asyncio.gather) runs concurrently.
    task: Any = None
    # The thread that registered it (a pool thread, or the caller's for a direct call).
    thread: int = field(default_factory=threading.get_ident)
    # The outermost workflow of a workflow thread: a long wait may park it (parking.py).
    parkable: bool = False
    # The blocking operation in progress (recv, get_event, a stream read, a step that waits):
    # its step number and when it began (ms). A run resuming a parked workflow starts with the
    # one it parked in, so the step's recorded times (and a stream read's timeout) span the
    # whole wait, as without the park.
    blocking_since: tuple[int, int] | None = None
    # Set when this execution parked (the `WorkflowParked` unwinding it): from then on no part
    # of it may take a step number, so a task of an async body still running after its body
    # task unwound (or a `finally:` in the body) stops instead of writing under a run that
    # has ended; it is raised again there.
    parked: BaseException | None = None
    # An async body's other tasks (asyncio.gather, create_task) that took a step number: the
    # body parks only once none of them runs (`runs_alone`). `threaded`: a thread took one.
    helpers: weakref.WeakSet[asyncio.Task[Any]] | None = None
    threaded: bool = False
    # Its async body runs on a loop of its own (`async_bodies.py`): every task of that loop is
    # the body's, and a park closes the loop, cancelling them.
    own_loop: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def begin_blocking(self, step_id: int) -> int:
        """When the blocking operation at `step_id` began (epoch ms): now, or, in a run that
        resumes a parked workflow, when the parked run began it."""
        since = self.blocking_since
        if since is not None and since[0] == step_id:
            return since[1]
        started = _clock.now_ms()
        if since is None or since[0] < step_id:  # not an earlier call being replayed
            self.blocking_since = (step_id, started)
        return started

    def cancel(self) -> None:
        """Stop this execution: set the flag its checkpoints read and wake whatever it waits in."""
        self.cancelled.set()
        self.wake()

    def wake(self) -> None:
        """Wake whatever this execution waits in, to look again at why it should stop."""
        with self._lock:
            waiters = list(self.waiters)
        for waiter in waiters:
            waiter.fire(WaitKey(FINAL, self.workflow_id))

    def blocked_in(self, waiter: Waiter) -> None:
        with self._lock:
            self.waiters.add(waiter)
        if self.cancelled.is_set():  # cancelled just before it began to wait
            waiter.fire(WaitKey(FINAL, self.workflow_id))

    def unblocked(self, waiter: Waiter) -> None:
        with self._lock:
            self.waiters.discard(waiter)

    def take_step_id(self) -> int:
        """Assign the next step number; call order defines numbering, so replay lines up."""
        with self._lock:
            if self.parked is not None:
                raise self.parked
            if self.task is not None:
                self._note_helper()
            step_id = self.next_step
            self.next_step += 1
            return step_id

    def _note_helper(self) -> None:
        """An async body's operation: remember the task doing it when it is not the body's own
        task (one the body started), so the body does not park while that one may still write."""
        try:
            task = asyncio.current_task()
        except RuntimeError:  # no loop on this thread: a thread the body started
            self.threaded = True
            return
        if task is None:  # a loop's callback, not a task: as unknowable as a thread
            self.threaded = True
            return
        if task is self.task:
            return
        if self.helpers is None:
            self.helpers = weakref.WeakSet()
        self.helpers.add(task)

    def runs_alone(self) -> bool:
        """Whether this execution may unwind here without leaving work of its own behind: a
        sync body always; an async body from its own task only, while no other task of it that
        took a step number still runs (its step's checkpoint may not be written yet), and never
        once a thread of it took one. Tasks that have taken none are harmless: after the park
        their first step number raises (`parked`). On a loop of its own, which the park closes,
        any other task (a child workflow started with `start_workflow_async`, a task of the
        application's) would be cancelled wherever it is: the body parks only without one."""
        if self.task is None:
            return True
        if self.threaded:
            return False
        try:
            if asyncio.current_task() is not self.task:
                return False
        except RuntimeError:
            return False
        if self.own_loop and len(asyncio.all_tasks()) > 1:
            return False
        with self._lock:
            return self.helpers is None or all(task.done() for task in self.helpers)


@dataclass
class StepContext:
    """The running step: `DBOS.step_id`, and `DBOS.step_status` for retry-aware code."""

    workflow_id: str
    step_id: int
    current_attempt: int = 0
    max_attempts: int | None = None
    in_transaction: bool = False  # a `@DBOS.transaction()`'s body: no DBOS calls there
    # A step whose whole body is a wait (`run_step(waits=True)`: a handle's result,
    # `wait_first`): the workflow that wait may park, as a wait in the body itself may.
    parks: WorkflowContext | None = None


current_workflow: ContextVar[WorkflowContext | None] = ContextVar(
    "dbos_current_workflow", default=None
)
current_step: ContextVar[StepContext | None] = ContextVar("dbos_current_step", default=None)


class _PendingID:
    """An ID that the next workflow started inside a `with SetWorkflowID` block consumes once."""

    def __init__(self, workflow_id: str) -> None:
        self.workflow_id = workflow_id
        self.consumed = False


_next_workflow_id: ContextVar[_PendingID | None] = ContextVar("dbos_next_wf_id", default=None)
# None: no timeout block is active; 0.0 inside `SetWorkflowTimeout(None)`: clear inherited one.
_workflow_timeout: ContextVar[float | None] = ContextVar("dbos_wf_timeout", default=None)


def isolate_start_options() -> tuple[object, ...]:
    """Hide the caller's `SetWorkflowID`/`SetWorkflowTimeout`/`SetEnqueueOptions`/
    `SetWorkflowAttributes` from a workflow body it started: they applied to that workflow,
    not to the children it starts (which inherit its deadline)."""
    return (
        _next_workflow_id.set(None),
        _workflow_timeout.set(None),
        _enqueue_options.set(None),
        _workflow_attributes.set(None),
    )


def restore_start_options(tokens: tuple[object, ...]) -> None:
    _next_workflow_id.reset(tokens[0])  # type: ignore[arg-type]
    _workflow_timeout.reset(tokens[1])  # type: ignore[arg-type]
    _enqueue_options.reset(tokens[2])  # type: ignore[arg-type]
    _workflow_attributes.reset(tokens[3])  # type: ignore[arg-type]


def take_assigned_workflow_id() -> str | None:
    """The ID from the innermost `SetWorkflowID`, if the block has not used it yet."""
    pending = _next_workflow_id.get()
    if pending is None or pending.consumed:
        return None
    pending.consumed = True
    return pending.workflow_id


def assigned_timeout() -> float | None:
    return _workflow_timeout.get()


class SetWorkflowID:
    """Run the next workflow started in this block under a chosen ID (an idempotency key).

    Only the first workflow started in the block takes the ID, as in upstream DBOS.
    """

    def __init__(self, workflow_id: str) -> None:
        if not isinstance(workflow_id, str) or not workflow_id.strip():
            raise ValueError("SetWorkflowID needs a non-empty workflow ID string")
        require_storable(workflow_id, "A workflow ID")
        self._pending = _PendingID(workflow_id)
        self._token: object | None = None

    def __enter__(self) -> SetWorkflowID:
        self._token = _next_workflow_id.set(self._pending)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _next_workflow_id.reset(self._token)  # type: ignore[arg-type]


class SetWorkflowTimeout:
    """Give workflows started in this block a deadline `seconds` from their start.

    When it passes, the workflow and its children end CANCELLED and callers waiting on the
    result get `DBOSAwaitedWorkflowCancelledError`. `None` clears an inherited deadline.
    """

    def __init__(self, workflow_timeout_sec: float | None) -> None:
        if workflow_timeout_sec is not None and not workflow_timeout_sec > 0:
            raise ValueError(
                f"SetWorkflowTimeout needs a positive number of seconds, got {workflow_timeout_sec}"
            )
        self._value = 0.0 if workflow_timeout_sec is None else float(workflow_timeout_sec)
        self._token: object | None = None

    def __enter__(self) -> SetWorkflowTimeout:
        self._token = _workflow_timeout.set(self._value)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _workflow_timeout.reset(self._token)  # type: ignore[arg-type]


# The JSON text of the attributes of workflows started in a `SetWorkflowAttributes` block.
_workflow_attributes: ContextVar[str | None] = ContextVar("dbos_wf_attributes", default=None)


def assigned_attributes() -> str | None:
    return _workflow_attributes.get()


def attributes_text(attributes: object) -> str | None:
    """A workflow's attributes as stored: a JSON object of plain JSON values, or None."""
    if attributes is None:
        return None
    if not isinstance(attributes, dict) or not all(isinstance(k, str) for k in attributes):
        raise ValueError(f"workflow attributes must be a dict with str keys, got {attributes!r}")
    try:
        return json.dumps(attributes, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"workflow attributes must be JSON-serializable (plain JSON values): {exc}"
        ) from None


class SetWorkflowAttributes:
    """Key/value attributes for the workflows started in this block, filterable with
    `list_workflows(attributes=...)`; not inherited by the children they start."""

    def __init__(self, attributes: dict[str, Any] | None) -> None:
        self._text = attributes_text(attributes)
        self._token: object | None = None

    def __enter__(self) -> SetWorkflowAttributes:
        self._token = _workflow_attributes.set(self._text)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _workflow_attributes.reset(self._token)  # type: ignore[arg-type]


@dataclass(frozen=True)
class EnqueueOptions:
    deduplication_id: str | None = None
    priority: int | None = None
    queue_partition_key: str | None = None
    app_version: str | None = None
    delay_seconds: float | None = None
    # "reject" (a taken deduplication ID raises) or "return-existing" (the enqueue returns the
    # workflow holding it); None: "reject".
    duplication_policy: DuplicationPolicy | None = None

    def queue_only(self) -> list[str]:
        """The options set that only an enqueue can honour (none of them means anything to a
        workflow started directly), in upstream's order and spelling."""
        return [
            name
            for name, value in (
                ("deduplication_id", self.deduplication_id),
                ("priority", self.priority),
                ("queue_partition_key", self.queue_partition_key),
                ("delay_seconds", self.delay_seconds),
            )
            if value is not None
        ]


_enqueue_options: ContextVar[EnqueueOptions | None] = ContextVar(
    "dbos_enqueue_options", default=None
)


def assigned_enqueue_options() -> EnqueueOptions | None:
    return _enqueue_options.get()


# What an enqueue does when its deduplication ID is taken: raise DBOSQueueDeduplicatedError
# ("reject", the default) or return a handle on the workflow holding it ("return-existing").
DuplicationPolicy = Literal["reject", "return-existing"]


def check_duplication_policy(policy: object) -> DuplicationPolicy | None:
    if policy is None or policy in ("reject", "return-existing"):
        return policy
    raise DBOSException(
        f"Invalid duplication_policy {policy}. Must be either 'reject' or 'return-existing'."
    )


class SetEnqueueOptions:
    """Options for the workflows enqueued in this block: a deduplication ID (a second enqueue
    with it, while the first is queued or running, raises DBOSQueueDeduplicatedError, or with
    `duplication_policy="return-existing"` returns a handle on that first workflow), a
    priority (lower runs first; 1 to 2**31-1, 0 or None for the default), a partition key
    (one at a time per key, in order), the application version that may run them, and a delay
    (seconds before they may start: they wait DELAYED, then join the queue). Options other
    than `app_version` on a workflow started without a queue are refused: nothing would
    honour them."""

    def __init__(
        self,
        *,
        deduplication_id: str | None = None,
        priority: int | None = None,
        queue_partition_key: str | None = None,
        app_version: str | None = None,
        delay_seconds: float | None = None,
        duplication_policy: DuplicationPolicy | None = None,
    ) -> None:
        policy = check_duplication_policy(duplication_policy)
        if priority is not None and (
            isinstance(priority, bool)
            or not isinstance(priority, int)
            or not 0 <= priority <= 2**31 - 1
        ):
            raise ValueError(
                f"Invalid priority {priority!r}. Priority must be an int between 0~{2**31 - 1} "
                "(0: the default)"
            )
        for name, value in (
            ("deduplication_id", deduplication_id),
            ("queue_partition_key", queue_partition_key),
            ("app_version", app_version),
        ):
            if value is not None and (not isinstance(value, str) or not value):
                raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        if delay_seconds is not None and (
            isinstance(delay_seconds, bool)
            or not isinstance(delay_seconds, (int, float))
            or not delay_seconds >= 0
        ):
            raise ValueError(f"delay_seconds must be a number >= 0, got {delay_seconds!r}")
        self._options = EnqueueOptions(
            deduplication_id,
            priority,
            queue_partition_key,
            app_version,
            None if delay_seconds is None else float(delay_seconds),
            policy,
        )
        self._token: object | None = None

    def __enter__(self) -> SetEnqueueOptions:
        self._token = _enqueue_options.set(self._options)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _enqueue_options.reset(self._token)  # type: ignore[arg-type]

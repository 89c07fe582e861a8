"""What it takes to run one workflow body (`Launch`), and rebuilding that from the
workflow's stored row: to recover it, dequeue it, resume a parked run or replay it.

Kept apart from `running.py`, which runs a `Launch` and records its outcome: a row is turned
into a `Launch` by readers that never run it (the replayer checks a history against code).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._db.records import StepRecord
from .._db.records import WorkflowRow as W
from .._error import (
    DBOSDeserializationError,
    DBOSFormatNotConfiguredError,
    DBOSWorkflowFunctionNotFoundError,
    MaxRecoveryAttemptsExceededError,
)
from .._registry import registry as _registry
from .._registry.registry import FunctionInfo
from .._serialization import serialize_exception
from .auth import NO_AUTH, Auth, auth_from_row
from .inputs import decode_inputs
from .runtime import Runtime, logger


@dataclass
class Launch:
    """Everything needed to run one workflow body under one owner token."""

    info: FunctionInfo
    workflow_id: str
    owner: str
    call_args: tuple[Any, ...]
    kwargs: dict[str, Any]
    deadline_ms: int | None
    recorded: dict[int, StepRecord] = field(default_factory=dict)
    resumed: bool = False
    queue_name: str | None = None
    # Called once the body has returned or raised, before its outcome is written: the queue
    # slot it held can start the next workflow while the outcome's commit is under way.
    body_done: Callable[[], None] | None = None
    trace_context: str | None = None  # the traceparent its spans hang from (see tracing)
    attempt: int = 1  # recovery_attempts: 1 on its first run
    # The format of its row (inputs), in which its output or error is written too, and its
    # events, streams and messages by default (formats.py); None: this process's serializer.
    serialization: str | None = None
    auth: Auth = NO_AUTH  # the user and roles it runs for (its caller's, kept on its row)
    # The outermost workflow of a workflow thread: a long wait may park it (parking.py).
    parkable: bool = False
    # For a resumed parked run: the blocking operation it parked in (its step, when it began).
    blocking_since: tuple[int, int] | None = None
    # Told when it parks (False) and resumes (True): a dequeued workflow's queue slot, which
    # it keeps while parked, stops counting against the process's workflows in flight.
    holds_thread: Callable[[bool], None] | None = None


def launch_from_row(
    runtime: Runtime,
    row: Any,
    owner: str,
    load_steps: bool = True,
    steps: dict[int, StepRecord] | None = None,
) -> Launch:
    """Rebuild a runnable workflow from its stored row: function, `self`, inputs, checkpoints
    (skipped with `load_steps=False` for a workflow that never ran: it has none; `steps`
    when they were read with the row)."""
    workflow_id = row[W.ID]
    info = _registry.get_function(row[W.NAME])
    if info is None or info.kind != "workflow":
        raise DBOSWorkflowFunctionNotFoundError(
            workflow_id, f"no workflow named {row[W.NAME]!r} is registered in this process"
        )
    args, kwargs = decode_inputs(runtime.reader(row[W.FORMAT]), info, row[W.INPUTS])
    if info.takes_self:
        target: object | None
        if row[W.CONFIG] is not None:
            target = _registry.get_instance(row[W.CLASS], row[W.CONFIG])
        else:
            target = _registry.get_class(row[W.CLASS]) if row[W.CLASS] else None
        if target is None:
            raise DBOSWorkflowFunctionNotFoundError(
                workflow_id,
                f"no instance of class {row[W.CLASS]!r} with config name {row[W.CONFIG]!r} "
                "is registered: create it before DBOS.launch()",
            )
        args.insert(0, target)
    if steps is not None:
        recorded = steps
    else:
        recorded = runtime.sysdb.workflows.load_steps(workflow_id) if load_steps else {}
    return Launch(
        info,
        workflow_id,
        owner,
        tuple(args),
        kwargs,
        row[W.DEADLINE],
        recorded,
        resumed=load_steps,
        queue_name=row[W.QUEUE],
        trace_context=row[W.TRACE],
        serialization=row[W.FORMAT],
        attempt=int(row[W.ATTEMPTS] or 1),
        auth=auth_from_row(row[W.AUTH_USER], row[W.AUTH_ROLES], row[W.ASSUMED_ROLE]),
    )


def prepare_claimed(runtime: Runtime, row: Any, owner: str, first_run: bool) -> Launch | None:
    """The Launch of a workflow this process just claimed (recovered or dequeued), or None
    when it must not run: dead-lettered after too many recoveries, or inputs unreadable (both
    recorded). Raises DBOSWorkflowFunctionNotFoundError when this process lacks its code, and
    DBOSFormatNotConfiguredError when it may not read the workflow's values."""
    workflow_id = row[W.ID]
    info = _registry.get_function(row[W.NAME])
    limit = info.max_recovery_attempts if info is not None else 100
    attempts = int(row[W.ATTEMPTS])
    if limit is not None and attempts > limit + 1:
        runtime.sysdb.workflows.mark_max_recovery_exceeded(workflow_id)
        logger.error("%s", MaxRecoveryAttemptsExceededError(workflow_id, limit))
        return None
    # A format this process is not configured for is not the workflow's fault: the
    # DBOSFormatNotConfiguredError goes to the caller, which hands a dequeued workflow back to
    # its queue for a process configured for it (the attempt given back) or leaves a
    # recovered one PENDING for the next launch of such a process.
    runtime.reader(row[W.FORMAT])
    try:
        return launch_from_row(runtime, row, owner, load_steps=not first_run)
    except DBOSFormatNotConfiguredError:
        raise
    except DBOSDeserializationError as exc:
        # Inputs that cannot be read would fail the same way on every attempt: record it, in
        # the row's own format (readable, as the inputs were not).
        failure = DBOSDeserializationError(
            f"Cannot run workflow {workflow_id}: its stored inputs are unreadable ({exc.message})"
        )
        error = serialize_exception(runtime.writer(row[W.FORMAT]), failure)
        runtime.sysdb.workflows.complete_workflow(workflow_id, owner, "ERROR", None, error)
        logger.error("%s", failure)
        return None


def left_unread(workflow_id: str, exc: DBOSFormatNotConfiguredError) -> None:
    """A workflow this process may not read (a pickled input or checkpoint without the pickle
    opt-in) is left PENDING, for the next launch of a process configured to read it."""
    logger.error(
        "Workflow %s stays PENDING, not run here: %s. A launch with that configuration recovers it",
        workflow_id,
        exc.message,
    )

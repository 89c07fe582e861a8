"""Starting and running workflows, and rebuilding one from its row for recovery.

A workflow ID runs its body only in the execution that inserted its row (or that later won the
compare-and-swap on the owner token during recovery); every other caller waits for the recorded
outcome. That is what makes `SetWorkflowID` an idempotency key across processes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from .._db.records import Deduplicated, StepRecord, now_ms
from .._db.records import WorkflowRow as W
from .._error import (
    DBOSAwaitedWorkflowCancelledError,
    DBOSConflictingWorkflowError,
    DBOSDatabaseConnectionError,
    DBOSDeserializationError,
    DBOSQueueDeduplicatedError,
    DBOSSerializationError,
    DBOSWorkflowAbandonedError,
    DBOSWorkflowCancelledError,
    DBOSWorkflowConflictIDError,
    DBOSWorkflowFunctionNotFoundError,
    MaxRecoveryAttemptsExceededError,
)
from .._registry import registry as _registry
from .._registry.registry import FunctionInfo
from .._serialization import serialize_exception
from .checkpoint import (
    active_workflow,
    recorded_result,
    replay,
    write_checkpoint,
)
from .context import (
    EnqueueOptions,
    WorkflowContext,
    assigned_timeout,
    current_step,
    current_workflow,
    isolate_start_options,
    restore_start_options,
    take_assigned_workflow_id,
)
from .handles import WorkflowHandle
from .inputs import bind_target, decode_inputs, encode_inputs
from .results import wait_for_result
from .runtime import QueueSlot, Runtime, get_runtime, logger


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


# ------------------------------------------------------------------------------ starting


@dataclass(frozen=True)
class QueuedStart:
    """Where an enqueued workflow waits: its queue and the caller's enqueue options."""

    queue_name: str
    options: EnqueueOptions


def new_workflow_row(
    runtime: Runtime,
    info: FunctionInfo,
    workflow_id: str,
    owner: str | None,
    inputs: str,
    class_name: str | None,
    config_name: str | None,
    deadline_ms: int | None,
    timeout_ms: int | None,
    parent_id: str | None,
    queued: QueuedStart | None = None,
    forked_from: str | None = None,
    claimed: bool = False,
) -> dict[str, Any]:
    """The row of a new workflow: PENDING and ours when started directly or when enqueued on
    an idle queue of ours (`claimed`, already dequeued), else ENQUEUED and nobody's."""
    options = queued.options if queued is not None else EnqueueOptions()
    running = queued is None or claimed
    now = now_ms()
    delayed = not running and options.delay_seconds is not None
    return {
        "workflow_uuid": workflow_id,
        "status": "PENDING" if running else ("DELAYED" if delayed else "ENQUEUED"),
        "name": info.name,
        "class_name": class_name,
        "config_name": config_name,
        "inputs": inputs,
        "serialization": runtime.serializer.name(),
        "executor_id": runtime.executor_id if running else None,
        "application_version": options.app_version or runtime.app_version,
        "now": now,
        "recovery_attempts": 1 if running else 0,
        "owner_xid": owner,
        "workflow_timeout_ms": timeout_ms,
        # An enqueued workflow's deadline starts when it is dequeued.
        "workflow_deadline_epoch_ms": deadline_ms if running else None,
        "started_at_epoch_ms": now if queued is not None and claimed else None,
        "delay_until_epoch_ms": (
            now + int((options.delay_seconds or 0) * 1000) if delayed else None
        ),
        "debounce_deadline_epoch_ms": None,
        "parent_workflow_id": parent_id,
        "queue_name": queued.queue_name if queued is not None else None,
        "authenticated_user": None,
        "authenticated_roles": None,
        "assumed_role": None,
        "priority": options.priority or 0,
        "deduplication_id": options.deduplication_id,
        "queue_partition_key": options.queue_partition_key,
        "forked_from": forked_from,
    }


@dataclass
class _Begun:
    launch: Launch
    inserted: bool
    parent: WorkflowContext | None
    slot: QueueSlot | None = None  # enqueued on an idle queue of ours: start it here


def _begin(
    info: FunctionInfo,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    queued: QueuedStart | None = None,
) -> _Begun:
    runtime = get_runtime()
    parent = active_workflow()
    class_name, config_name = bind_target(info, args)
    inputs = encode_inputs(runtime, info, args, kwargs)
    assigned_id = take_assigned_workflow_id()
    timeout = assigned_timeout()

    step_id = 0
    recorded_child: str | None = None
    if parent is not None:
        step_id = parent.take_step_id()
        if parent.recorded:
            record = replay(parent, step_id, info.name)
            if record is not None and record.error is not None:
                recorded_result(runtime, record)  # raises what the first run raised
            recorded_child = record.child_workflow_id if record is not None else None
        workflow_id = recorded_child or assigned_id or f"{parent.workflow_id}-{step_id}"
    else:
        workflow_id = assigned_id or str(uuid.uuid4())

    timeout_ms: int | None = None
    if timeout is None:
        deadline = parent.deadline_ms if parent is not None else None
    elif timeout == 0.0:
        deadline = None
    else:
        timeout_ms = int(timeout * 1000)
        deadline = now_ms() + timeout_ms

    slot = _direct_slot(runtime, queued)
    if slot is not None and timeout_ms is not None:
        deadline = now_ms() + timeout_ms  # dequeued now: its clock starts now
    elif queued is not None and slot is None:
        deadline = None
    owner = runtime.new_owner() if queued is None or slot is not None else None
    row = new_workflow_row(
        runtime,
        info,
        workflow_id,
        owner,
        inputs,
        class_name,
        config_name,
        deadline,
        timeout_ms,
        parent.workflow_id if parent is not None else None,
        queued,
        claimed=slot is not None,
    )
    launch = Launch(
        info,
        workflow_id,
        owner or "",
        args,
        kwargs,
        deadline,
        queue_name=queued.queue_name if queued is not None else None,
    )
    if recorded_child is not None:
        # A replayed parent: the child's row was written before the parent's checkpoint.
        if slot is not None:
            slot.release()
        return _Begun(launch, False, parent)
    started = now_ms()
    try:
        if queued is None:
            inserted = runtime.sysdb.insert_workflow(row)
        else:
            inserted = _enqueue_row(runtime, row, parent, step_id, info.name, started)
    except BaseException:
        if slot is not None:
            slot.release()
        raise
    if slot is not None and not inserted:
        slot.release()
    if inserted and row["status"] == "DELAYED" and runtime.direct_start is not None:
        runtime.direct_start.delay_until(row["delay_until_epoch_ms"])
    if parent is not None:
        write_checkpoint(runtime, parent, step_id, info.name, None, None, started, workflow_id)
    if not inserted:
        _check_same_workflow(runtime, info, workflow_id)
    return _Begun(launch, inserted, parent, slot if inserted else None)


def _direct_slot(runtime: Runtime, queued: QueuedStart | None) -> QueueSlot | None:
    """A slot of this process's dispatcher for an enqueue that may start at once: plain
    options (a priority or a partition key must go through the claim's ordering)."""
    if queued is None or runtime.direct_start is None:
        return None
    options = queued.options
    if options.priority or options.queue_partition_key or options.delay_seconds is not None:
        return None
    if options.app_version not in (None, runtime.app_version):
        return None
    return runtime.direct_start.reserve(queued.queue_name)


def _enqueue_row(
    runtime: Runtime,
    row: dict[str, Any],
    parent: WorkflowContext | None,
    step_id: int,
    name: str,
    started: int,
) -> bool:
    try:
        return runtime.sysdb.enqueue_workflow(row)
    except Deduplicated:
        error = DBOSQueueDeduplicatedError(
            row["workflow_uuid"], row["queue_name"], row["deduplication_id"]
        )
        if parent is not None:  # recorded, so a replay raises it again without enqueueing
            text = serialize_exception(runtime.serializer, error)
            write_checkpoint(runtime, parent, step_id, name, None, text, started)
        raise error from None


def enqueue_workflow(
    info: FunctionInfo, args: tuple[Any, ...], kwargs: dict[str, Any], queued: QueuedStart
) -> WorkflowHandle[Any]:
    """Record the workflow as ENQUEUED on its queue; a dispatcher (here or elsewhere) runs it.
    On an idle queue this process serves, it is recorded as dequeued and started at once."""
    begun = _begin(info, args, kwargs, queued)
    runtime = get_runtime()
    if begun.slot is not None and runtime.direct_start is not None:
        future = runtime.direct_start.run_reserved(begun.slot, begun.launch)
        return WorkflowHandle(begun.launch.workflow_id, future)
    return WorkflowHandle(begun.launch.workflow_id)


def _check_same_workflow(runtime: Runtime, info: FunctionInfo, workflow_id: str) -> None:
    row = runtime.sysdb.get_workflow(workflow_id)
    if row is not None and row[W.NAME] != info.name:
        raise DBOSConflictingWorkflowError(
            workflow_id,
            f"workflow ID {workflow_id} already belongs to workflow {row[W.NAME]!r}, "
            f"not {info.name!r}",
        )


def call_workflow(info: FunctionInfo, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """A direct call of a decorated workflow: run it here and return its result."""
    begun = _begin(info, args, kwargs)
    runtime = get_runtime()
    parent = begun.parent
    result_step = 0
    if parent is not None:
        result_step = parent.take_step_id()
        record = replay(parent, result_step, "DBOS.getResult") if parent.recorded else None
        if record is not None:
            return recorded_result(runtime, record)
    started = now_ms()
    try:
        if begun.inserted:
            result = execute(begun.launch)
        else:
            result = wait_for_result(begun.launch.workflow_id)
    except Exception as exc:
        if parent is not None:
            error = serialize_exception(runtime.serializer, exc)
            write_checkpoint(runtime, parent, result_step, "DBOS.getResult", None, error, started)
        raise
    if parent is not None:
        output = runtime.serializer.serialize(result)
        write_checkpoint(
            runtime,
            parent,
            result_step,
            "DBOS.getResult",
            output,
            None,
            started,
            begun.launch.workflow_id,
        )
    return result


def start_workflow(
    info: FunctionInfo, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> WorkflowHandle[Any]:
    """Record the workflow, run it on a workflow thread, and return a handle at once."""
    begun = _begin(info, args, kwargs)
    future = submit(begun.launch) if begun.inserted else None
    return WorkflowHandle(begun.launch.workflow_id, future)


def submit(launch: Launch) -> Future[Any]:
    return get_runtime().pool.submit(execute_in_fresh_context, launch)


def execute_in_fresh_context(launch: Launch) -> Any:
    # Pool threads may have run other workflows: start from empty context variables.
    current_workflow.set(None)
    current_step.set(None)
    try:
        return execute(launch)
    except DBOSAwaitedWorkflowCancelledError:
        raise
    except Exception:
        # Nobody may ever ask a background workflow for its result: say that it failed.
        logger.error("Workflow %s failed", launch.workflow_id, exc_info=True)
        raise


# ------------------------------------------------------------------------------ running


def execute(launch: Launch) -> Any:
    """Run the body under this execution's owner token and record how it ended."""
    runtime = get_runtime()
    ctx = WorkflowContext(
        launch.workflow_id,
        launch.info.name,
        launch.owner,
        launch.deadline_ms,
        launch.recorded,
        launch.resumed,
    )
    runtime.register_active(ctx)
    wf_token = current_workflow.set(ctx)
    step_token = current_step.set(None)
    option_tokens = isolate_start_options()
    try:
        return _run_and_record(runtime, launch)
    except DBOSDatabaseConnectionError as exc:  # the final write, past the retry bound
        runtime.abandon(launch.workflow_id, launch.owner, exc.message)
        raise DBOSWorkflowAbandonedError(launch.workflow_id, exc.message) from exc
    except DBOSWorkflowAbandonedError as exc:
        runtime.abandon(launch.workflow_id, launch.owner, exc.message)
        raise
    finally:
        restore_start_options(option_tokens)
        current_step.reset(step_token)
        current_workflow.reset(wf_token)
        runtime.unregister_active(ctx)


def _run_and_record(runtime: Runtime, launch: Launch) -> Any:
    """Run the body and record how it ended: its result, or the error it raised."""
    try:
        try:
            result = launch.info.func(*launch.call_args, **launch.kwargs)
            if launch.info.is_async:
                import asyncio

                # The body's own event loop, on this workflow thread (see aio.py).
                result = asyncio.run(result)
        finally:
            if launch.body_done is not None:
                launch.body_done()
    except DBOSWorkflowCancelledError:
        raise DBOSAwaitedWorkflowCancelledError(launch.workflow_id) from None
    except DBOSWorkflowConflictIDError:
        # Another execution owns this workflow now; its outcome is the outcome.
        return wait_for_result(launch.workflow_id)
    except DBOSDatabaseConnectionError:
        raise  # not the workflow's error: it is abandoned, see execute()
    except Exception as exc:
        error = serialize_exception(runtime.serializer, exc)
        if not runtime.sysdb.complete_workflow(
            launch.workflow_id, launch.owner, "ERROR", None, error
        ):
            return _lost_ownership(launch.workflow_id)
        raise
    try:
        output = runtime.serializer.serialize(result)
    except DBOSSerializationError as exc:
        failure = DBOSSerializationError(
            f"The result of workflow {launch.info.name!r} cannot be serialized: {exc.message}"
        )
        runtime.sysdb.complete_workflow(
            launch.workflow_id,
            launch.owner,
            "ERROR",
            None,
            serialize_exception(runtime.serializer, failure),
        )
        raise failure from None
    if not runtime.sysdb.complete_workflow(
        launch.workflow_id, launch.owner, "SUCCESS", output, None
    ):
        return _lost_ownership(launch.workflow_id)
    return result


def _lost_ownership(workflow_id: str) -> Any:
    """The final write found the workflow cancelled or taken over: report what really happened."""
    return wait_for_result(workflow_id)


def launch_from_row(runtime: Runtime, row: Any, owner: str, load_steps: bool = True) -> Launch:
    """Rebuild a runnable workflow from its stored row: function, `self`, inputs, checkpoints
    (skipped with `load_steps=False` for a workflow that never ran: it has none)."""
    workflow_id = row[W.ID]
    info = _registry.get_function(row[W.NAME])
    if info is None or info.kind != "workflow":
        raise DBOSWorkflowFunctionNotFoundError(
            workflow_id, f"no workflow named {row[W.NAME]!r} is registered in this process"
        )
    args, kwargs = decode_inputs(runtime, row[W.INPUTS], row[W.FORMAT])
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
    recorded = runtime.sysdb.load_steps(workflow_id) if load_steps else {}
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
    )


def prepare_claimed(runtime: Runtime, row: Any, owner: str, first_run: bool) -> Launch | None:
    """The Launch of a workflow this process just claimed (recovered or dequeued), or None
    when it must not run: dead-lettered after too many recoveries, or inputs unreadable (both
    recorded). Raises DBOSWorkflowFunctionNotFoundError when this process lacks its code."""
    workflow_id = row[W.ID]
    info = _registry.get_function(row[W.NAME])
    limit = info.max_recovery_attempts if info is not None else 100
    attempts = int(row[W.ATTEMPTS])
    if limit is not None and attempts > limit + 1:
        runtime.sysdb.mark_max_recovery_exceeded(workflow_id)
        logger.error("%s", MaxRecoveryAttemptsExceededError(workflow_id, limit))
        return None
    try:
        return launch_from_row(runtime, row, owner, load_steps=not first_run)
    except DBOSDeserializationError as exc:
        # Inputs that cannot be read would fail the same way on every attempt: record it.
        failure = DBOSDeserializationError(
            f"Cannot run workflow {workflow_id}: its stored inputs are unreadable ({exc.message})"
        )
        error = serialize_exception(runtime.serializer, failure)
        runtime.sysdb.complete_workflow(workflow_id, owner, "ERROR", None, error)
        logger.error("%s", failure)
        return None

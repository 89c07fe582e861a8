"""Starting workflows: directly, in the background, on a queue; see `running.py` for running.

A workflow ID runs its body only in the execution that inserted its row (or that later won the
compare-and-swap on the owner token during recovery); every other caller waits for the recorded
outcome. That is what makes `SetWorkflowID` an idempotency key across processes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._db.records import Deduplicated, StepRecord, now_ms
from .._db.records import WorkflowRow as W
from .._error import (
    DBOSConflictingWorkflowError,
    DBOSQueueDeduplicatedError,
)
from .._registry.queues import QueueSpec
from .._registry.registry import FunctionInfo
from .._serialization import serialize_exception
from . import tracing
from .auth import check_required_roles, current_auth, role_to_record
from .checkpoint import (
    active_workflow,
    recorded_result,
    replay,
    write_checkpoint,
)
from .context import (
    EnqueueOptions,
    WorkflowContext,
    assigned_attributes,
    assigned_enqueue_options,
    assigned_timeout,
    take_assigned_workflow_id,
)
from .enqueue_rules import refuse_without_queue
from .formats import workflow_serializer
from .handles import WorkflowHandle
from .inputs import bind_target, encode_inputs
from .launches import Launch
from .results import wait_for_result
from .running import execute, submit
from .runtime import QueueSlot, Runtime, get_runtime, logger
from .time_ordered_ids import new_id

# ------------------------------------------------------------------------------ starting


@dataclass(frozen=True)
class QueuedStart:
    """Where an enqueued workflow waits: its queue and the caller's enqueue options. `check`
    validates the enqueue before anything is written (not when a recovered parent replays
    it: the recorded child stands)."""

    queue_name: str
    options: EnqueueOptions
    check: Callable[[], QueueSpec | None] | None = None


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
    # Started directly, only the version of SetEnqueueOptions applies (it decides who may
    # recover the workflow); the other options were refused unless this is a direct call.
    assigned = assigned_enqueue_options() if queued is None else None
    version = assigned.app_version if assigned is not None else options.app_version
    running = queued is None or claimed
    auth = current_auth()
    now = now_ms()
    delayed = not running and options.delay_seconds is not None
    return {
        "workflow_uuid": workflow_id,
        "status": "PENDING" if running else ("DELAYED" if delayed else "ENQUEUED"),
        "name": info.name,
        "class_name": class_name,
        "config_name": config_name,
        "inputs": inputs,
        "serialization": workflow_serializer(runtime, info).name(),
        "executor_id": runtime.executor_id if running else None,
        "application_version": version or runtime.app_version,
        "now": now,
        "recovery_attempts": 1 if running else 0,
        "owner_xid": owner,
        "workflow_timeout_ms": timeout_ms,
        # An enqueued workflow's own timeout starts when it is dequeued (`begin_workflow`
        # leaves its deadline unset); one inherited from its parent stands as it is.
        "workflow_deadline_epoch_ms": deadline_ms,
        "started_at_epoch_ms": now if queued is not None and claimed else None,
        "delay_until_epoch_ms": (
            now + int((options.delay_seconds or 0) * 1000) if delayed else None
        ),
        "debounce_deadline_epoch_ms": None,
        "attributes": assigned_attributes(),
        "parent_workflow_id": parent_id,
        "queue_name": queued.queue_name if queued is not None else None,
        **auth.row_columns(),
        "assumed_role": role_to_record(info, auth),
        "priority": options.priority or 0,
        "deduplication_id": options.deduplication_id,
        "queue_partition_key": options.queue_partition_key,
        "forked_from": forked_from,
        "trace_context": tracing.start_context(
            info.name, workflow_id, queued.queue_name if queued is not None else None
        ),
    }


@dataclass
class Begun:
    launch: Launch
    inserted: bool
    parent: WorkflowContext | None
    slot: QueueSlot | None = None  # enqueued on an idle queue of ours: start it here


def begin_workflow(
    info: FunctionInfo,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    queued: QueuedStart | None = None,
    step_id: int | None = None,
) -> Begun:
    """Record a new workflow (or find the one recorded under its ID). Inside a parent, the
    start is the parent's step `step_id`: taken here, or by an async caller at call time."""
    runtime = get_runtime()
    parent = active_workflow()
    class_name, config_name = bind_target(info, args)
    inputs = encode_inputs(runtime, info, args, kwargs)
    assigned_id = take_assigned_workflow_id()
    timeout = assigned_timeout()

    recorded_child: str | None = None
    if parent is None:
        step_id = 0
        workflow_id = assigned_id or new_id()
    else:
        if step_id is None:
            step_id = parent.take_step_id()
        if parent.recorded:
            record = replay(parent, step_id, info.name)
            if record is not None and record.error is not None:
                recorded_result(runtime, record)  # raises what the first run raised
            recorded_child = record.child_workflow_id if record is not None else None
        workflow_id = recorded_child or assigned_id or f"{parent.workflow_id}-{step_id}"

    timeout_ms: int | None = None
    if timeout is None:
        deadline = parent.deadline_ms if parent is not None else None
    elif timeout == 0.0:
        deadline = None
    else:
        timeout_ms = int(timeout * 1000)
        deadline = now_ms() + timeout_ms

    spec: QueueSpec | None = None
    if queued is not None and queued.check is not None and recorded_child is None:
        spec = queued.check()
    slot = _direct_slot(runtime, queued)
    if slot is not None and timeout_ms is not None:
        deadline = now_ms() + timeout_ms  # dequeued now: its clock starts now
    elif queued is not None and slot is None and timeout_ms is not None:
        deadline = None  # its clock starts when it is dequeued
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
    if spec is not None and spec.partition_queue:
        row["partitioned"] = True  # the row takes its partition's fair round
    launch = Launch(
        info,
        workflow_id,
        owner or "",
        args,
        kwargs,
        deadline,
        queue_name=queued.queue_name if queued is not None else None,
        trace_context=row["trace_context"],
        serialization=row["serialization"],
        auth=current_auth(),
    )
    if recorded_child is not None:
        # A replayed parent: the child's row was written before the parent's checkpoint.
        if slot is not None:
            slot.release()
        return Begun(launch, False, parent)
    started = now_ms()
    try:
        if queued is None:
            inserted = runtime.sysdb.workflows.insert_workflow(row)
        else:
            inserted, workflow_id = _enqueue_row(
                runtime, row, queued.options.duplication_policy, parent, step_id, info.name, started
            )
    except BaseException:
        if slot is not None:
            slot.release()
        raise
    if slot is not None and not inserted:
        slot.release()
    attached = workflow_id != row["workflow_uuid"]  # to the holder of its deduplication ID
    if attached:
        launch.workflow_id = workflow_id
    if inserted and row["status"] == "DELAYED" and runtime.direct_start is not None:
        runtime.direct_start.delay_until(row["delay_until_epoch_ms"])
    if parent is not None:
        write_checkpoint(runtime, parent, step_id, info.name, None, None, started, workflow_id)
    if not inserted and not attached:
        _check_same_workflow(runtime, row)
    return Begun(launch, inserted, parent, slot if inserted else None)


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
    policy: str | None,
    parent: WorkflowContext | None,
    step_id: int,
    name: str,
    started: int,
) -> tuple[bool, str]:
    try:
        return enqueue_or_attach(runtime, row, policy)
    except DBOSQueueDeduplicatedError as error:
        if parent is not None:  # recorded, so a replay raises it again without enqueueing
            text = serialize_exception(runtime.serializer, error)
            write_checkpoint(runtime, parent, step_id, name, None, text, started)
        raise


_ATTACH_ATTEMPTS = 20  # a deduplication ID released and taken again this often in a row


def enqueue_or_attach(
    runtime: Runtime, row: dict[str, Any], policy: str | None
) -> tuple[bool, str]:
    """Insert the ENQUEUED (or DELAYED) row: (inserted, its workflow ID). When its
    deduplication ID is taken, raise DBOSQueueDeduplicatedError, or with the policy
    "return-existing" return (False, the ID of the workflow holding it); a holder that let
    the ID go meanwhile (it finished) leaves it to this row, inserted on the next try."""
    for _attempt in range(_ATTACH_ATTEMPTS):
        try:
            return runtime.sysdb.queues.enqueue_workflow(row), str(row["workflow_uuid"])
        except Deduplicated:
            if policy != "return-existing":
                break
            holder = runtime.sysdb.queues.deduplicated_workflow(
                str(row["queue_name"]), str(row["deduplication_id"])
            )
            if holder is not None:
                return False, holder
    raise DBOSQueueDeduplicatedError(
        row["workflow_uuid"], row["queue_name"], row["deduplication_id"]
    ) from None


def enqueue_workflow(
    info: FunctionInfo, args: tuple[Any, ...], kwargs: dict[str, Any], queued: QueuedStart
) -> WorkflowHandle[Any]:
    """Record the workflow as ENQUEUED on its queue; a dispatcher (here or elsewhere) runs it.
    On an idle queue this process serves, it is recorded as dequeued and started at once."""
    begun = begin_workflow(info, args, kwargs, queued)
    runtime = get_runtime()
    if begun.slot is not None and runtime.direct_start is not None:
        future = runtime.direct_start.run_reserved(begun.slot, begun.launch)
        return WorkflowHandle(begun.launch.workflow_id, future)
    return WorkflowHandle(begun.launch.workflow_id)


def _check_same_workflow(runtime: Runtime, new: dict[str, Any]) -> None:
    """A workflow ID reused for another function (or the same method of another class or
    configured instance) is refused, with upstream's messages; on another queue it is only
    logged: the recorded workflow stands where it is."""
    workflow_id = str(new["workflow_uuid"])
    found = runtime.sysdb.workflows.get_workflow(workflow_id)
    if found is None:
        return
    logger.debug("Workflow %s already run with status %s", workflow_id, found[W.STATUS])
    for what, column, key in (
        ("function", W.NAME, "name"),
        ("class", W.CLASS, "class_name"),
        ("config", W.CONFIG, "config_name"),
    ):
        if found[column] != new[key]:
            raise DBOSConflictingWorkflowError(
                workflow_id,
                f"Workflow already exists with a different {what} name: {found[column]}, but "
                f"the provided {what} name is: {new[key]}",
            )
    if found[W.QUEUE] != new["queue_name"]:
        logger.warning(
            "Workflow %s already exists in queue: %s, but the provided queue name is: %s. "
            "The queue is not updated.",
            workflow_id,
            found[W.QUEUE],
            new["queue_name"],
        )


def call_workflow(info: FunctionInfo, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """A direct call of a decorated workflow: run it here and return its result. A caller
    without a role it requires is refused here, before anything is recorded."""
    check_required_roles(info)
    begun = begin_workflow(info, args, kwargs)
    runtime = get_runtime()
    slot = take_result_slot(runtime, begun)
    if slot.replayed:
        return slot.recorded_value()
    try:
        if begun.inserted:
            result = execute(begun.launch)
        else:
            result = wait_for_result(begun.launch.workflow_id)
    except Exception as exc:
        slot.record_error(exc)
        raise
    slot.record_result(result)
    return result


@dataclass
class ResultSlot:
    """Inside a parent workflow, a child's result is a step of the parent (`DBOS.getResult`):
    a replayed parent gets the recorded one without waiting for the child again."""

    runtime: Runtime
    begun: Begun
    step_id: int = 0
    record: StepRecord | None = None
    started: int = 0

    @property
    def replayed(self) -> bool:
        return self.record is not None

    def recorded_value(self) -> Any:
        assert self.record is not None
        return recorded_result(self.runtime, self.record)

    def record_error(self, exc: Exception) -> None:
        parent = self.begun.parent
        if parent is not None:
            error = serialize_exception(self.runtime.serializer, exc)
            write_checkpoint(
                self.runtime,
                parent,
                self.step_id,
                RESULT_STEP,
                None,
                error,
                self.started,
                self.begun.launch.workflow_id,
            )

    def record_result(self, result: Any) -> None:
        parent = self.begun.parent
        if parent is not None:
            write_checkpoint(
                self.runtime,
                parent,
                self.step_id,
                RESULT_STEP,
                self.runtime.serializer.serialize(result),
                None,
                self.started,
                self.begun.launch.workflow_id,
            )


RESULT_STEP = "DBOS.getResult"


def take_result_slot(runtime: Runtime, begun: Begun, step_id: int | None = None) -> ResultSlot:
    slot = ResultSlot(runtime, begun, started=now_ms())
    parent = begun.parent
    if parent is not None:
        slot.step_id = parent.take_step_id() if step_id is None else step_id
        if parent.recorded:
            slot.record = replay(parent, slot.step_id, RESULT_STEP)
    return slot


def start_workflow(
    info: FunctionInfo, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> WorkflowHandle[Any]:
    """Record the workflow, run it on a workflow thread, and return a handle at once."""
    refuse_without_queue(assigned_enqueue_options())
    begun = begin_workflow(info, args, kwargs)
    future = submit(begun.launch) if begun.inserted else None
    return WorkflowHandle(begun.launch.workflow_id, future)

"""Starting, running, recovering and waiting for workflows.

A workflow ID runs its body only in the execution that inserted its row (or that later won the
compare-and-swap on the owner token during recovery); every other caller waits for the recorded
outcome. That is what makes `SetWorkflowID` an idempotency key across processes.
"""

from __future__ import annotations

import inspect
import time
import uuid
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from . import _registry
from ._checkpoint import (
    active_workflow,
    recorded_result,
    replay,
    run_step,
    write_checkpoint,
)
from ._context import (
    WorkflowContext,
    assigned_timeout,
    current_step,
    current_workflow,
    isolate_start_options,
    restore_start_options,
    take_assigned_workflow_id,
)
from ._error import (
    DBOSAwaitedWorkflowCancelledError,
    DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded,
    DBOSConflictingWorkflowError,
    DBOSDeserializationError,
    DBOSException,
    DBOSNonExistentWorkflowError,
    DBOSSerializationError,
    DBOSWorkflowCancelledError,
    DBOSWorkflowConflictIDError,
    DBOSWorkflowFunctionNotFoundError,
    MaxRecoveryAttemptsExceededError,
)
from ._registry import FunctionInfo
from ._runtime import Runtime, get_runtime, logger
from ._serialization import serialize_exception
from ._status import WorkflowStatus
from ._sysdb import StepRecord, is_connection_error, now_ms

R = TypeVar("R")

# Column order of _sql.SELECT_WORKFLOW.
_ID, _STATUS, _NAME, _CLASS, _CONFIG, _INPUTS, _OUTPUT, _ERROR, _FORMAT = range(9)
_VERSION, _OWNER, _ATTEMPTS, _TIMEOUT_MS, _DEADLINE = 10, 11, 12, 13, 14


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


# ------------------------------------------------------------------------------ inputs


def bind_target(info: FunctionInfo, args: tuple[Any, ...]) -> tuple[str | None, str | None]:
    """Class and configured-instance names to store, so recovery can find `self` or `cls`."""
    if not info.takes_self or not args:
        return None, None
    target = args[0]
    if isinstance(target, type):
        return _registry.dbos_class_name(target), None
    config_name = getattr(target, "config_name", None)
    if config_name is None:
        raise DBOSException(
            f"Workflow {info.name!r} is an instance method: its class must inherit "
            "DBOSConfiguredInstance (and call super().__init__(config_name=...)) so that "
            "recovery can find the instance"
        )
    return _registry.dbos_class_name(type(target)), str(config_name)


def encode_inputs(
    runtime: Runtime, info: FunctionInfo, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> str:
    """Serialize the arguments, or refuse naming the parameter, before anything is written."""
    stored = args[1:] if info.takes_self else args
    try:
        return runtime.serializer.serialize({"args": list(stored), "kwargs": kwargs})
    except DBOSSerializationError as exc:
        try:
            bound = inspect.signature(info.func).bind_partial(*args, **kwargs).arguments
        except TypeError:
            bound = {f"args[{i}]": v for i, v in enumerate(stored)} | kwargs
        for param, value in bound.items():
            if info.takes_self and param in ("self", "cls"):
                continue
            try:
                runtime.serializer.serialize(value)
            except DBOSSerializationError as inner:
                raise DBOSSerializationError(
                    f"Workflow {info.name!r}: argument {param!r} of type "
                    f"{type(value).__qualname__} cannot be serialized ({inner.message}); "
                    "nothing was recorded"
                ) from None
        raise DBOSSerializationError(
            f"Workflow {info.name!r}: arguments cannot be serialized ({exc.message}); "
            "nothing was recorded"
        ) from None


def decode_inputs(
    runtime: Runtime, text: str | None, stored_format: str | None
) -> tuple[list[Any], dict[str, Any]]:
    if not text:
        return [], {}
    value = runtime.decode(text, stored_format)
    return list(value.get("args", [])), dict(value.get("kwargs", {}))


# ------------------------------------------------------------------------------ starting


def _new_row(
    runtime: Runtime,
    info: FunctionInfo,
    workflow_id: str,
    owner: str,
    inputs: str,
    class_name: str | None,
    config_name: str | None,
    deadline_ms: int | None,
    timeout_ms: int | None,
    parent_id: str | None,
    forked_from: str | None = None,
) -> dict[str, Any]:
    return {
        "workflow_uuid": workflow_id,
        "status": "PENDING",
        "name": info.name,
        "class_name": class_name,
        "config_name": config_name,
        "inputs": inputs,
        "serialization": runtime.serializer.name(),
        "executor_id": runtime.executor_id,
        "application_version": runtime.app_version,
        "now": now_ms(),
        "recovery_attempts": 1,
        "owner_xid": owner,
        "workflow_timeout_ms": timeout_ms,
        "workflow_deadline_epoch_ms": deadline_ms,
        "parent_workflow_id": parent_id,
        "queue_name": None,
        "authenticated_user": None,
        "authenticated_roles": None,
        "assumed_role": None,
        "forked_from": forked_from,
    }


@dataclass
class _Begun:
    launch: Launch
    inserted: bool
    parent: WorkflowContext | None


def _begin(info: FunctionInfo, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Begun:
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

    owner = uuid.uuid4().hex
    row = _new_row(
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
    )
    launch = Launch(info, workflow_id, owner, args, kwargs, deadline)
    if recorded_child is not None:
        # A replayed parent: the child's row was written before the parent's checkpoint.
        return _Begun(launch, False, parent)
    started = now_ms()
    inserted = runtime.sysdb.insert_workflow(row)
    if parent is not None:
        write_checkpoint(runtime, parent, step_id, info.name, None, None, started, workflow_id)
    if not inserted:
        _check_same_workflow(runtime, info, workflow_id)
    return _Begun(launch, inserted, parent)


def _check_same_workflow(runtime: Runtime, info: FunctionInfo, workflow_id: str) -> None:
    row = runtime.sysdb.get_workflow(workflow_id)
    if row is not None and row[_NAME] != info.name:
        raise DBOSConflictingWorkflowError(
            workflow_id,
            f"workflow ID {workflow_id} already belongs to workflow {row[_NAME]!r}, "
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
    return get_runtime().pool.submit(_execute_in_fresh_context, launch)


def _execute_in_fresh_context(launch: Launch) -> Any:
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
        try:
            result = launch.info.func(*launch.call_args, **launch.kwargs)
            if launch.info.is_async:
                from ._async import run_coroutine_body

                result = run_coroutine_body(result)
        except DBOSWorkflowCancelledError:
            raise DBOSAwaitedWorkflowCancelledError(launch.workflow_id) from None
        except DBOSWorkflowConflictIDError:
            # Another execution owns this workflow now; its outcome is the outcome.
            return wait_for_result(launch.workflow_id)
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
    finally:
        restore_start_options(option_tokens)
        current_step.reset(step_token)
        current_workflow.reset(wf_token)
        runtime.unregister_active(ctx)
        runtime.notify_finished(launch.workflow_id)


def _lost_ownership(workflow_id: str) -> Any:
    """The final write found the workflow cancelled or taken over: report what really happened."""
    return wait_for_result(workflow_id)


# ------------------------------------------------------------------------------ results


def outcome_from_row(runtime: Runtime, workflow_id: str, row: Any) -> tuple[bool, Any]:
    """(True, result) for a finished workflow (raising its error), (False, None) otherwise."""
    status = row[_STATUS]
    if status == "SUCCESS":
        return True, runtime.decode(row[_OUTPUT], row[_FORMAT])
    if status == "ERROR":
        raise runtime.decode_error(row[_ERROR], row[_FORMAT])
    if status == "CANCELLED":
        raise DBOSAwaitedWorkflowCancelledError(workflow_id)
    if status == "MAX_RECOVERY_ATTEMPTS_EXCEEDED":
        raise DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded(workflow_id)
    return False, None


def wait_for_result(
    workflow_id: str, future: Future[Any] | None = None, polling_interval_sec: float = 1.0
) -> Any:
    """Block until the workflow finishes; its result, or its error raised here."""
    runtime = get_runtime()
    delay = 0.005
    finished = runtime.finish_event(workflow_id) if future is None else None
    try:
        while True:
            if future is not None:
                try:
                    return future.result(timeout=delay)
                except FutureTimeout:
                    pass
            try:
                row = runtime.sysdb.get_workflow(workflow_id)
            except Exception as exc:
                if not is_connection_error(exc):
                    raise
                # A waiter outlives a database restart: keep polling, more slowly.
                logger.warning(
                    "Waiting for workflow %s: database unreachable: %s", workflow_id, exc
                )
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if row is None:
                raise DBOSNonExistentWorkflowError(workflow_id)
            done, result = outcome_from_row(runtime, workflow_id, row)
            if done:
                return result
            if finished is not None:
                finished.wait(delay)
            delay = min(delay * 2, max(polling_interval_sec, 0.005))
    finally:
        if finished is not None:
            runtime.forget_finish_event(workflow_id)


class WorkflowHandle(Generic[R]):
    """A started workflow: its ID, its status, and (blocking) its result."""

    def __init__(self, workflow_id: str, future: Future[Any] | None = None) -> None:
        self.workflow_id = workflow_id
        self._future = future

    def get_workflow_id(self) -> str:
        return self.workflow_id

    def get_result(self, *, polling_interval_sec: float = 1.0) -> R:
        """The result; inside a workflow it is checkpointed as step `DBOS.getResult`."""
        ctx = active_workflow()
        if ctx is None:
            return wait_for_result(self.workflow_id, self._future, polling_interval_sec)  # type: ignore[no-any-return]
        return run_step(  # type: ignore[no-any-return]
            "DBOS.getResult",
            wait_for_result,
            (self.workflow_id, self._future, polling_interval_sec),
            {},
        )

    def get_status(self) -> WorkflowStatus:
        from ._introspection import get_workflow_status

        status = get_workflow_status(self.workflow_id)
        if status is None:
            raise DBOSNonExistentWorkflowError(self.workflow_id)
        return status

    def __repr__(self) -> str:
        return f"WorkflowHandle(workflow_id={self.workflow_id!r})"


# ------------------------------------------------------------------------------ recovery


def launch_from_row(runtime: Runtime, row: Any, owner: str) -> Launch:
    """Rebuild a runnable workflow from its stored row: function, `self`, inputs, checkpoints."""
    workflow_id = row[_ID]
    info = _registry.get_function(row[_NAME])
    if info is None or info.kind != "workflow":
        raise DBOSWorkflowFunctionNotFoundError(
            workflow_id, f"no workflow named {row[_NAME]!r} is registered in this process"
        )
    args, kwargs = decode_inputs(runtime, row[_INPUTS], row[_FORMAT])
    if info.takes_self:
        target: object | None
        if row[_CONFIG] is not None:
            target = _registry.get_instance(row[_CLASS], row[_CONFIG])
        else:
            target = _registry.get_class(row[_CLASS]) if row[_CLASS] else None
        if target is None:
            raise DBOSWorkflowFunctionNotFoundError(
                workflow_id,
                f"no instance of class {row[_CLASS]!r} with config name {row[_CONFIG]!r} "
                "is registered: create it before DBOS.launch()",
            )
        args.insert(0, target)
    recorded = runtime.sysdb.load_steps(workflow_id)
    return Launch(
        info, workflow_id, owner, tuple(args), kwargs, row[_DEADLINE], recorded, resumed=True
    )


def recover_row(row: Any) -> Any:
    """Take over a PENDING workflow (one process wins) and run it from its checkpoints.

    Runs on a workflow thread, so the claims of many recovered workflows share commits."""
    runtime = get_runtime()
    workflow_id = row[_ID]
    owner = uuid.uuid4().hex
    if not runtime.sysdb.claim_workflow(workflow_id, row[_OWNER], owner, runtime.executor_id):
        return None  # another process took it over first
    info = _registry.get_function(row[_NAME])
    limit = info.max_recovery_attempts if info is not None else 100
    attempts = int(row[_ATTEMPTS]) + 1
    if limit is not None and attempts > limit + 1:
        runtime.sysdb.mark_max_recovery_exceeded(workflow_id)
        logger.error("%s", MaxRecoveryAttemptsExceededError(workflow_id, limit))
        return None
    try:
        launch = launch_from_row(runtime, row, owner)
    except DBOSDeserializationError as exc:
        # Inputs that cannot be read would fail the same way on every restart: record it.
        failure = DBOSDeserializationError(
            f"Cannot recover workflow {workflow_id}: its stored inputs are unreadable "
            f"({exc.message})"
        )
        error = serialize_exception(runtime.serializer, failure)
        runtime.sysdb.complete_workflow(workflow_id, owner, "ERROR", None, error)
        logger.error("%s", failure)
        return None
    except DBOSWorkflowFunctionNotFoundError as exc:
        logger.error("%s; it stays PENDING until a process that has it launches", exc)
        raise
    return _execute_in_fresh_context(launch)


def recover_pending(runtime: Runtime) -> list[WorkflowHandle[Any]]:
    """Resume this executor's PENDING workflows of this application version."""
    handles: list[WorkflowHandle[Any]] = []
    skipped = 0
    for row in runtime.sysdb.pending_for_executor(runtime.executor_id):
        if row[_VERSION] != runtime.app_version:
            skipped += 1
            continue
        handles.append(WorkflowHandle(row[_ID], runtime.pool.submit(recover_row, row)))
    if skipped:
        logger.warning(
            "%d pending workflows belong to other application versions and were not recovered",
            skipped,
        )
    if handles:
        logger.info("Recovering %d pending workflows", len(handles))
    return handles

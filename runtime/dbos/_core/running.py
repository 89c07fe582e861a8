"""Running a workflow body under one owner token and recording how it ended; rebuilding a
workflow from its row to recover or dequeue it, and taking one over.

Sync bodies run on workflow threads. An async body that was recovered or dequeued runs on the
application's event loop when DBOS was launched on one that still runs (as upstream: objects
bound to that loop, an `asyncio.Event` or an HTTP client made at start-up, work in every
workflow), else on a loop of its own on its workflow thread. An async body started or awaited
by application code runs on that code's event loop (`aio_workflows.py`), sharing the outcome
recording here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NoReturn

from .._db.records import StepRecord, now_ms
from .._db.records import WorkflowRow as W
from .._error import (
    DBOSAwaitedWorkflowCancelledError,
    DBOSBaseException,
    DBOSDatabaseConnectionError,
    DBOSDeserializationError,
    DBOSFormatNotConfiguredError,
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
from .._threads import Detach, current_future, current_pool
from . import tracing
from .auth import NO_AUTH, Auth, auth_from_row, authorized, end_run_for, run_for
from .context import (
    WorkflowContext,
    current_step,
    current_workflow,
    isolate_start_options,
    restore_start_options,
)
from .inputs import decode_inputs
from .parking import Parked, WorkflowParked
from .results import wait_for_result
from .runtime import Runtime, get_runtime, logger


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


def submit(launch: Launch) -> Future[Any]:
    return get_runtime().pool.submit(execute_in_fresh_context, launch)


def execute_in_fresh_context(launch: Launch) -> Any:
    """Run a workflow as the outermost one of a workflow thread: a long wait in a sync body
    parks it (parking.py), and its run's future is then completed by the run resuming it."""
    # Pool threads may have run other workflows: start from empty context variables.
    current_workflow.set(None)
    current_step.set(None)
    runtime = get_runtime()
    launch.parkable = (
        not launch.info.is_async and current_pool() is runtime.pool and current_future() is not None
    )
    try:
        return execute(launch)
    except WorkflowParked as parked:
        _arm(runtime, launch, parked.entry)
    except BaseException as exc:
        report_unfinished(launch.workflow_id, exc)
        raise


def _arm(runtime: Runtime, launch: Launch, entry: Parked) -> NoReturn:
    """The parked run has unwound: let its entry resume it on a workflow thread, completing
    this run's future (a handle's), and give this thread back."""
    future = current_future()
    assert future is not None  # parkable only as a pool job

    def dropped() -> None:  # DBOS destroyed meanwhile: it stays PENDING for recovery
        if launch.holds_thread is not None:
            launch.holds_thread(True)  # what its future's end gives back, it holds again
        with contextlib.suppress(concurrent.futures.InvalidStateError):
            future.set_exception(DBOSAwaitedWorkflowCancelledError(launch.workflow_id))

    def resume() -> None:
        try:
            launch.blocking_since = entry.blocking_since
            runtime.pool.submit_to(future, resume_parked, launch)
        except RuntimeError:
            dropped()

    _record_parked(runtime, launch, entry)
    if launch.holds_thread is not None:
        launch.holds_thread(False)
    entry.arm(resume, dropped)
    raise Detach


def _record_parked(runtime: Runtime, launch: Launch, entry: Parked) -> None:
    """Note in its row what it waits for (before arming, so no later park's note is
    overwritten by this one); informational, so a failure is only logged."""
    until = None if entry.wake_at is None else int(entry.wake_at * 1000)
    try:
        runtime.sysdb.workflows.record_parked(
            launch.workflow_id, launch.owner, entry.describe(), until
        )
    except Exception as exc:
        logger.debug("Could not record that workflow %s is parked: %s", launch.workflow_id, exc)


def resume_parked(launch: Launch) -> Any:
    """Continue a parked workflow, as recovery does: its row read again, its recorded steps in
    one query, the body run from the start (recorded steps return their outputs) under the same
    owner token and queue slot; or, if it ended meanwhile (cancelled, timed out), its outcome."""
    runtime = get_runtime()
    workflow_id = launch.workflow_id
    if launch.holds_thread is not None:
        launch.holds_thread(True)
    if launch.deadline_ms is not None and now_ms() >= launch.deadline_ms:
        runtime.cancel(workflow_id, cascade=True)
    try:
        row = runtime.sysdb.workflows.get_workflow(workflow_id)
        ours = row is not None and row[W.STATUS] == "PENDING" and row[W.OWNER] == launch.owner
        resumed = launch_from_row(runtime, row, launch.owner) if ours else None
    except DBOSDatabaseConnectionError as exc:  # the heartbeat resumes it once it is back
        runtime.abandon(workflow_id, launch.owner, exc.message)
        raise DBOSWorkflowAbandonedError(workflow_id, exc.message) from exc
    if resumed is None:
        if launch.body_done is not None:
            launch.body_done()
        return wait_for_result(workflow_id)  # finished, cancelled or taken over meanwhile
    resumed.deadline_ms = launch.deadline_ms
    resumed.blocking_since = launch.blocking_since
    resumed.body_done = launch.body_done
    resumed.holds_thread = launch.holds_thread
    resumed.trace_context = launch.trace_context
    resumed.attempt = launch.attempt
    return execute_in_fresh_context(resumed)


def report_unfinished(workflow_id: str, exc: BaseException) -> None:
    """Say how a workflow ended without a result: nobody may ever ask a background workflow
    for it. A `SystemExit` or `KeyboardInterrupt` from its body is not the workflow's error
    and is not recorded (as upstream): it stays PENDING, so the log is the only trace."""
    if isinstance(exc, (DBOSAwaitedWorkflowCancelledError, DBOSFormatNotConfiguredError)):
        return  # the latter logged where it stopped the workflow
    if isinstance(exc, Exception):
        logger.error("Workflow %s failed", workflow_id, exc_info=exc)
    elif not isinstance(exc, DBOSBaseException):  # DBOS's own stops are logged where raised
        logger.warning(
            "Workflow %s was stopped by %s raised in it: nothing is recorded, it stays PENDING "
            "and runs again from its last completed step at this executor's next recovery (a "
            "restart) or on DBOS.resume_workflow",
            workflow_id,
            type(exc).__name__,
        )


def execute(launch: Launch) -> Any:
    """Run the body under this execution's owner token and record how it ended."""
    runtime = get_runtime()
    with running_as(runtime, launch):
        return _run_and_record(runtime, launch)


@contextmanager
def running_as(runtime: Runtime, launch: Launch) -> Iterator[WorkflowContext]:
    """The body's context: this execution registered and current, and a database that stays
    away past the retry bound turned into an abandoned execution (resumed once it is back)."""
    ctx = WorkflowContext(
        launch.workflow_id,
        launch.info.name,
        launch.owner,
        launch.deadline_ms,
        launch.recorded,
        launch.resumed,
        serializer=runtime.writer(launch.serialization),
        parkable=launch.parkable,
        blocking_since=launch.blocking_since,
    )
    runtime.register_active(ctx)
    wf_token = current_workflow.set(ctx)
    step_token = current_step.set(None)
    option_tokens = isolate_start_options()
    span = tracing.workflow_span(
        launch.info.name,
        launch.workflow_id,
        launch.attempt,
        launch.trace_context,
        runtime.executor_id,
        runtime.app_version,
        launch.queue_name,
    )
    auth_token = run_for(launch.auth)
    try:
        with span:
            yield ctx
    except DBOSDatabaseConnectionError as exc:  # the final write, past the retry bound
        runtime.abandon(launch.workflow_id, launch.owner, exc.message)
        raise DBOSWorkflowAbandonedError(launch.workflow_id, exc.message) from exc
    except DBOSWorkflowAbandonedError as exc:
        runtime.abandon(launch.workflow_id, launch.owner, exc.reason)
        raise
    except DBOSFormatNotConfiguredError as exc:
        _left_unread(launch.workflow_id, exc)
        raise
    finally:
        end_run_for(auth_token)
        restore_start_options(option_tokens)
        current_step.reset(step_token)
        current_workflow.reset(wf_token)
        runtime.unregister_active(ctx)


def _run_and_record(runtime: Runtime, launch: Launch) -> Any:
    """Run the body and record how it ended: its result, or the error it raised (a user
    without a role the workflow requires is such an error: it ends ERROR, not to be retried)."""
    parked = False
    try:
        try:
            with authorized(launch.info):
                result = launch.info.func(*launch.call_args, **launch.kwargs)
                if launch.info.is_async:
                    result = _run_async_body(runtime, result)
        except WorkflowParked:
            parked = True  # it keeps its queue slot while it waits
            raise
        finally:
            if launch.body_done is not None and not parked:
                launch.body_done()
    except _AppLoopGone:
        # Cut off without failing: finished from its checkpoints on another workflow thread.
        if runtime.stopped:
            raise EventLoopClosed(launch.workflow_id) from None
        hand_over(runtime, launch.workflow_id, launch.owner)
        return wait_for_result(launch.workflow_id)
    except DBOSWorkflowCancelledError:
        raise DBOSAwaitedWorkflowCancelledError(launch.workflow_id) from None
    except DBOSWorkflowConflictIDError:
        # Another execution owns this workflow now; its outcome is the outcome.
        return wait_for_result(launch.workflow_id)
    except (DBOSDatabaseConnectionError, DBOSFormatNotConfiguredError):
        raise  # not the workflow's error: it stays PENDING, see running_as()
    except Exception as exc:
        return record_failure(runtime, launch, exc)
    return record_success(runtime, launch, result)


class _AppLoopGone(Exception):
    """The application's event loop closed, or cancelled the body's task, before it ended."""


class EventLoopClosed(BaseException):
    """A recovered or dequeued async workflow lost the application's event loop while DBOS was
    being destroyed: not the workflow's error; it stays PENDING for the next recovery."""

    def __init__(self, workflow_id: str) -> None:
        super().__init__(f"the event loop of workflow {workflow_id} closed during DBOS.destroy()")


def _run_async_body(runtime: Runtime, body: Coroutine[Any, Any, Any]) -> Any:
    """Run a recovered or dequeued async body to its end from this workflow thread: on the
    application's loop while it runs (see the module docstring), else on a loop of its own."""
    loop = runtime.running_app_loop()
    if loop is None:
        return asyncio.run(_on_a_loop_of_its_own(body))
    # The task is made on the loop's thread from a copy of this thread's context: the
    # workflow's context variables (set by running_as) go with it.
    future = asyncio.run_coroutine_threadsafe(_as_body_task(body), loop)
    while True:
        try:
            return future.result(timeout=1.0)
        except concurrent.futures.TimeoutError:
            if loop.is_closed():  # closed before the task could end (or even start)
                future.cancel()
                raise _AppLoopGone from None
        except concurrent.futures.CancelledError:
            raise _AppLoopGone from None  # the loop's shutdown cancelled the task


_IDLE_WAKE_SEC = 0.5


async def _on_a_loop_of_its_own(body: Coroutine[Any, Any, Any]) -> Any:
    """The body on a loop that nothing else uses. Such a loop sleeps until one of its own
    timers or file descriptors fires, so a future of it completed from another thread without
    `call_soon_threadsafe` (an `asyncio.Event` set from the application's loop: a shared loop,
    upstream's, is woken by its other work and tolerates it) would never be noticed; a timer
    wakes it twice a second to look."""
    loop = asyncio.get_running_loop()
    timer: list[asyncio.TimerHandle] = []

    def wake() -> None:
        timer[:] = [loop.call_later(_IDLE_WAKE_SEC, wake)]

    wake()
    try:
        return await _as_body_task(body)
    finally:
        timer[0].cancel()


def body_task(task: Any) -> None:
    """Note the asyncio task running the current async workflow's body (see `patching`)."""
    ctx = current_workflow.get()
    if ctx is not None:
        ctx.task = task


async def _as_body_task(body: Any) -> Any:
    body_task(asyncio.current_task())
    return await body


def record_failure(runtime: Runtime, launch: Launch, exc: Exception) -> Any:
    """Record the body's error and raise it again (or report what really happened when the
    workflow was cancelled or taken over meanwhile)."""
    error = serialize_exception(runtime.writer(launch.serialization), exc)
    if not runtime.sysdb.workflows.complete_workflow(
        launch.workflow_id, launch.owner, "ERROR", None, error
    ):
        return _lost_ownership(launch.workflow_id)
    raise exc


def record_success(runtime: Runtime, launch: Launch, result: Any) -> Any:
    writer = runtime.writer(launch.serialization)
    try:
        output = writer.serialize(result)
    except DBOSSerializationError as exc:
        failure = DBOSSerializationError(
            f"The result of workflow {launch.info.name!r} cannot be serialized: {exc.message}"
        )
        runtime.sysdb.workflows.complete_workflow(
            launch.workflow_id,
            launch.owner,
            "ERROR",
            None,
            serialize_exception(writer, failure),
        )
        raise failure from None
    if not runtime.sysdb.workflows.complete_workflow(
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


def _left_unread(workflow_id: str, exc: DBOSFormatNotConfiguredError) -> None:
    """A workflow this process may not read (a pickled input or checkpoint without the pickle
    opt-in) is left PENDING, for the next launch of a process configured to read it."""
    logger.error(
        "Workflow %s stays PENDING, not run here: %s. A launch with that configuration recovers it",
        workflow_id,
        exc.message,
    )


def recover_row(row: Any) -> Any:
    """Take over a PENDING workflow (one process wins) and run it from its checkpoints.

    The claim is a compare-and-swap of the owner token, so an execution that still holds the
    old token (one whose loop stopped under it, one paused past the heartbeat bound) can no
    longer write. Runs on a workflow thread, so the claims of many share commits."""
    runtime = get_runtime()
    owner = runtime.new_owner()
    if not runtime.sysdb.workflows.claim_workflow(
        row[W.ID], row[W.OWNER], owner, runtime.executor_id
    ):
        return None  # another process took it over first
    claimed = list(row)
    claimed[W.ATTEMPTS] = int(row[W.ATTEMPTS]) + 1  # the claim counted this attempt
    try:
        launch = prepare_claimed(runtime, claimed, owner, first_run=False)
    except DBOSWorkflowFunctionNotFoundError as exc:
        logger.error("%s; it stays PENDING until a process that has it launches", exc)
        raise
    except DBOSFormatNotConfiguredError as exc:
        _left_unread(row[W.ID], exc)
        return None
    return None if launch is None else execute_in_fresh_context(launch)


def hand_over(runtime: Runtime, workflow_id: str, owner: str) -> None:
    """Finish, on a workflow thread, a workflow whose execution was cut off here without
    having failed (its event loop stopped): from its checkpoints, unless it moved on."""

    def resume() -> Any:
        row = runtime.sysdb.workflows.get_workflow(workflow_id)
        if row is None or row[W.STATUS] != "PENDING" or row[W.OWNER] != owner:
            return None  # finished, cancelled or taken over meanwhile
        return recover_row(row)

    if runtime.stopped:
        return  # DBOS is being destroyed: recovery at the next launch resumes it
    logger.info("Workflow %s lost its event loop; it continues on a workflow thread", workflow_id)
    try:
        runtime.pool.submit(resume)
    except RuntimeError:
        pass  # destroyed meanwhile: likewise left to recovery

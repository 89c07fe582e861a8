"""Running a workflow body under one owner token and recording how it ended; parking and
resuming a waiting one; taking one over from its row.

Sync bodies run on workflow threads; a recovered or dequeued async body is run from one by
`async_bodies.py`. An async body started or awaited by application code runs on that code's
event loop (`aio_workflows.py`), sharing the outcome recording here. A `Launch` and its
rebuilding from a row are in `launches.py`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, Final

from .._db.records import WorkflowRow as W
from .._db.records import now_ms
from .._error import (
    DBOSAwaitedWorkflowCancelledError,
    DBOSBaseException,
    DBOSDatabaseConnectionError,
    DBOSExecutorShutdownError,
    DBOSFormatNotConfiguredError,
    DBOSSerializationError,
    DBOSWorkflowAbandonedError,
    DBOSWorkflowCancelledError,
    DBOSWorkflowConflictIDError,
    DBOSWorkflowFunctionNotFoundError,
)
from .._serialization import serialize_exception
from .._threads import Detach, current_future, current_pool
from . import tracing
from .async_bodies import AppLoopGone, EventLoopClosed, run_async_body
from .auth import authorized, end_run_for, run_for
from .context import (
    WorkflowContext,
    current_step,
    current_workflow,
    isolate_start_options,
    restore_start_options,
)
from .launches import Launch, launch_from_row, left_unread, prepare_claimed
from .parking import Parked, WorkflowParked
from .results import wait_for_result
from .runtime import Runtime, get_runtime, logger

# What a pool job's run returns once its successful outcome is handed to the group commit:
# the job gives its thread back, and the commit's callback completes the run's future.
_COMMITTING: Final = object()


def submit(launch: Launch) -> Future[Any]:
    return get_runtime().pool.submit(execute_in_fresh_context, launch)


def execute_in_fresh_context(launch: Launch) -> Any:
    """Run a workflow as the outermost one of a workflow thread: a long wait parks it (a sync
    body, or an async one run from here, see parking.py), and its run's future is then
    completed by the run resuming it; a successful outcome is committed without the thread,
    and the commit completes the future."""
    # Pool threads may have run other workflows: start from empty context variables.
    current_workflow.set(None)
    current_step.set(None)
    runtime = get_runtime()
    launch.parkable = current_pool() is runtime.pool and current_future() is not None
    try:
        result = execute(launch)
    except WorkflowParked as parked:
        future = current_future()
        assert future is not None  # parkable only as a pool job
        _arm_parked(runtime, launch, parked.entry, future)
        raise Detach from None  # the thread is given back; the resuming run ends `future`
    except BaseException as exc:
        report_unfinished(launch.workflow_id, exc)
        raise
    if result is _COMMITTING:
        raise Detach  # the thread is given back; the outcome's commit ends `future`
    return result


def _arm_parked(runtime: Runtime, launch: Launch, entry: Parked, future: Future[Any]) -> None:
    """The parked run has unwound: let its entry resume it on a workflow thread, completing
    this run's `future` (a handle's)."""

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
    """Continue a parked workflow, as recovery does: its row and its recorded steps read again
    in one query, the body run from the start (recorded steps return their outputs) under the
    same owner token and queue slot; or, if it ended meanwhile (cancelled, timed out), its
    outcome."""
    runtime = get_runtime()
    workflow_id = launch.workflow_id
    if launch.holds_thread is not None:
        launch.holds_thread(True)
    if runtime.unwinding:  # woken just before a graceful stop began: as if it had been running
        if launch.body_done is not None:
            launch.body_done()
        raise DBOSExecutorShutdownError(workflow_id)
    if launch.deadline_ms is not None and now_ms() >= launch.deadline_ms:
        runtime.cancel(workflow_id, cascade=True)
    try:
        row, steps = runtime.sysdb.workflows.load_with_steps(workflow_id)
        ours = row is not None and row[W.STATUS] == "PENDING" and row[W.OWNER] == launch.owner
        resumed = launch_from_row(runtime, row, launch.owner, steps=steps) if ours else None
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
        left_unread(launch.workflow_id, exc)
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
                    result = run_async_body(runtime, result)
        except WorkflowParked:
            parked = True  # it keeps its queue slot while it waits
            raise
        finally:
            if launch.body_done is not None and not parked:
                launch.body_done()
    except AppLoopGone:
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
    future = current_future() if launch.parkable else None
    if future is not None:
        _complete_later(runtime, launch, output, result, future)
        return _COMMITTING
    if not runtime.sysdb.workflows.complete_workflow(
        launch.workflow_id, launch.owner, "SUCCESS", output, None
    ):
        return _lost_ownership(launch.workflow_id)
    return result


def _complete_later(
    runtime: Runtime, launch: Launch, output: str, result: Any, future: Future[Any]
) -> None:
    """Commit a pool job's successful outcome with others' without holding its thread: the
    run's `future` is completed once it has committed (a drain's threads would otherwise all
    wait in one flush, capping each flush at the pool's size)."""
    workflow_id, owner = launch.workflow_id, launch.owner

    def committed(done: bool, error: BaseException | None) -> None:
        try:
            if error is None and done:
                future.set_result(result)
            elif error is None:  # cancelled or taken over meanwhile: what really happened
                _report_lost_ownership(runtime, workflow_id, future)
            elif isinstance(error, DBOSDatabaseConnectionError):
                runtime.abandon(workflow_id, owner, error.message)
                future.set_exception(DBOSWorkflowAbandonedError(workflow_id, error.message))
            else:
                future.set_exception(error)
        finally:
            runtime.outcome_committing(-1)

    runtime.outcome_committing(+1)  # (the commit's callback counts it out, whatever happens)
    runtime.sysdb.workflows.complete_workflow_later(
        workflow_id, owner, "SUCCESS", output, committed
    )


def _report_lost_ownership(runtime: Runtime, workflow_id: str, future: Future[Any]) -> None:
    """The outcome found the workflow cancelled or taken over: its run's future gets what
    really happened, read on a workflow thread (the committing thread does not wait)."""
    try:
        runtime.pool.submit_to(future, _lost_ownership, workflow_id)
    except RuntimeError:  # DBOS destroyed meanwhile
        future.set_exception(DBOSAwaitedWorkflowCancelledError(workflow_id))


def _lost_ownership(workflow_id: str) -> Any:
    """The final write found the workflow cancelled or taken over: report what really happened."""
    return wait_for_result(workflow_id)


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
        left_unread(row[W.ID], exc)
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

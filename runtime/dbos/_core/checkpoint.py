"""The checkpoint core: the small API that decorators and `dbos-compile` generated code both call.

Hot path of one step on a fresh run: take the next step number from the context, see that the
run has nothing recorded at that number (a dict lookup; empty on a fresh run), run the function,
serialize, and write one row. A recovered run looks up what it read once at its start.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypedDict

from .._db.records import NotOwner, StepRecord, StepWrite, is_unique_violation, now_ms
from .._error import (
    DBOSDatabaseConnectionError,
    DBOSExecutorShutdownError,
    DBOSInvalidStepOptionError,
    DBOSMaxStepRetriesExceeded,
    DBOSSerializationError,
    DBOSUnexpectedStepError,
    DBOSWorkflowAbandonedError,
    DBOSWorkflowCancelledError,
    DBOSWorkflowConflictIDError,
)
from .._serialization import serialize_exception
from . import tracing
from .context import StepContext, WorkflowContext, current_step, current_workflow
from .replay_mode import ReplayHistory
from .runtime import Runtime, get_runtime, logger

_MAX_RETRY_INTERVAL_SEC = 3600.0


class StepOptions(TypedDict, total=False):
    name: str
    retries_allowed: bool
    interval_seconds: float
    max_attempts: int
    backoff_rate: float
    # A predicate on a failed attempt's exception: False stops the retries at once and the
    # step raises that exception itself (async steps may give an async predicate).
    should_retry: Callable[[Exception], Any] | None
    timeout_seconds: float | None  # per attempt; async steps only
    preemptible: bool  # async steps only: cancelled with their workflow


def check_step_options(name: str, options: StepOptions, is_async: bool) -> None:
    """Refuse, where the step is declared (or `run_step` called), options its function cannot
    honour: a running thread cannot be stopped, so a timeout or preemption needs an async step."""
    timeout = options.get("timeout_seconds")
    if timeout is not None:
        if not is_async:
            raise DBOSInvalidStepOptionError(
                f"Step {name} is sync but timeout_seconds is set. Step timeouts are only "
                "supported for async steps (a running thread cannot be stopped): make the step "
                "`async def`, or bound the call inside it"
            )
        check_timeout_value(timeout, f"Step {name}")
    if options.get("preemptible") and not is_async:
        raise DBOSInvalidStepOptionError(
            f"Step {name} is sync but preemptible=True. Preemption is only supported for async "
            "steps (a running thread cannot be stopped)"
        )


def check_timeout_value(timeout: object, where: str) -> None:
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not 0 < timeout < math.inf
    ):
        raise DBOSInvalidStepOptionError(
            f"{where} has timeout_seconds={timeout!r}. Step timeouts must be positive and finite."
        )


def refuse_async_predicate(name: str, options: StepOptions) -> None:
    """A sync step's retries cannot await an async `should_retry`: refused when the step is
    run in a workflow (outside one a step is a plain call, which never retries)."""
    if options.get("retries_allowed") and inspect.iscoroutinefunction(options.get("should_retry")):
        raise DBOSInvalidStepOptionError(
            f"Step {name} is sync but should_retry is async. Use an async step to pair with an "
            "async validator."
        )


def active_workflow() -> WorkflowContext | None:
    """The workflow whose checkpoints a call here should take, if any (none inside a step)."""
    ctx = current_workflow.get()
    if ctx is None or current_step.get() is not None:
        return None
    return ctx


def replay(ctx: WorkflowContext, step_id: int, name: str) -> StepRecord | None:
    """What a previous execution recorded at this step number, checked against `name`. In a
    replay of a history, a step it lacks or names otherwise stops the run (`replay_mode`)."""
    if isinstance(ctx.recorded, ReplayHistory):
        ctx.recorded.check(ctx, step_id, name)
    record = ctx.recorded.get(step_id)
    if record is not None and record.function_name != name:
        raise DBOSUnexpectedStepError(ctx.workflow_id, step_id, name, record.function_name)
    return record


def recorded_result(runtime: Runtime, record: StepRecord) -> Any:
    """Return a recorded output, or raise the recorded error, exactly as the first run did."""
    if record.error is not None:
        raise runtime.decode_error(record.error, record.serialization)
    return runtime.decode(record.output, record.serialization)


def check_deadline(runtime: Runtime, ctx: WorkflowContext) -> None:
    """Stop a workflow past its deadline (cancelling it and its children), already
    cancelled (by a user, or woken by DBOS.destroy(), which records nothing), or whose
    process is stopping gracefully (recording nothing: it resumes at recovery)."""
    if runtime.unwinding:
        raise DBOSExecutorShutdownError(ctx.workflow_id)
    if ctx.deadline_ms is not None and now_ms() >= ctx.deadline_ms:
        runtime.cancel(ctx.workflow_id, cascade=True)
        raise DBOSWorkflowCancelledError(f"Workflow {ctx.workflow_id} timed out")
    if ctx.cancelled.is_set():
        raise DBOSWorkflowCancelledError(f"Workflow {ctx.workflow_id} was cancelled")


def write_checkpoint(
    runtime: Runtime,
    ctx: WorkflowContext,
    step_id: int,
    name: str,
    output: str | None,
    error: str | None,
    started_at: int,
    child_workflow_id: str | None = None,
    attempts: int | None = None,
    companion: StepWrite | None = None,
) -> None:
    """Record one operation (with `companion`, a step recorded with it unless it is already);
    stop this execution if it no longer owns a PENDING workflow."""
    try:
        written = runtime.sysdb.workflows.record_step(
            ctx.workflow_id,
            ctx.owner,
            step_id,
            name,
            output,
            error,
            child_workflow_id,
            runtime.serializer.name(),
            started_at,
            attempts,
            companion,
        )
    except DBOSDatabaseConnectionError as exc:
        raise DBOSWorkflowAbandonedError(ctx.workflow_id, exc.message) from exc
    except Exception as exc:
        if is_unique_violation(exc):
            raise DBOSWorkflowConflictIDError(ctx.workflow_id) from exc
        raise
    if not written:
        raise_not_owner(runtime, ctx)


def raise_not_owner(runtime: Runtime, ctx: WorkflowContext) -> None:
    row = runtime.sysdb.workflows.get_workflow(ctx.workflow_id)
    if row is not None and row[1] == "CANCELLED":
        raise DBOSWorkflowCancelledError(f"Workflow {ctx.workflow_id} was cancelled")
    raise DBOSWorkflowConflictIDError(ctx.workflow_id)


@contextmanager
def owned_write(runtime: Runtime, ctx: WorkflowContext) -> Iterator[None]:
    """Around a write that records a step with more than its checkpoint (a message, an
    event, a stream value): a lost ownership or a duplicate execution stops this one."""
    try:
        yield
    except NotOwner:
        raise_not_owner(runtime, ctx)
    except DBOSDatabaseConnectionError as exc:
        raise DBOSWorkflowAbandonedError(ctx.workflow_id, exc.message) from exc
    except Exception as exc:
        if is_unique_violation(exc):
            raise DBOSWorkflowConflictIDError(ctx.workflow_id) from exc
        raise


def step_write(
    ctx: WorkflowContext, step_id: int, name: str, started_at: int, **fields: Any
) -> StepWrite:
    return StepWrite(ctx.workflow_id, ctx.owner, step_id, name, started_at=started_at, **fields)


def run_step(
    name: str,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    options: StepOptions | None = None,
    *,
    child_workflow_id: str | None = None,
    waits: bool = False,
) -> Any:
    """Run `func` as a checkpointed step of the current workflow, or as a plain call outside
    one (or inside another step): no checkpoint, and so no retries either, as upstream.
    `child_workflow_id` names the workflow the step is about (a handle's `DBOS.getResult`).
    `waits`: the step's whole body is a durable wait (a handle's result, `wait_first`), which
    may park the workflow (parking.py: the body runs again on resume, so it must do nothing
    before its wait that may not run twice); its start is kept across a park."""
    opts = options or {}
    begun = begin_step(name, child_workflow_id=child_workflow_id, waits=waits)
    if begun is None:
        return func(*args, **kwargs)
    if isinstance(begun, Replayed):
        return begun.value()
    try:
        refuse_async_predicate(name, opts)
    except DBOSInvalidStepOptionError:
        begun.end_span(None)
        raise
    token = current_step.set(step_context(begun, opts))
    try:
        result = call_with_retries(name, func, args, kwargs, opts)
    except Exception as exc:
        current_step.reset(token)
        begun.fail(exc)
        raise
    except BaseException as exc:  # cancelled, or the process stops: nothing is recorded
        begun.end_span(exc)
        raise
    current_step.reset(token)
    return begun.succeed(result)


def as_step(step_name: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`func(...)`, recorded as step `step_name` when called from a workflow (a replay gets
    the recorded answer); a plain call anywhere else."""
    if active_workflow() is None:
        return func(*args, **kwargs)
    return run_step(step_name, func, args, kwargs)


def step_context(begun: BegunStep, opts: StepOptions) -> StepContext:
    max_attempts = int(opts.get("max_attempts", 3)) if opts.get("retries_allowed") else None
    parks = begun.ctx if begun.waits else None
    begun.step_ctx = StepContext(begun.ctx.workflow_id, begun.step_id, 0, max_attempts, parks=parks)
    return begun.step_ctx


def note_attempt(attempt: int) -> None:
    step = current_step.get()
    if step is not None:
        step.current_attempt = attempt


class Replayed:
    """A step found recorded: its outcome is returned (or raised) without running it."""

    def __init__(self, runtime: Runtime, record: StepRecord) -> None:
        self._runtime = runtime
        self._record = record

    def value(self) -> Any:
        return recorded_result(self._runtime, self._record)


class BegunStep:
    """A step about to run for the first time; `succeed` or `fail` writes its checkpoint."""

    def __init__(
        self,
        runtime: Runtime,
        ctx: WorkflowContext,
        step_id: int,
        name: str,
        kind: str = "step",
        child_workflow_id: str | None = None,
        waits: bool = False,
    ) -> None:
        self.runtime = runtime
        self.ctx = ctx
        self.step_id = step_id
        self.name = name
        self.child_workflow_id = child_workflow_id
        self.waits = waits
        # A step that waits may park: the run resuming it keeps the parked run's start.
        self.started_at = ctx.begin_blocking(step_id) if waits else now_ms()
        self.step_ctx: StepContext | None = None  # set when it may retry (see step_context)
        self.span = tracing.start_step(ctx.workflow_id, step_id, name, kind)

    def attempts(self) -> int | None:
        """How many times a retrying step ran; None for a step that does not retry."""
        step = self.step_ctx
        if step is None or step.max_attempts is None:
            return None
        return step.current_attempt + 1

    def end_span(self, error: BaseException | None) -> None:
        span, self.span = self.span, None
        if span is not None:
            span.end(error, self.attempts())

    def succeed(self, result: Any) -> Any:
        try:
            output_text = self.runtime.serializer.serialize(result)
        except DBOSSerializationError as exc:
            failure = DBOSSerializationError(
                f"The output of step {self.name!r} cannot be serialized: {exc.message}"
            )
            self.fail(failure)
            raise failure from exc
        try:
            write_checkpoint(
                self.runtime,
                self.ctx,
                self.step_id,
                self.name,
                output_text,
                None,
                self.started_at,
                child_workflow_id=self.child_workflow_id,
                attempts=self.attempts(),
            )
        finally:
            self.end_span(None)
        return result

    def fail(self, exc: BaseException) -> None:
        try:
            error_text = _serialize_error(self.runtime, exc)
            write_checkpoint(
                self.runtime,
                self.ctx,
                self.step_id,
                self.name,
                None,
                error_text,
                self.started_at,
                child_workflow_id=self.child_workflow_id,
                attempts=self.attempts(),
            )
        finally:
            self.end_span(exc)


def begin_step(
    name: str, kind: str = "step", *, child_workflow_id: str | None = None, waits: bool = False
) -> BegunStep | Replayed | None:
    """Place a step: None outside a workflow, the recorded outcome on replay, else a new step
    (`waits`: see `run_step`)."""
    ctx = active_workflow()
    if ctx is None:
        return None
    runtime = get_runtime()
    step_id = ctx.take_step_id()
    if ctx.recorded:
        record = replay(ctx, step_id, name)
        if record is not None:
            return Replayed(runtime, record)
    check_deadline(runtime, ctx)
    logger.debug("Running %s, id: %d, name: %s", kind, step_id, name)
    return BegunStep(runtime, ctx, step_id, name, kind, child_workflow_id, waits)


def _serialize_error(runtime: Runtime, exc: BaseException) -> str:
    return serialize_exception(runtime.serializer, exc)


class RetryPolicy:
    """A step's retry options: how many attempts, and how long to wait before each retry."""

    def __init__(self, opts: StepOptions) -> None:
        self.max_attempts = int(opts.get("max_attempts", 3))
        self.interval = float(opts.get("interval_seconds", 1.0))
        self.backoff = float(opts.get("backoff_rate", 2.0))
        self.should_retry = opts.get("should_retry")

    @staticmethod
    def of(opts: StepOptions) -> RetryPolicy | None:
        return RetryPolicy(opts) if opts.get("retries_allowed", False) else None

    def delay_after(self, name: str, attempt: int, exc: Exception) -> float | None:
        """Seconds to wait after failed `attempt` (0-based), or None when none are left."""
        if attempt + 1 >= self.max_attempts:
            return None
        delay = min(self.interval * (self.backoff**attempt), _MAX_RETRY_INTERVAL_SEC)
        logger.warning(
            "Step %s failed (attempt %d of %d): %r; retrying in %.2fs",
            name,
            attempt + 1,
            self.max_attempts,
            exc,
            delay,
        )
        return delay


def raise_if_cancelled_while_waiting(delay: float, cause: Exception) -> None:
    """Wait between attempts; a workflow cancelled meanwhile stops instead of retrying."""
    ctx = current_workflow.get()
    if ctx is None:
        time.sleep(delay)
    elif ctx.cancelled.wait(delay):
        raise DBOSWorkflowCancelledError(f"Workflow {ctx.workflow_id} was cancelled") from cause


def call_with_retries(
    name: str,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    opts: StepOptions,
) -> Any:
    policy = RetryPolicy.of(opts)
    if policy is None:
        return func(*args, **kwargs)
    errors: list[Exception] = []
    for attempt in range(policy.max_attempts):
        note_attempt(attempt)
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if policy.should_retry is not None and not policy.should_retry(exc):
                raise  # not worth retrying: the step fails with this error itself
            errors.append(exc)
            delay = policy.delay_after(name, attempt, exc)
            if delay is None:
                break
            raise_if_cancelled_while_waiting(delay, exc)
    raise DBOSMaxStepRetriesExceeded(name, policy.max_attempts, errors)

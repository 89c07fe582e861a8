"""Streams: a workflow appends values under a key; readers anywhere get them in write order.

`write_stream` / `close_stream` from a workflow are steps whose row and record commit together,
so a recovered writer neither repeats nor loses a value; from a step they are plain appends.
`read_stream` yields values from a position on, waiting for new ones, until the stream is closed
or its workflow has finished. Read inside a workflow, each value (and the end) is recorded as a
`DBOS.readStream` step (`read_stream_offset`'s one value as `DBOS.readStreamOffset`), so a replay
yields exactly what the first run saw.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from .. import _clock
from .._db.records import FINAL, STREAM, now_ms
from .._error import DBOSException, DBOSNonExistentWorkflowError, DBOSStreamTimeoutError
from .._serialization import serialize_exception
from .checkpoint import (
    active_workflow,
    check_deadline,
    owned_write,
    recorded_result,
    replay,
    step_write,
    write_checkpoint,
)
from .context import WorkflowContext, current_step, current_workflow
from .formats import value_serializer
from .messages import serialize_value
from .offload import off_loop
from .runtime import Runtime, get_runtime
from .waiters import WaitKey
from .waiting import NOTHING, wait_for, wait_for_async

WRITE = "DBOS.writeStream"
CLOSE = "DBOS.closeStream"
READ = "DBOS.readStream"
READ_OFFSET = "DBOS.readStreamOffset"
_FINAL_STATUSES = ("SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED")
_END: Any = object()


def prepare_write(
    key: str, value: Any, closing: bool, serialization_type: object = None
) -> Callable[[], None] | None:
    runtime = get_runtime()
    ctx = current_workflow.get()
    what = "close_stream()" if closing else "write_stream()"
    if ctx is None:
        raise DBOSException(f"{what} must be called from within a workflow or step")
    serializer = value_serializer(runtime, serialization_type)
    text = None if closing else serialize_value(serializer, value, f"A value of stream {key!r}")
    fmt = None if closing else serializer.name()
    in_step = current_step.get()
    if in_step is not None:
        function_id = in_step.step_id

        def append_from_step() -> None:
            with owned_write(runtime, ctx):
                runtime.sysdb.messages.write_stream(
                    ctx.workflow_id, ctx.owner, function_id, key, text, fmt, None
                )

        return append_from_step
    name = CLOSE if closing else WRITE
    step_id = ctx.take_step_id()
    if ctx.recorded and replay(ctx, step_id, name) is not None:
        return None
    check_deadline(runtime, ctx)
    step = step_write(ctx, step_id, name, now_ms())

    def append() -> None:
        with owned_write(runtime, ctx):
            runtime.sysdb.messages.write_stream(
                ctx.workflow_id, ctx.owner, step_id, key, text, fmt, step
            )

    return append


def write_stream(key: str, value: Any, serialization_type: object = None) -> None:
    append = prepare_write(key, value, closing=False, serialization_type=serialization_type)
    if append is not None:
        append()


def close_stream(key: str) -> None:
    append = prepare_write(key, None, closing=True)
    if append is not None:
        append()


class _Reader:
    """The state of one read: position, values fetched ahead, and the recording workflow."""

    def __init__(
        self,
        workflow_id: str,
        key: str,
        offset: int,
        timeout_seconds: float | None,
        runtime: Runtime | None = None,
        step_name: str = READ,
    ) -> None:
        if offset < 0:
            raise ValueError(f"offset must be >= 0, got {offset}")
        if timeout_seconds is not None and timeout_seconds < 0:
            raise ValueError(f"timeout_seconds must be >= 0, got {timeout_seconds}")
        self.runtime: Runtime = runtime or get_runtime()
        self.workflow_id = workflow_id
        self.key = key
        self.next_seq = offset
        self.timeout_seconds = timeout_seconds
        self.ahead: deque[tuple[int, str | None, str | None]] = deque()
        self.ctx: WorkflowContext | None = active_workflow() if runtime is None else None
        self.keys = (WaitKey(STREAM, workflow_id, key), WaitKey(FINAL, workflow_id))
        self.step_name = step_name  # what each value read in a workflow is recorded as

    def replayed(self) -> tuple[int, Any]:
        """Inside a workflow, take this value's step number; (step, value or _END) recorded by
        an earlier run, or (step, NOTHING) to read it live. Outside: (0, NOTHING)."""
        ctx = self.ctx
        if ctx is None:
            return 0, NOTHING
        step_id = ctx.take_step_id()
        record = replay(ctx, step_id, self.step_name) if ctx.recorded else None
        if record is None:
            return step_id, NOTHING
        boxed = recorded_result(self.runtime, record)
        if not boxed:
            return step_id, _END
        self.next_seq += 1  # the value replayed stood at this position of the stream
        return step_id, boxed[0]

    def begin(self, step_id: int) -> int:
        """When the read of the value at `step_id` began (epoch ms): now, or, in a run that
        resumes a workflow parked in it, when the parked run began it."""
        return now_ms() if self.ctx is None else self.ctx.begin_blocking(step_id)

    def deadline(self, started_at: int) -> float | None:
        """When the read begun at `started_at` times out: its timeout counts from the call,
        across any parks in this process (a recovered run starts the count again)."""
        if self.timeout_seconds is None:
            return None
        if self.ctx is None:
            return _clock.now() + self.timeout_seconds
        return started_at / 1000 + self.timeout_seconds

    def check(self) -> Any:
        """The next value (decoded) or _END; NOTHING while the writer may still write."""
        if not self.ahead:
            status, rows = self.runtime.sysdb.messages.read_stream(
                self.workflow_id, self.key, self.next_seq
            )
            if status is None:
                raise DBOSNonExistentWorkflowError(self.workflow_id)
            self.ahead.extend(r for r in rows if r[0] >= self.next_seq)
            if not self.ahead:
                # Status and values come from one snapshot: a finished writer wrote them all.
                return _END if status in _FINAL_STATUSES else NOTHING
        seq, text, fmt = self.ahead.popleft()
        self.next_seq = seq + 1
        return _END if text is None else self.runtime.decode(text, fmt)

    def record(self, step_id: int, value: Any, started_at: int) -> None:
        if self.ctx is None:
            return
        boxed = [] if value is _END else [value]
        output = self.runtime.serializer.serialize(boxed)
        write_checkpoint(self.runtime, self.ctx, step_id, self.step_name, output, None, started_at)

    def timed_out(self, step_id: int, started_at: int) -> DBOSStreamTimeoutError:
        """The timeout error, recorded inside a workflow so a replay raises it without waiting."""
        error = DBOSStreamTimeoutError(self.workflow_id, self.key, self.timeout_seconds)
        if self.ctx is not None:
            text = serialize_exception(self.runtime.serializer, error)
            write_checkpoint(
                self.runtime, self.ctx, step_id, self.step_name, None, text, started_at
            )
        return error


def _next(reader: _Reader) -> Any:
    """The reader's next value or _END, recorded inside a workflow; raises on its timeout."""
    step_id, value = reader.replayed()
    if value is NOTHING:
        started = reader.begin(step_id)
        if reader.ctx is not None:
            check_deadline(reader.runtime, reader.ctx)
        value = wait_for(
            reader.runtime,
            reader.check,
            reader.keys,
            deadline=reader.deadline(started),
            ctx=reader.ctx,
            park=reader.ctx,
        )
        if value is NOTHING:
            raise reader.timed_out(step_id, started)
        reader.record(step_id, value, started)
    return value


def read_stream(
    workflow_id: str,
    key: str,
    *,
    offset: int = 0,
    timeout_seconds: float | None = None,
    runtime: Runtime | None = None,
) -> Iterator[Any]:
    reader = _Reader(workflow_id, key, offset, timeout_seconds, runtime)
    while True:
        value = _next(reader)
        if value is _END:
            return
        yield value


async def _next_async(reader: _Reader) -> Any:
    """The reader's next value or _END, recorded inside a workflow; raises on its timeout."""
    step_id, value = reader.replayed()
    if value is NOTHING:
        started = reader.begin(step_id)
        if reader.ctx is not None:
            check_deadline(reader.runtime, reader.ctx)
        value = await wait_for_async(
            reader.runtime,
            reader.check,
            reader.keys,
            deadline=reader.deadline(started),
            ctx=reader.ctx,
            # A timed read parks in sync bodies only so far (_next); here it holds its task.
            park=reader.ctx if reader.timeout_seconds is None else None,
        )
        if value is NOTHING:
            raise await off_loop(reader.timed_out, step_id, started)
        await off_loop(reader.record, step_id, value, started)
    return value


async def read_stream_async(
    workflow_id: str,
    key: str,
    *,
    offset: int = 0,
    timeout_seconds: float | None = None,
    runtime: Runtime | None = None,
) -> AsyncIterator[Any]:
    reader = _Reader(workflow_id, key, offset, timeout_seconds, runtime)
    while True:
        value = await _next_async(reader)
        if value is _END:
            return
        yield value


def _ended(reader: _Reader) -> DBOSStreamTimeoutError:
    """The stream ended before the offset asked for: no value will ever come (no timeout)."""
    return DBOSStreamTimeoutError(reader.workflow_id, reader.key)


def read_stream_offset(
    workflow_id: str,
    key: str,
    offset: int,
    *,
    timeout_seconds: float | None = None,
    runtime: Runtime | None = None,
) -> Any:
    """The one value at `offset`, waiting for it to be written (recorded in a workflow as one
    `DBOS.readStream` step). A stream that ends before `offset` raises DBOSStreamTimeoutError,
    as a wait past `timeout_seconds` does."""
    reader = _Reader(workflow_id, key, offset, timeout_seconds, runtime, READ_OFFSET)
    value = _next(reader)
    if value is _END:
        raise _ended(reader)
    return value


async def read_stream_offset_async(
    workflow_id: str,
    key: str,
    offset: int,
    *,
    timeout_seconds: float | None = None,
    runtime: Runtime | None = None,
) -> Any:
    reader = _Reader(workflow_id, key, offset, timeout_seconds, runtime, READ_OFFSET)
    value = await _next_async(reader)
    if value is _END:
        raise _ended(reader)
    return value

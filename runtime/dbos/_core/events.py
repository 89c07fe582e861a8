"""`DBOS.set_event` and `DBOS.get_event`: a workflow publishes key/value pairs; anyone reads them.

`set_event` from a workflow is a step (`DBOS.setEvent`) whose write and record commit together;
from a step it is a plain write (the step may run again, and the latest value wins anyway).
`get_event` waits until the key is set or its timeout ends; inside a workflow it is recorded
(`DBOS.getEvent` and its durable deadline) so a replay sees what the first run saw. It returns
None at once when the workflow has finished for good (SUCCESS, ERROR or dead-lettered) without
setting the key: no value can come any more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import _clock
from .._db.records import EVENT, FINAL, now_ms
from .._error import DBOSException
from .checkpoint import (
    active_workflow,
    check_deadline,
    owned_write,
    recorded_result,
    replay,
    step_write,
    write_checkpoint,
)
from .context import current_step, current_workflow
from .formats import value_serializer
from .messages import serialize_value
from .runtime import Runtime, get_runtime, logger
from .sleeping import deadline_step, record_deadline, recorded_deadline
from .waiters import WaitKey
from .waiting import NOTHING, BlockingCall

SET_EVENT = "DBOS.setEvent"
GET_EVENT = "DBOS.getEvent"
_NEVER_SET = ("SUCCESS", "ERROR", "MAX_RECOVERY_ATTEMPTS_EXCEEDED")


def prepare_set_event(
    key: str, value: Any, serialization_type: object = None
) -> Callable[[], None] | None:
    runtime = get_runtime()
    ctx = current_workflow.get()
    if ctx is None:
        raise DBOSException("set_event() must be called from within a workflow or step")
    serializer = value_serializer(runtime, serialization_type)
    text = serialize_value(serializer, value, f"The value of event {key!r}")
    fmt = serializer.name()
    in_step = current_step.get()
    if in_step is not None:
        function_id = in_step.step_id

        def write_from_step() -> None:
            with owned_write(runtime, ctx):
                runtime.sysdb.messages.set_event(
                    ctx.workflow_id, ctx.owner, function_id, key, text, fmt, None
                )

        return write_from_step
    step_id = ctx.take_step_id()
    if ctx.recorded and replay(ctx, step_id, SET_EVENT) is not None:
        return None
    check_deadline(runtime, ctx)
    logger.debug("Running set_event, id: %d, key: %s", step_id, key)
    step = step_write(ctx, step_id, SET_EVENT, now_ms())

    def write() -> None:
        with owned_write(runtime, ctx):
            runtime.sysdb.messages.set_event(
                ctx.workflow_id, ctx.owner, step_id, key, text, fmt, step
            )

    return write


def set_event(key: str, value: Any, serialization_type: object = None) -> None:
    write = prepare_set_event(key, value, serialization_type)
    if write is not None:
        write()


class GetEvent(BlockingCall):
    def __init__(
        self,
        workflow_id: str,
        key: str,
        timeout_seconds: float,
        runtime: Runtime | None = None,
    ) -> None:
        self.runtime = runtime or get_runtime()
        self.workflow_id = workflow_id
        self.key = key
        self.timeout_seconds = timeout_seconds
        self.keys = (WaitKey(EVENT, workflow_id, key), WaitKey(FINAL, workflow_id))
        self.ctx = ctx = active_workflow() if runtime is None else None
        self.started_at = now_ms()
        if ctx is None:
            self.deadline = _clock.now() + max(timeout_seconds, 0.0)
            return
        self.step_id = ctx.take_step_id()
        self.sleep_id = ctx.take_step_id()
        self.started_at = ctx.begin_blocking(self.step_id)
        record = replay(ctx, self.step_id, GET_EVENT) if ctx.recorded else None
        if record is not None:
            self.done, self.value = True, recorded_result(self.runtime, record)
            return
        check_deadline(self.runtime, ctx)
        logger.debug("Running get_event, id: %d, key: %s", self.step_id, key)
        self.deadline = recorded_deadline(self.runtime, ctx, self.sleep_id)

    def first_miss(self) -> float:
        assert self.ctx is not None
        return record_deadline(self.runtime, self.ctx, self.sleep_id, self.timeout_seconds)

    def check(self) -> Any:
        """(stored text, format) once set; (None, None) once it never can be; else NOTHING."""
        status, text, fmt = self.runtime.sysdb.messages.get_event(self.workflow_id, self.key)
        if text is not None:
            return text, fmt
        if status in _NEVER_SET:
            return None, None
        return NOTHING

    def finish(self, found: Any) -> Any:
        text, fmt = (None, None) if found is NOTHING else found
        value = self.runtime.decode(text, fmt)
        if self.ctx is not None:
            if text is not None and fmt != self.runtime.serializer.name():
                text = self.runtime.serializer.serialize(value)  # checkpoints use ours
            deadline = deadline_step(
                self.runtime, self.ctx, self.sleep_id, self.timeout_seconds, self.started_at
            )
            write_checkpoint(
                self.runtime,
                self.ctx,
                self.step_id,
                GET_EVENT,
                text,
                None,
                self.started_at,
                companion=deadline,
            )
        return value


def get_all_events(workflow_id: str) -> dict[str, Any]:
    runtime = get_runtime()
    rows = runtime.sysdb.messages.get_all_events(workflow_id)
    return {str(key): runtime.decode(value, fmt) for key, value, fmt in rows}

"""The `DBOS` members that move data between workflows: receiving messages, events and streams
(sending messages is `messaging.py`, shared with `DBOSClient`).

A mixin of `DBOS` (see `dbos.py`) so the facade stays one class for users and small modules for
us. Each async variant takes its step numbers at call time, before its first `await`, so
concurrent calls in one workflow (`asyncio.gather`) number their steps in call order.
"""

from __future__ import annotations

from typing import Any

from .._core import events as _events
from .._core import messages as _messages
from .._core import streams as _streams
from .._core.control import _as_step
from .._core.offload import off_loop, refuse_on_loop
from .._core.waiting import run_call, run_call_async
from .._serialization import WorkflowSerializationFormat


class Communication:
    # ------------------------------------------------------------------ messages

    @classmethod
    def recv(cls, topic: str | None = None, timeout_seconds: float = 60) -> Any:
        """The oldest message of `topic` sent to this workflow, waiting up to `timeout_seconds`
        for one (None if none came). Workflows only."""
        refuse_on_loop("recv")
        return run_call(_messages.Receive(topic, timeout_seconds))

    @classmethod
    async def recv_async(cls, topic: str | None = None, timeout_seconds: float = 60) -> Any:
        return await run_call_async(_messages.Receive(topic, timeout_seconds))

    # ------------------------------------------------------------------ events

    @classmethod
    def set_event(
        cls,
        key: str,
        value: Any,
        *,
        serialization_type: WorkflowSerializationFormat | None = None,
    ) -> None:
        """Publish `value` under `key` for this workflow (the latest value wins), in the
        workflow's format unless `serialization_type` names another."""
        refuse_on_loop("set_event")
        _events.set_event(key, value, serialization_type)

    @classmethod
    async def set_event_async(
        cls,
        key: str,
        value: Any,
        *,
        serialization_type: WorkflowSerializationFormat | None = None,
    ) -> None:
        write = _events.prepare_set_event(key, value, serialization_type)
        if write is not None:
            await off_loop(write)

    @classmethod
    def get_event(cls, workflow_id: str, key: str, timeout_seconds: float = 60) -> Any:
        """The value of `key` set by workflow `workflow_id`, waiting up to `timeout_seconds`
        for it to be set (None if it was not)."""
        refuse_on_loop("get_event")
        return run_call(_events.GetEvent(workflow_id, key, timeout_seconds))

    @classmethod
    async def get_event_async(cls, workflow_id: str, key: str, timeout_seconds: float = 60) -> Any:
        return await run_call_async(_events.GetEvent(workflow_id, key, timeout_seconds))

    @classmethod
    def get_all_events(cls, workflow_id: str) -> dict[str, Any]:
        refuse_on_loop("get_all_events")
        return _as_step("DBOS.get_events", _events.get_all_events, workflow_id)  # type: ignore[no-any-return]

    @classmethod
    async def get_all_events_async(cls, workflow_id: str) -> dict[str, Any]:
        return await off_loop(cls.get_all_events, workflow_id)

    # ------------------------------------------------------------------ streams

    @classmethod
    def write_stream(
        cls,
        key: str,
        value: Any,
        *,
        serialization_type: WorkflowSerializationFormat | None = None,
    ) -> None:
        """Append `value` to this workflow's stream `key` (from a workflow or a step), in the
        workflow's format unless `serialization_type` names another."""
        refuse_on_loop("write_stream")
        _streams.write_stream(key, value, serialization_type)

    @classmethod
    async def write_stream_async(
        cls,
        key: str,
        value: Any,
        *,
        serialization_type: WorkflowSerializationFormat | None = None,
    ) -> None:
        append = _streams.prepare_write(key, value, False, serialization_type)
        if append is not None:
            await off_loop(append)

    @classmethod
    def close_stream(cls, key: str) -> None:
        """End this workflow's stream `key`: readers stop after its last value."""
        refuse_on_loop("close_stream")
        _streams.close_stream(key)

    @classmethod
    async def close_stream_async(cls, key: str) -> None:
        append = _streams.prepare_write(key, None, closing=True)
        if append is not None:
            await off_loop(append)

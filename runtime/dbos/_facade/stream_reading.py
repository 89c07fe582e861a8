"""Reading a workflow's streams, for `DBOS` and `DBOSClient` alike (writing is a workflow's own
business: `DBOS.write_stream` in `communication.py`). Read by `DBOS` inside a workflow, each value
is recorded, so a replay yields what the first run saw; a client's reads are never recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from .._core import streams as _streams
from .operations import Caller, async_operation, operation


@operation(None)  # records its own steps, one per value
def _read_stream(
    caller: Caller,
    workflow_id: str,
    key: str,
    *,
    offset: int = 0,
    timeout_seconds: float | None = None,
    polling_interval_sec: float | None = None,
) -> Iterator[Any]:
    """The values of stream `key` of workflow `workflow_id` in write order, from `offset`,
    waiting for new ones until the stream is closed or the workflow has finished.
    `timeout_seconds` bounds the wait for each value (DBOSStreamTimeoutError);
    `polling_interval_sec` is accepted for upstream compatibility (waits wake on the write)."""
    return _streams.read_stream(
        workflow_id,
        key,
        offset=offset,
        timeout_seconds=timeout_seconds,
        runtime=caller.handle_runtime(),
    )


@operation(None, blocking=False)
def _read_stream_async(
    caller: Caller,
    workflow_id: str,
    key: str,
    *,
    offset: int = 0,
    timeout_seconds: float | None = None,
    polling_interval_sec: float | None = None,
) -> AsyncIterator[Any]:
    """`read_stream` as an async iterator: its waits hold no thread."""
    return _streams.read_stream_async(
        workflow_id,
        key,
        offset=offset,
        timeout_seconds=timeout_seconds,
        runtime=caller.handle_runtime(),
    )


@operation(None)
def _read_stream_offset(
    caller: Caller,
    workflow_id: str,
    key: str,
    offset: int,
    *,
    timeout_seconds: float | None = None,
    polling_interval_sec: float | None = None,
) -> Any:
    """The one value at `offset` of the stream, waiting for it to be written; a stream that
    ends before it raises DBOSStreamTimeoutError, as a wait past `timeout_seconds` does."""
    return _streams.read_stream_offset(
        workflow_id,
        key,
        offset,
        timeout_seconds=timeout_seconds,
        runtime=caller.handle_runtime(),
    )


@async_operation(None)
async def _read_stream_offset_async(
    caller: Caller,
    workflow_id: str,
    key: str,
    offset: int,
    *,
    timeout_seconds: float | None = None,
    polling_interval_sec: float | None = None,
) -> Any:
    """`read_stream_offset`, awaited without holding a thread."""
    return await _streams.read_stream_offset_async(
        workflow_id,
        key,
        offset,
        timeout_seconds=timeout_seconds,
        runtime=caller.handle_runtime(),
    )


class StreamReading:
    read_stream = _read_stream
    read_stream_async = _read_stream_async
    read_stream_offset = _read_stream_offset
    read_stream_offset_async = _read_stream_offset_async

"""Streams on both backends: write order, close, end with the workflow, offsets, timeouts,
checkpointed reads inside workflows, async readers."""

from __future__ import annotations

import asyncio
import threading

import pytest

from dbos import DBOS, SetWorkflowID
from dbos.error import DBOSException, DBOSNonExistentWorkflowError, DBOSStreamTimeoutError

gate = threading.Event()


@DBOS.workflow()
def writer(values: list[object], close: bool) -> int:
    for v in values:
        DBOS.write_stream("tokens", v)
    if close:
        DBOS.close_stream("tokens")
    return len(values)


@DBOS.workflow()
def gated_writer(n: int) -> None:
    for i in range(n):
        gate.wait(10)
        gate.clear()
        DBOS.write_stream("tokens", f"token-{i}")
    DBOS.close_stream("tokens")


@DBOS.step()
def stream_from_step(n: int) -> None:
    for i in range(n):
        DBOS.write_stream("s", i)


@DBOS.workflow()
def writes_in_a_step() -> None:
    stream_from_step(3)
    DBOS.close_stream("s")


@DBOS.workflow()
def reads_a_stream(workflow_id: str) -> list[object]:
    return list(DBOS.read_stream(workflow_id, "tokens"))


def test_values_come_back_in_write_order_until_close(dbos: None) -> None:
    with SetWorkflowID("w1"):
        writer(["a", {"b": 1}, None, 3], True)
    assert list(DBOS.read_stream("w1", "tokens")) == ["a", {"b": 1}, None, 3]
    assert list(DBOS.read_stream("w1", "tokens", offset=2)) == [None, 3]
    names = [s["function_name"] for s in DBOS.list_workflow_steps("w1")]
    assert names == ["DBOS.writeStream"] * 4 + ["DBOS.closeStream"]


def test_a_stream_ends_with_its_workflow_even_unclosed(dbos: None) -> None:
    with SetWorkflowID("w2"):
        writer([1, 2], False)
    assert list(DBOS.read_stream("w2", "tokens")) == [1, 2]
    assert list(DBOS.read_stream("w2", "other-key")) == []


def test_live_reading_interleaves_with_writing(dbos: None) -> None:
    gate.clear()
    with SetWorkflowID("interleaved"):
        DBOS.start_workflow(gated_writer, 4)
    got: list[object] = []
    gate.set()  # let the first value be written
    for value in DBOS.read_stream("interleaved", "tokens", timeout_seconds=10):
        got.append(value)
        gate.set()  # each value is written only after the previous one was read
    assert got == ["token-0", "token-1", "token-2", "token-3"]


def test_writes_from_a_step_and_errors_outside(dbos: None) -> None:
    with SetWorkflowID("from-step"):
        writes_in_a_step()
    assert list(DBOS.read_stream("from-step", "s")) == [0, 1, 2]
    with pytest.raises(DBOSException, match="within a workflow or step"):
        DBOS.write_stream("s", 1)
    with pytest.raises(DBOSNonExistentWorkflowError):
        list(DBOS.read_stream("nobody", "s"))


def test_a_reader_times_out_between_values(dbos: None) -> None:
    gate.clear()
    with SetWorkflowID("stalled"):
        DBOS.start_workflow(gated_writer, 2)
    with pytest.raises(DBOSStreamTimeoutError):
        list(DBOS.read_stream("stalled", "tokens", timeout_seconds=0.2))
    gate.set()


def test_reading_inside_a_workflow_is_recorded_per_value(dbos: None) -> None:
    with SetWorkflowID("src"):
        writer(["x", "y"], True)
    with SetWorkflowID("consumer"):
        assert reads_a_stream("src") == ["x", "y"]
    steps = DBOS.list_workflow_steps("consumer")
    assert [(s["function_id"], s["function_name"]) for s in steps] == [
        (1, "DBOS.readStream"),
        (2, "DBOS.readStream"),
        (3, "DBOS.readStream"),  # the end is recorded too
    ]
    forked = DBOS.fork_workflow("consumer", 3)  # replays the two values, reads the end live
    assert forked.get_result() == ["x", "y"]


@DBOS.workflow()
async def async_writer(n: int) -> None:
    for i in range(n):
        await DBOS.write_stream_async("tokens", i)
    await DBOS.close_stream_async("tokens")


def test_async_reader_and_writer(dbos: None) -> None:
    async def main() -> list[object]:
        with SetWorkflowID("async-w"):
            await DBOS.start_workflow_async(async_writer, 4)
        return [v async for v in DBOS.read_stream_async("async-w", "tokens")]

    assert asyncio.run(main()) == [0, 1, 2, 3]


@DBOS.workflow()
def reads_two_offsets(workflow_id: str) -> list[object]:
    return [
        DBOS.read_stream_offset(workflow_id, "tokens", 2),
        "then",
        DBOS.read_stream_offset(workflow_id, "tokens", 0),
    ]


def test_one_value_at_an_offset(dbos: None) -> None:
    with SetWorkflowID("w-off"):
        writer(["a", "b", "c"], True)
    assert DBOS.read_stream_offset("w-off", "tokens", 1) == "b"
    assert asyncio.run(DBOS.read_stream_offset_async("w-off", "tokens", 2)) == "c"
    # Past the end of a closed stream no value will ever come: raised at once.
    with pytest.raises(DBOSStreamTimeoutError):
        DBOS.read_stream_offset("w-off", "tokens", 3)
    with SetWorkflowID("w-off-reader"):
        assert reads_two_offsets("w-off") == ["c", "then", "a"]
    names = [s["function_name"] for s in DBOS.list_workflow_steps("w-off-reader")]
    assert names == ["DBOS.readStreamOffset"] * 2
    # A fork replays the recorded reads (the stream's writer is gone by then).
    DBOS.delete_workflow("w-off")
    assert DBOS.fork_workflow("w-off-reader", 3).get_result() == ["c", "then", "a"]


def test_an_offset_not_yet_written_is_waited_for(dbos: None) -> None:
    gate.clear()
    with SetWorkflowID("w-off-live"):
        DBOS.start_workflow(gated_writer, 2)
    threading.Timer(0.2, gate.set).start()
    assert DBOS.read_stream_offset("w-off-live", "tokens", 0, timeout_seconds=10) == "token-0"
    with pytest.raises(DBOSStreamTimeoutError):
        DBOS.read_stream_offset("w-off-live", "tokens", 1, timeout_seconds=0.2)
    gate.set()


def test_a_client_reads_streams_sync_and_async_without_recording(
    dbos: None, system_database_url: str
) -> None:
    from dbos import DBOSClient

    with SetWorkflowID("w-client"):
        writer([1, 2, 3], True)
    with DBOSClient(system_database_url=system_database_url) as client:
        assert list(client.read_stream("w-client", "tokens", offset=1)) == [2, 3]

        async def read_all() -> list[object]:
            return [v async for v in client.read_stream_async("w-client", "tokens")]

        assert asyncio.run(read_all()) == [1, 2, 3]
        assert client.read_stream_offset("w-client", "tokens", 0) == 1
        assert asyncio.run(client.read_stream_offset_async("w-client", "tokens", 2)) == 3


@DBOS.workflow()
async def writes_a_hundred_at_once() -> None:
    async def write(i: int) -> None:
        await DBOS.write_stream_async("burst", i)

    await asyncio.gather(*(write(i) for i in range(100)))
    await DBOS.close_stream_async("burst")


def test_concurrent_writes_of_one_workflow_all_land(dbos: None) -> None:
    """A hundred writes to one stream from one workflow at once: each takes the next offset,
    none is mistaken for a lost ownership (the writes of a group commit must not race each
    other for an offset in two transactions at once)."""
    with SetWorkflowID("stream-burst"):
        asyncio.run(writes_a_hundred_at_once())
    assert sorted(DBOS.read_stream("stream-burst", "burst")) == list(range(100))

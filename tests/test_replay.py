"""Replay of recorded histories (`dbos.testing.replay`, `export_history`): the current code runs
against a history without running a step or touching the database it came from; the first step
the history lacks ends the replay (success); another step name at a recorded number, a return
before the recorded steps are used up, or an error the recorded run did not raise is a
divergence naming the file and line of the call.

A "code change" here is a workflow registered again under its name (the later definition wins,
as after a deploy) or a module-level switch the workflow reads; `tests/test_replay_cli.py`
changes real source files between processes."""

from __future__ import annotations

import asyncio
import json
import pickle
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import query_system_sql

from dbos import DBOS, PickleSerializer, SetWorkflowID, WorkflowSerializationFormat
from dbos.error import DBOSException
from dbos.testing import (
    FORMAT_VERSION,
    HistoryError,
    ReplayDivergenceError,
    export_history,
    parse_history,
    replay,
)

HERE = Path(__file__).name
RAN: list[str] = []  # every step body that actually ran
VERSION = {"v": 1}  # what the "deployed" code looks like


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    RAN.clear()
    VERSION["v"] = 1
    yield
    VERSION["v"] = 1


def line_of(marker: str) -> int:
    """The line of this file that carries `# <- marker`."""
    for number, text in enumerate(Path(__file__).read_text().splitlines(), start=1):
        if text.rstrip().endswith(f"# <- {marker}"):
            return number
    raise AssertionError(f"no line marked {marker}")


def run_to_end(workflow: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    workflow_id = f"rp-{uuid.uuid4().hex[:10]}"
    with SetWorkflowID(workflow_id):
        result = workflow(*args)
    return workflow_id, result


def wait_for_step(workflow_id: str, name: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(s["function_name"] == name for s in DBOS.list_workflow_steps(workflow_id)):
            return
        time.sleep(0.02)
    raise AssertionError(f"{workflow_id} never recorded {name}")


# ------------------------------------------------------------------------------ the app


@DBOS.step()
def rp_reserve(order: str) -> str:
    RAN.append("reserve")
    return f"r-{order}"


@DBOS.step()
def rp_charge(order: str) -> int:
    RAN.append("charge")
    return 42


@DBOS.step()
def rp_audit(order: str) -> None:
    RAN.append("audit")


@DBOS.workflow()
def rp_checkout(order: str) -> str:
    reserved = rp_reserve(order)
    if VERSION["v"] == 2:
        rp_audit(order)  # <- inserted audit
    if VERSION["v"] == 3:
        raise ValueError("new validation")  # <- new raise
    if VERSION["v"] == 4:
        return reserved  # the new code stops early
    DBOS.sleep(0.01)
    paid = rp_charge(order)
    DBOS.set_event("paid", paid)
    return f"{reserved}:{paid}"


def test_a_finished_run_replays_without_running_a_step(dbos: None) -> None:
    workflow_id, result = run_to_end(rp_checkout, "o1")
    history = export_history(workflow_id)
    assert history["format_version"] == FORMAT_VERSION
    assert [s["name"] for s in history["steps"]] == [
        "rp_reserve",
        "DBOS.sleep",
        "rp_charge",
        "DBOS.setEvent",
    ]
    RAN.clear()
    [outcome] = replay(history)
    assert RAN == []
    assert (outcome.workflow_id, outcome.workflow_name) == (workflow_id, "rp_checkout")
    assert outcome.result == result == "r-o1:42"
    assert outcome.steps_replayed == 4
    assert outcome.ended_at is None


def test_another_step_at_a_recorded_number_is_a_divergence_at_its_call(dbos: None) -> None:
    workflow_id, _ = run_to_end(rp_checkout, "o2")
    history = export_history(workflow_id)
    VERSION["v"] = 2
    RAN.clear()
    with pytest.raises(ReplayDivergenceError) as caught:
        replay(history)
    err = caught.value
    assert (err.workflow_id, err.step_id, err.recorded, err.called) == (
        workflow_id,
        2,
        "DBOS.sleep",
        "rp_audit",
    )
    assert (err.filename, err.lineno) == (f"tests/{HERE}", line_of("inserted audit"))
    assert str(err) == (
        f"tests/{HERE}:{err.lineno}: workflow {workflow_id} step 2: "
        "recorded DBOS.sleep, called rp_audit"
    )
    assert isinstance(err, AssertionError) and isinstance(err, DBOSException)
    copy = pickle.loads(pickle.dumps(err))  # crosses processes (xdist, a worker's report)
    assert (str(copy), copy.workflow_name, copy.lineno) == (str(err), "rp_checkout", err.lineno)
    assert RAN == []


def test_an_error_the_recorded_run_did_not_raise_is_a_divergence(dbos: None) -> None:
    workflow_id, _ = run_to_end(rp_checkout, "o3")
    VERSION["v"] = 3
    with pytest.raises(ReplayDivergenceError) as caught:
        replay(export_history(workflow_id))
    err = caught.value
    assert (err.step_id, err.recorded) == (2, "DBOS.sleep")
    assert err.called.startswith("nothing: the workflow raised ValueError: new validation")
    assert err.lineno == line_of("new raise")


def test_returning_before_the_recorded_steps_are_used_up_is_a_divergence(dbos: None) -> None:
    workflow_id, _ = run_to_end(rp_checkout, "o4")
    VERSION["v"] = 4
    with pytest.raises(ReplayDivergenceError) as caught:
        replay(export_history(workflow_id))
    err = caught.value
    assert (err.step_id, err.recorded) == (2, "DBOS.sleep")
    assert err.called == "nothing: the workflow returned"
    assert err.filename == f"tests/{HERE}"  # the workflow's definition


def test_a_workflow_swallowing_everything_still_diverges(dbos: None) -> None:
    @DBOS.workflow(name="rp_swallower")
    def v1() -> str:
        rp_reserve("s")
        return rp_charge("s") and "done"

    workflow_id, _ = run_to_end(v1)

    @DBOS.workflow(name="rp_swallower")
    def v2() -> str:
        rp_reserve("s")
        try:
            rp_audit("s")  # <- swallowed divergence
        except BaseException:  # noqa: BLE001 - the point of the test
            pass
        return "done"

    with pytest.raises(ReplayDivergenceError) as caught:
        replay(export_history(workflow_id))
    assert (caught.value.step_id, caught.value.recorded, caught.value.called) == (
        2,
        "rp_charge",
        "rp_audit",
    )
    assert caught.value.lineno == line_of("swallowed divergence")


# ------------------------------------------------------------------------------ in flight


@DBOS.step()
def rp_prepare() -> str:
    RAN.append("prepare")
    return "prepared"


@DBOS.workflow()
def rp_wait_for_payment() -> str:
    rp_prepare()
    payment = DBOS.recv("payment", timeout_seconds=60)
    return f"paid {payment}"


def test_an_in_flight_history_ends_where_the_run_stands(dbos: None) -> None:
    handle = DBOS.start_workflow(rp_wait_for_payment)
    wait_for_step(handle.workflow_id, "DBOS.sleep")  # the recv's deadline, written before it waits
    in_flight = export_history(handle.workflow_id)
    assert in_flight["workflow"]["status"] == "PENDING"
    DBOS.send(handle.workflow_id, {"cents": 500}, "payment")
    assert handle.get_result() == "paid {'cents': 500}"
    finished = export_history(handle.workflow_id)
    assert [m["consumed"] for m in finished["messages"]] == [True]

    RAN.clear()
    pending, done = replay([in_flight, finished])
    assert RAN == []
    assert pending.ended_at == (2, "DBOS.recv")
    assert pending.steps_replayed == 1
    assert done.ended_at is None and done.result == "paid {'cents': 500}"


@DBOS.step()
def rp_after_sleep() -> str:
    RAN.append("after")
    return "woke"


@DBOS.workflow()
def rp_sleeper() -> str:
    DBOS.sleep(3600)
    return rp_after_sleep()


def test_a_recorded_sleep_is_not_waited_out(dbos: None) -> None:
    handle = DBOS.start_workflow(rp_sleeper)
    wait_for_step(handle.workflow_id, "DBOS.sleep")
    history = export_history(handle.workflow_id)
    DBOS.cancel_workflow(handle.workflow_id)
    started = time.monotonic()
    [outcome] = replay(history)
    assert time.monotonic() - started < 30  # not an hour
    assert outcome.ended_at == (2, "rp_after_sleep")
    assert RAN == []


# ------------------------------------------------------------------------------ children


@DBOS.step()
def rp_child_step(n: int) -> int:
    RAN.append(f"child{n}")
    return n * 10


@DBOS.workflow()
def rp_child(n: int) -> int:
    return rp_child_step(n)


@DBOS.workflow()
def rp_parent() -> int:
    direct = rp_child(1)
    handle = DBOS.start_workflow(rp_child, 2)
    return direct + handle.get_result()


def test_children_are_exported_with_their_parent_and_never_run_by_its_replay(dbos: None) -> None:
    workflow_id, result = run_to_end(rp_parent)
    family = export_history(workflow_id, with_children=True)
    assert [h["workflow"]["name"] for h in family] == ["rp_parent", "rp_child", "rp_child"]
    assert family[0]["children"] == [h["workflow"]["workflow_id"] for h in family[1:]]
    RAN.clear()
    outcomes = replay(family)
    assert RAN == []
    assert [o.result for o in outcomes] == [result, 10, 20]


# ------------------------------------------------------------------------------ errors


@DBOS.step()
def rp_flaky() -> None:
    raise ConnectionError("card network down")


@DBOS.workflow()
def rp_with_fallback() -> str:
    try:
        rp_flaky()
    except ConnectionError:
        return "fallback"
    return "direct"


@DBOS.workflow()
def rp_failing() -> None:
    rp_flaky()


def test_recorded_errors_are_raised_again_and_a_failed_run_replays(dbos: None) -> None:
    fallback_id, _ = run_to_end(rp_with_fallback)
    failed_id = f"rp-{uuid.uuid4().hex[:10]}"
    with SetWorkflowID(failed_id), pytest.raises(ConnectionError):
        rp_failing()
    caught, failed = replay([export_history(fallback_id), export_history(failed_id)])
    assert caught.result == "fallback"
    assert isinstance(failed.error, ConnectionError)
    assert str(failed.error) == "card network down"


# ------------------------------------------------------------------------------ async


@DBOS.step()
async def rp_fetch(n: int) -> int:
    RAN.append(f"fetch{n}")
    return n


def test_async_workflows_replay_and_diverge_at_the_awaiting_line(dbos: None) -> None:
    @DBOS.workflow(name="rp_gatherer")
    async def rp_gatherer_v1() -> int:
        values = await asyncio.gather(rp_fetch(1), rp_fetch(2))
        return sum(values)

    workflow_id = f"rp-{uuid.uuid4().hex[:10]}"

    async def run() -> int:
        with SetWorkflowID(workflow_id):
            return await rp_gatherer_v1()

    assert asyncio.run(run()) == 3
    history = export_history(workflow_id)
    RAN.clear()
    assert replay(history)[0].result == 3
    assert RAN == []

    @DBOS.workflow(name="rp_gatherer")
    async def rp_gatherer_v2() -> int:
        first = await rp_fetch(1)
        second = await rp_audit_async(2)  # <- async divergence
        return first + second

    with pytest.raises(ReplayDivergenceError) as caught:
        replay(history)
    assert (caught.value.step_id, caught.value.recorded, caught.value.called) == (
        2,
        "rp_fetch",
        "rp_audit_async",
    )
    assert caught.value.lineno == line_of("async divergence")

    @DBOS.workflow(name="rp_gatherer")
    async def rp_gatherer_v3() -> int:
        values = await asyncio.gather(rp_fetch(1), rp_audit_async(2))  # <- gathered divergence
        return sum(values)

    with pytest.raises(ReplayDivergenceError) as caught:
        replay(history)
    assert (caught.value.step_id, caught.value.called) == (2, "rp_audit_async")
    assert caught.value.lineno == line_of("gathered divergence")
    assert RAN == []


@DBOS.step()
async def rp_audit_async(n: int) -> int:
    RAN.append("audit_async")
    return n


def test_replay_works_from_inside_an_event_loop(dbos: None) -> None:
    workflow_id, _ = run_to_end(rp_checkout, "loop")
    history = export_history(workflow_id)

    async def in_a_loop() -> Any:
        return replay(history)[0].result  # an async test, an async web handler...

    assert asyncio.run(in_a_loop()) == "r-loop:42"


# ------------------------------------------------------------------------------ isolation


def test_replay_touches_neither_the_source_database_nor_the_launched_dbos(
    dbos: None, system_database_url: str
) -> None:
    workflow_id, _ = run_to_end(rp_checkout, "iso")
    history = export_history(workflow_id)
    before = query_system_sql(
        system_database_url,
        "SELECT workflow_uuid, status, updated_at FROM {prefix}workflow_status ORDER BY 1",
    )
    steps_before = query_system_sql(
        system_database_url, "SELECT count(*) FROM {prefix}operation_outputs"
    )
    assert replay([history, history])[1].result == "r-iso:42"
    assert DBOS.get_result(workflow_id) == "r-iso:42"  # the launched DBOS still works
    after = query_system_sql(
        system_database_url,
        "SELECT workflow_uuid, status, updated_at FROM {prefix}workflow_status ORDER BY 1",
    )
    assert after == before
    assert (
        query_system_sql(system_database_url, "SELECT count(*) FROM {prefix}operation_outputs")
        == steps_before
    )


def test_replay_needs_no_database_and_no_launched_dbos(dbos: None) -> None:
    workflow_id, _ = run_to_end(rp_checkout, "gone")
    history = json.dumps(export_history(workflow_id))
    DBOS.destroy()
    RAN.clear()
    assert replay(json.loads(history))[0].result == "r-gone:42"
    assert RAN == []


# ------------------------------------------------------------------------------ bad input


def test_bad_histories_are_refused_before_anything_runs(dbos: None, tmp_path: Path) -> None:
    workflow_id, _ = run_to_end(rp_checkout, "bad")
    good = export_history(workflow_id)
    RAN.clear()

    newer = {**good, "format_version": FORMAT_VERSION + 1}
    with pytest.raises(HistoryError, match="format version 2 is newer than version 1"):
        replay([good, newer])
    unknown = {**good, "workflow": {**good["workflow"], "name": "no_such_workflow"}}
    with pytest.raises(HistoryError, match="no workflow named 'no_such_workflow' in this code"):
        replay([good, unknown])
    truncated = tmp_path / "truncated.json"
    truncated.write_text(json.dumps(good)[:200])
    with pytest.raises(HistoryError, match=r"truncated.json: not valid JSON \(truncated\?\)"):
        replay(truncated)
    lacking = {**good, "steps": [{"step_id": 1}]}
    with pytest.raises(HistoryError, match=r"steps\[0\] lacks 'name'"):
        replay(lacking)
    with pytest.raises(HistoryError, match="not a workflow history"):
        parse_history({"steps": []})
    assert RAN == []
    for error in (HistoryError("x"),):
        assert isinstance(error, DBOSException) and isinstance(error, ValueError)


def test_values_in_a_format_not_configured_are_bad_input(dbos: None) -> None:
    workflow_id, _ = run_to_end(rp_checkout, "fmt")
    history = export_history(workflow_id)
    history["steps"][0]["serialization"] = PickleSerializer().name()
    RAN.clear()
    with pytest.raises(HistoryError, match="a stored value is in format 'py_pickle'"):
        replay(history)  # never unpickled without the user's opt-in
    assert RAN == []


@DBOS.workflow(serialization_type=WorkflowSerializationFormat.PORTABLE)
def rp_portable(order: str, when: datetime, *, qty: int) -> dict[str, Any]:
    reserved = rp_reserve(order)
    if VERSION["v"] == 2:
        rp_audit(order)  # <- portable audit
    DBOS.send(DBOS.workflow_id or "", {"qty": qty}, "self")
    got = DBOS.recv("self")
    DBOS.set_event("placed", {"when": when, "got": got})
    return {"reserved": reserved, "when": when, "kind": type(when).__name__, "got": got}


def test_a_portable_workflow_exports_its_formats_and_replays(
    dbos: None, system_database_url: str
) -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    workflow_id, first = run_to_end(lambda: rp_portable("pj", when, qty=3))
    assert first["kind"] == "datetime"
    history = export_history(workflow_id)
    # Every value goes out as stored, with its own row's format: the workflow's in the
    # portable format (its arguments as the positionalArgs/namedArgs envelope), the steps'
    # in this process's native one, the event in the workflow's.
    [(inputs, output, fmt)] = query_system_sql(
        system_database_url,
        "SELECT inputs, output, serialization FROM {prefix}workflow_status "
        f"WHERE workflow_uuid = '{workflow_id}'",
    )
    workflow = history["workflow"]
    assert (workflow["inputs"], workflow["output"], workflow["serialization"]) == (
        inputs,
        output,
        fmt,
    )
    assert fmt == "portable_json"
    assert json.loads(str(inputs)) == {
        "positionalArgs": ["pj", "2024-01-02T03:04:05.678Z"],
        "namedArgs": {"qty": 3},
    }
    stored_steps = query_system_sql(
        system_database_url,
        "SELECT function_id, function_name, output, serialization FROM {prefix}operation_outputs "
        f"WHERE workflow_uuid = '{workflow_id}' ORDER BY function_id",
    )
    assert [
        (s["step_id"], s["name"], s["output"], s["serialization"]) for s in history["steps"]
    ] == [tuple(row) for row in stored_steps]
    assert [s["name"] for s in history["steps"]] == [
        "rp_reserve",
        "DBOS.send",
        "DBOS.recv",
        "DBOS.sleep",  # the recv's deadline, recorded with the message it took (as upstream)
        "DBOS.setEvent",
    ]
    [event] = history["events"]
    assert (event["key"], event["serialization"]) == ("placed", "portable_json")
    assert json.loads(event["value"]) == {
        "when": "2024-01-02T03:04:05.678Z",
        "got": {"qty": 3},
    }
    [message] = history["messages"]
    assert message["topic"] == "self" and message["serialization"] is not None

    RAN.clear()
    [outcome] = replay(json.loads(json.dumps(history)))  # as read back from a file
    assert RAN == []
    assert outcome.steps_replayed == 5 and outcome.ended_at is None  # the recv's deadline too
    # The arguments were read from the portable envelope (their row's format), the datetime
    # restored from the annotation as recovery restores it; the steps' values in their own.
    assert (
        outcome.result
        == first
        == {
            "reserved": "r-pj",
            "when": when,
            "kind": "datetime",
            "got": {"qty": 3},
        }
    )

    VERSION["v"] = 2
    with pytest.raises(ReplayDivergenceError) as caught:
        replay(history)
    err = caught.value
    assert (err.step_id, err.recorded, err.called) == (2, "DBOS.send", "rp_audit")
    assert (err.filename, err.lineno) == (f"tests/{HERE}", line_of("portable audit"))
    assert RAN == []


# ------------------------------------------------------------ patching and transactions


@pytest.fixture
def patching(system_database_url: str) -> Iterator[None]:
    DBOS.destroy()
    DBOS(
        config={
            "name": "replay-patching",
            "system_database_url": system_database_url,
            "enable_patching": True,
            "log_level": "WARNING",
        }
    )
    DBOS.launch()
    yield
    DBOS.destroy()


def test_patched_code_replays_old_runs_on_the_old_path(patching: None) -> None:
    @DBOS.workflow(name="rp_patched")
    def v1() -> str:
        return rp_reserve("p") + rp_prepare()

    old_id, _ = run_to_end(v1)
    old = export_history(old_id)

    @DBOS.workflow(name="rp_patched")
    def v2() -> str:
        first = rp_charge("p") if DBOS.patch("charge-first") else rp_reserve("p")
        return f"{first}{rp_prepare()}"

    new_id, _ = run_to_end(v2)
    new = export_history(new_id)
    assert [s["name"] for s in new["steps"]][0] == "DBOS.patch-charge-first"
    RAN.clear()
    old_outcome, new_outcome = replay([old, new])  # enable_patching from DBOS(config=...)
    assert (old_outcome.result, new_outcome.result) == ("r-pprepared", "42prepared")
    empty = {**old, "steps": []}
    assert replay(empty)[0].ended_at == (1, "DBOS.patch-charge-first")
    assert RAN == []


@DBOS.transaction()
def rp_record_order(order: str) -> str:
    RAN.append("transaction")
    return f"t-{order}"


@DBOS.workflow()
def rp_transactional(order: str) -> str:
    return rp_record_order(order) + rp_charge(order).__str__()


def test_recorded_transactions_return_their_output(dbos: None) -> None:
    workflow_id, result = run_to_end(rp_transactional, "tx")
    RAN.clear()
    assert replay(export_history(workflow_id))[0].result == result == "t-tx42"
    assert RAN == []

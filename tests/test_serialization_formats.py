"""Which format each stored value is written in: a workflow's `serialization_type`, a call's
own, the configured serializer; and that every process reads portable rows (both backends)."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timezone
from typing import Any

import pytest
from conftest import query_system_sql

from dbos import (
    DBOS,
    DBOSClient,
    DBOSPortableJSONSerializer,
    PortableWorkflowError,
    Queue,
    SetWorkflowID,
    WorkflowSerializationFormat,
)
from dbos.error import DBOSSerializationError

PORTABLE = WorkflowSerializationFormat.PORTABLE
NATIVE = WorkflowSerializationFormat.NATIVE

formats_queue = Queue("formats-queue")


@DBOS.step()
def pair(x: int) -> tuple[int, int]:
    return (x, x)


@DBOS.workflow(serialization_type=PORTABLE)
def portable_flow(when: datetime, day: date, n: int) -> dict[str, Any]:
    DBOS.set_event("default", {"t": (1, 2)})
    DBOS.set_event("native", {"t": (1, 2)}, serialization_type=NATIVE)
    DBOS.write_stream("values", (1, 2))
    DBOS.write_stream("values", (3, 4), serialization_type=NATIVE)
    DBOS.close_stream("values")
    DBOS.send(DBOS.workflow_id or "", {"m": 1}, "self")
    DBOS.send(DBOS.workflow_id or "", {"m": (2,)}, "self-native", serialization_type=NATIVE)
    return {
        "when": when,
        "types": [type(when).__name__, type(day).__name__],
        "step": pair(n),  # a step's output keeps its Python type on replay
        "messages": [DBOS.recv("self"), DBOS.recv("self-native")],
    }


@DBOS.workflow()
def native_flow() -> tuple[int, int]:
    DBOS.set_event("default", (1, 2))
    DBOS.set_event("portable", (1, 2), serialization_type=PORTABLE)
    return (1, 2)


class AppError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = 409
        self.data = object()  # no portable form: stored as its text


@DBOS.workflow(serialization_type="portable")
def portable_failure() -> None:
    raise AppError("boom")


@DBOS.workflow(serialization_type=PORTABLE)
def portable_echo(*args: Any, **kwargs: Any) -> dict[str, Any]:
    return {"args": list(args), "kwargs": kwargs}


@DBOS.workflow(serialization_type=PORTABLE)
def portable_dated(when: datetime, label: str | None = None) -> list[Any]:
    return [isinstance(when, datetime), when, label]


def _formats(url: str, table: str, key_column: str, workflow_id: str) -> list[Any]:
    return [
        r[0]
        for r in query_system_sql(
            url,
            f"SELECT serialization FROM {{prefix}}{table} WHERE {key_column} = '{workflow_id}' "
            "AND serialization IS NOT NULL ORDER BY 1",
        )
    ]


def test_a_portable_workflow_writes_its_values_portable(
    dbos: None, system_database_url: str
) -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    with SetWorkflowID("pw"):
        first = portable_flow(when, date(2024, 2, 29), 3)
    # The caller of the first run gets the body's own values ...
    assert first["when"] == when and first["step"] == (3, 3)
    assert first["messages"] == [{"m": 1}, {"m": (2,)}]
    # ... every later reader the portable JSON: no Python types.
    assert DBOS.retrieve_workflow("pw").get_result() == {
        "when": "2024-01-02T03:04:05.678Z",
        "types": ["datetime", "date"],
        "step": [3, 3],
        "messages": [{"m": 1}, {"m": [2]}],
    }
    assert DBOS.get_workflow_status("pw").input == {  # type: ignore[union-attr]
        "args": ("2024-01-02T03:04:05.678Z", "2024-02-29", 3),
        "kwargs": {},
    }
    assert DBOS.get_event("pw", "default") == {"t": [1, 2]}
    assert DBOS.get_event("pw", "native") == {"t": (1, 2)}
    assert list(DBOS.read_stream("pw", "values")) == [[1, 2], (3, 4)]

    url = system_database_url
    assert _formats(url, "workflow_status", "workflow_uuid", "pw") == ["portable_json"]
    assert _formats(url, "workflow_events", "workflow_uuid", "pw") == ["dbos_json", "portable_json"]
    assert _formats(url, "streams", "workflow_uuid", "pw") == ["dbos_json", "portable_json"]
    step_output = query_system_sql(
        url,
        "SELECT output, serialization FROM {prefix}operation_outputs "
        "WHERE workflow_uuid = 'pw' AND function_name = 'pair'",
    )
    assert [(json.loads(str(o))["__dbos__"], f) for o, f in step_output] == [("tuple", "dbos_json")]
    stored = query_system_sql(
        url, "SELECT inputs FROM {prefix}workflow_status WHERE workflow_uuid = 'pw'"
    )
    assert stored == [
        ('{"namedArgs":{},"positionalArgs":["2024-01-02T03:04:05.678Z","2024-02-29",3]}',)
    ]


def test_a_native_workflow_may_publish_one_value_portable(
    dbos: None, system_database_url: str
) -> None:
    with SetWorkflowID("nw"):
        assert native_flow() == (1, 2)
    assert DBOS.retrieve_workflow("nw").get_result() == (1, 2)
    assert DBOS.get_event("nw", "default") == (1, 2)
    assert DBOS.get_event("nw", "portable") == [1, 2]
    assert _formats(system_database_url, "workflow_status", "workflow_uuid", "nw") == ["dbos_json"]


def test_a_portable_workflows_error_reads_back_as_a_portable_workflow_error(dbos: None) -> None:
    with SetWorkflowID("pf"), pytest.raises(AppError):  # the caller gets the real error
        portable_failure()
    handle = DBOS.retrieve_workflow("pf")
    assert handle.get_status().status == "ERROR"
    with pytest.raises(PortableWorkflowError) as caught:
        handle.get_result()
    error = caught.value
    assert (error.name, error.message, error.code) == ("AppError", "boom", 409)
    assert isinstance(error.data, str) and error.data.startswith("<object object")


def test_unportable_arguments_are_refused_before_anything_is_written(
    dbos: None, system_database_url: str
) -> None:
    with pytest.raises(DBOSSerializationError, match="argument 'args'.*portable"):
        with SetWorkflowID("refused"):
            portable_echo(b"bytes")
    with pytest.raises(DBOSSerializationError, match="NaN or infinity"):
        with SetWorkflowID("refused"):
            portable_echo(x=float("nan"))
    assert (
        query_system_sql(
            system_database_url,
            "SELECT 1 FROM {prefix}workflow_status WHERE workflow_uuid = 'refused'",
        )
        == []
    )


def test_a_bad_serialization_type_is_refused_where_it_is_written(dbos: None) -> None:
    with pytest.raises(ValueError, match="serialization_type must be"):
        DBOS.workflow(serialization_type="yaml")  # type: ignore[arg-type]

    @DBOS.workflow()
    def publishes() -> None:
        DBOS.set_event("k", 1, serialization_type="xml")  # type: ignore[arg-type]

    with pytest.raises(ValueError, match="serialization_type must be"):
        publishes()


def test_a_client_enqueues_and_sends_portable_values(dbos: None, system_database_url: str) -> None:
    client = DBOSClient(system_database_url=system_database_url)
    try:
        handle = client.enqueue(
            {
                "queue_name": "formats-queue",
                "workflow_name": "portable_dated",
                "serialization_type": PORTABLE,
            },
            datetime(2030, 5, 6, 7, 8, 9, tzinfo=timezone.utc),
            label="from a client",
        )
        # Dequeued by this process from its row: the datetime comes back from the annotation.
        assert handle.get_result() == [True, "2030-05-06T07:08:09.000Z", "from a client"]
        assert _formats(
            system_database_url, "workflow_status", "workflow_uuid", handle.workflow_id
        ) == ["portable_json"]
        with pytest.raises(ValueError, match="serialization_type must be"):
            client.enqueue(
                {
                    "queue_name": "formats-queue",
                    "workflow_name": "portable_dated",
                    "serialization_type": "x",
                },  # type: ignore[typeddict-item]
            )
    finally:
        client.destroy()


@DBOS.workflow()
def receiver() -> list[Any]:
    return [DBOS.recv("a", timeout_seconds=30), DBOS.recv("b", timeout_seconds=30)]


def test_messages_keep_the_format_they_were_sent_in(dbos: None, system_database_url: str) -> None:
    handle = DBOS.start_workflow(receiver)
    client = DBOSClient(system_database_url=system_database_url)
    try:
        client.send(handle.workflow_id, (1, 2), "a", serialization_type=PORTABLE)
        DBOS.send(handle.workflow_id, (1, 2), "b")
        assert handle.get_result() == [[1, 2], (1, 2)]
    finally:
        client.destroy()


def test_a_configured_portable_serializer_writes_everything_portable(
    system_database_url: str,
) -> None:
    """The configured serializer is the portable one: step outputs too, and a step's error is
    recorded (as a PortableWorkflowError) instead of being masked by a serialization error."""

    class Custom(Exception):
        pass

    @DBOS.step()
    def failing_step() -> None:
        raise Custom("Custom error message")

    @DBOS.workflow()
    def failing_workflow() -> None:
        failing_step()

    @DBOS.workflow()
    def sum_workflow(a: int, b: int) -> int:
        return pair(a)[0] + b

    DBOS.destroy()
    DBOS(
        config={
            "name": "portable-app",
            "system_database_url": system_database_url,
            "serializer": DBOSPortableJSONSerializer(),
        }
    )
    DBOS.reset_system_database()
    DBOS.launch()
    try:
        with SetWorkflowID("sum"):
            assert sum_workflow(2, b=3) == 5
        assert DBOS.get_workflow_status("sum").input == {"args": (2,), "kwargs": {"b": 3}}  # type: ignore[union-attr]
        assert [s["output"] for s in DBOS.list_workflow_steps("sum")] == [[2, 2]]
        formats = query_system_sql(
            system_database_url,
            "SELECT DISTINCT serialization FROM {prefix}operation_outputs "
            "WHERE serialization IS NOT NULL",
        )
        assert formats == [("portable_json",)]
        with SetWorkflowID("failing"):
            handle = DBOS.start_workflow(failing_workflow)
        with pytest.raises(Custom, match="Custom error message"):
            handle.get_result()
        with pytest.raises(PortableWorkflowError) as stored:
            DBOS.retrieve_workflow("failing").get_result()
        assert (stored.value.name, stored.value.message) == ("Custom", "Custom error message")

        # A client without a serializer reads the portable rows with no opt-in.
        client = DBOSClient(system_database_url=system_database_url)
        try:
            status = client.list_workflows(workflow_ids=["sum"])[0]
            assert (status.input, status.output) == ({"args": (2,), "kwargs": {"b": 3}}, 5)
        finally:
            client.destroy()
    finally:
        DBOS.destroy()


@DBOS.workflow(serialization_type=PORTABLE)
def portable_waits(gate_id: str) -> str:
    DBOS.set_event("waiting", True)
    return str(DBOS.recv("go", timeout_seconds=30))


def test_a_fork_keeps_the_original_format(dbos: None, system_database_url: str) -> None:
    with SetWorkflowID("orig"):
        handle = DBOS.start_workflow(portable_waits, "x")
    assert DBOS.get_event("orig", "waiting", timeout_seconds=10) is True
    DBOS.send("orig", "now", "go")
    assert handle.get_result() == "now"
    forked = DBOS.fork_workflow("orig", 2)
    DBOS.send(forked.workflow_id, "later", "go")
    assert forked.get_result() == "later"
    assert _formats(
        system_database_url, "workflow_status", "workflow_uuid", forked.workflow_id
    ) == ["portable_json"]


def test_steps_of_a_portable_workflow_publish_in_its_format(
    dbos: None, system_database_url: str
) -> None:
    done = threading.Event()

    @DBOS.step()
    def publish_from_step() -> None:
        DBOS.set_event("from-step", (1,))
        done.set()

    @DBOS.workflow(serialization_type=PORTABLE)
    def publishes_in_a_step() -> None:
        publish_from_step()

    with SetWorkflowID("ps"):
        publishes_in_a_step()
    assert done.is_set()
    assert DBOS.get_event("ps", "from-step") == [1]

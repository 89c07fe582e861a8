"""Pickle is used only when the user configures it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from conftest import query_system_sql, run_system_sql

from dbos import DBOS, DBOSClient, DBOSConfig, PickleSerializer, Queue, SetWorkflowID
from dbos.error import DBOSDeserializationError, DBOSSerializationError


class Opaque:
    """Not JSON, not a dataclass, not a plain object (slots): only pickle can store it."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value


@DBOS.step()
def make_opaque(value: int) -> Opaque:
    return Opaque(value)


@DBOS.workflow()
def opaque_roundtrip(seed: Opaque) -> int:
    return make_opaque(seed.value + 1).value


def _launch(url: str, pickle: bool) -> None:
    DBOS.destroy()
    config: DBOSConfig = {"name": "pickle-app", "system_database_url": url}
    if pickle:
        config["serializer"] = PickleSerializer()
    DBOS(config=config)
    DBOS.launch()


@pytest.fixture
def url(system_database_url: str) -> Iterator[str]:
    yield system_database_url
    DBOS.destroy()


def test_default_json_serializer_refuses_arbitrary_objects(url: str) -> None:
    _launch(url, pickle=False)
    with pytest.raises(DBOSSerializationError, match="'seed'"):
        opaque_roundtrip(Opaque(1))


def test_configured_pickle_serializer_stores_them(url: str) -> None:
    _launch(url, pickle=True)
    with SetWorkflowID("pickled"):
        assert opaque_roundtrip(Opaque(1)) == 2
    status = DBOS.get_workflow_status("pickled")
    assert status is not None and status.output == 2
    assert isinstance(status.input["args"][0], Opaque)  # type: ignore[index]
    steps = DBOS.list_workflow_steps("pickled")
    assert isinstance(steps[0]["output"], Opaque)


def test_pickled_rows_are_never_unpickled_without_opting_in(url: str) -> None:
    from dbos.error import DBOSDeserializationError

    _launch(url, pickle=True)
    with SetWorkflowID("pickled-then-json"):
        assert opaque_roundtrip(Opaque(5)) == 6
    _launch(url, pickle=False)
    with pytest.raises(DBOSDeserializationError, match="py_pickle"):
        DBOS.retrieve_workflow("pickled-then-json").get_result()
    status = DBOS.get_workflow_status("pickled-then-json")
    assert status is not None and isinstance(status.output, str)  # shown raw, not unpickled


@DBOS.workflow()
def mixed_formats(n: int) -> dict[str, int]:
    return {"doubled": 2 * n}


def _serve_only(url: str, pickle: bool, queues: list[str]) -> None:
    DBOS.destroy()
    config: DBOSConfig = {"name": "pickle-app", "system_database_url": url}
    if pickle:
        config["serializer"] = PickleSerializer()
    DBOS(config=config)
    DBOS.listen_queues(queues)
    DBOS.launch()


MIXED = Queue("pickle_opt_in.mixed")


def test_an_outcome_is_written_in_the_format_of_its_inputs(url: str) -> None:
    """A client enqueues in JSON, a worker configured with pickle runs it: the row keeps one
    format, so everyone can read its output."""
    _launch(url, pickle=True)
    with DBOSClient(system_database_url=url) as client:
        handle = client.enqueue(
            {"workflow_name": mixed_formats.__qualname__, "queue_name": MIXED.name}, 21
        )
        assert handle.get_result() == {"doubled": 42}
    _launch(url, pickle=False)  # a JSON-only process reads it too
    assert DBOS.retrieve_workflow(handle.workflow_id).get_result() == {"doubled": 42}


def test_inputs_in_a_format_this_process_cannot_read_wait_for_one_that_can(
    url: str, dbos_log: pytest.LogCaptureFixture
) -> None:
    _serve_only(url, pickle=False, queues=[])  # records the queue, serves nothing yet
    DBOS.destroy()
    with DBOSClient(system_database_url=url, serializer=PickleSerializer()) as client:
        handle = client.enqueue(
            {"workflow_name": mixed_formats.__qualname__, "queue_name": MIXED.name}, 5
        )
    _serve_only(url, pickle=False, queues=[MIXED.name])
    deadline = time.monotonic() + 10
    while "handed back" not in dbos_log.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "py_pickle" in dbos_log.text and "PickleSerializer()" in dbos_log.text
    time.sleep(2.5)  # past two of the queue's next looks
    status = DBOS.get_workflow_status(handle.workflow_id)
    # Not failed, not dead-lettered: back on its queue for a process that can read it, looked
    # at again only now and then (not a loop of claims), each look's attempt given back.
    assert status is not None and status.status in ("ENQUEUED", "PENDING")
    handed_back = {id(r) for r in dbos_log.records if "handed back" in r.getMessage()}
    assert 1 <= len(handed_back) <= 4
    DBOS.destroy()
    attempts = query_system_sql(
        url,
        "SELECT status, recovery_attempts FROM {prefix}workflow_status "
        f"WHERE workflow_uuid = '{handle.workflow_id}'",
    )
    assert attempts == [("ENQUEUED", 0)]
    _serve_only(url, pickle=True, queues=[MIXED.name])
    assert DBOS.retrieve_workflow(handle.workflow_id).get_result() == {"doubled": 10}


def test_corrupt_inputs_end_in_an_error_that_reads_back(url: str) -> None:
    _serve_only(url, pickle=False, queues=[])
    DBOS.destroy()
    with DBOSClient(system_database_url=url) as client:
        handle = client.enqueue(
            {"workflow_name": mixed_formats.__qualname__, "queue_name": MIXED.name}, 5
        )
    run_system_sql(
        url,
        "UPDATE {prefix}workflow_status SET inputs = 'not json at all' "
        f"WHERE workflow_uuid = '{handle.workflow_id}'",
    )
    _serve_only(url, pickle=False, queues=[MIXED.name])
    with pytest.raises(DBOSDeserializationError, match="stored inputs are unreadable"):
        DBOS.retrieve_workflow(handle.workflow_id).get_result()
    status = DBOS.get_workflow_status(handle.workflow_id)
    assert status is not None and status.status == "ERROR"
    assert isinstance(status.error, DBOSDeserializationError)  # the error itself reads back

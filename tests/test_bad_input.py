"""Bad input gets a clear error naming what was wrong, and nothing already written is lost."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from conftest import run_system_sql

from dbos import DBOS, DBOSConfig, Debouncer, Queue, SetWorkflowID
from dbos.error import (
    DBOSDatabaseConnectionError,
    DBOSDeserializationError,
    DBOSInitializationError,
    DBOSSchemaVersionError,
    DBOSSerializationError,
)


def _config(url: str) -> DBOSConfig:
    return {"name": "bad-input", "system_database_url": url, "log_level": "WARNING"}


@pytest.fixture
def dbos(system_database_url: str) -> Iterator[str]:
    DBOS.destroy()
    DBOS(config=_config(system_database_url))
    DBOS.reset_system_database()
    DBOS.launch()
    yield system_database_url
    DBOS.destroy()


ran: list[str] = []


@DBOS.step()
def note(tag: str) -> str:
    ran.append(tag)
    return tag


@DBOS.workflow()
def takes_anything(label: str, payload: object) -> str:
    return note(label)


@DBOS.step()
def returns_lock() -> object:
    ran.append("returns_lock")
    return threading.Lock()


@DBOS.workflow()
def wants_lock() -> object:
    return returns_lock()


def test_unserializable_argument_refused_before_any_write(dbos: str) -> None:
    ran.clear()
    with SetWorkflowID("never-written"), pytest.raises(DBOSSerializationError) as info:
        takes_anything("x", lambda: 1)
    message = str(info.value)
    assert "'payload'" in message and "function" in message and "takes_anything" in message
    assert ran == []
    assert DBOS.list_workflows() == []
    assert DBOS.get_workflow_status("never-written") is None
    # A background start is refused the same way, in the caller, before the handle exists.
    with pytest.raises(DBOSSerializationError, match="'payload'"):
        DBOS.start_workflow(takes_anything, "y", (i for i in range(3)))
    assert DBOS.list_workflows() == []


def test_arguments_that_do_not_fit_the_signature_are_refused_before_any_write(dbos: str) -> None:
    """A call that would fail with TypeError when the workflow starts fails in the caller,
    instead: a queued or debounced run would otherwise end in ERROR long after the call."""
    ran.clear()
    queue = Queue("test_bad_input.queue")
    debouncer = Debouncer.create(takes_anything)
    with SetWorkflowID("never-written"), pytest.raises(TypeError, match="'payload'") as info:
        takes_anything("x")  # type: ignore[call-arg]
    assert "takes_anything" in str(info.value)
    with pytest.raises(TypeError, match="'payload'"):
        DBOS.start_workflow(takes_anything, "x")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="'payload'"):
        queue.enqueue(takes_anything, "x")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        queue.enqueue(takes_anything, "x", 1, colour="red")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="'payload'"):
        debouncer.debounce("user", 60, "x")
    assert ran == []
    assert DBOS.list_workflows() == []


def test_unserializable_step_output_is_a_recorded_error(dbos: str) -> None:
    ran.clear()
    with SetWorkflowID("lock-out"), pytest.raises(DBOSSerializationError, match="returns_lock"):
        wants_lock()
    status = DBOS.get_workflow_status("lock-out")
    assert status is not None and status.status == "ERROR"
    steps = DBOS.list_workflow_steps("lock-out")
    assert isinstance(steps[0]["error"], DBOSSerializationError)


def test_wrong_postgres_url_names_it_with_password_masked() -> None:
    DBOS.destroy()
    # Launch waits for an unreachable database up to the retry bound (short here), then says so.
    config = _config("postgresql://alice:s3cret@127.0.0.1:1/nowhere")
    config["database_retry_timeout_sec"] = 0.3
    DBOS(config=config)
    try:
        with pytest.raises(DBOSDatabaseConnectionError) as info:
            DBOS.launch()
    finally:
        DBOS.destroy()
    message = str(info.value)
    assert "alice:***@127.0.0.1:1/nowhere" in message
    assert "s3cret" not in message


def test_unsupported_url_scheme_is_refused() -> None:
    DBOS.destroy()
    DBOS(config=_config("mysql://u:pw@localhost/db"))
    try:
        with pytest.raises(DBOSInitializationError, match="Unsupported system database URL"):
            DBOS.launch()
    finally:
        DBOS.destroy()


def test_in_memory_sqlite_is_refused() -> None:
    DBOS.destroy()
    DBOS(config=_config("sqlite:///:memory:"))
    try:
        with pytest.raises(DBOSInitializationError, match="cannot survive a crash"):
            DBOS.launch()
    finally:
        DBOS.destroy()


def test_bad_application_name_is_refused() -> None:
    DBOS.destroy()
    with pytest.raises(DBOSInitializationError, match="name"):
        DBOS(config={"name": "has spaces!"})
    with pytest.raises(DBOSInitializationError, match="name"):
        DBOS(config={})  # type: ignore[typeddict-item]


def test_schema_from_a_newer_version_is_refused_and_kept(dbos: str) -> None:
    with SetWorkflowID("kept"):
        takes_anything("kept", 1)
    DBOS.destroy()
    run_system_sql(dbos, "INSERT INTO {prefix}dbos_migrations (version) VALUES (999)")
    DBOS(config=_config(dbos))
    with pytest.raises(DBOSSchemaVersionError, match="999"):
        DBOS.launch()
    DBOS.destroy()
    # Nothing was touched: remove the future stamp and the data is all there.
    run_system_sql(dbos, "DELETE FROM {prefix}dbos_migrations WHERE version = 999")
    DBOS(config=_config(dbos))
    DBOS.launch()
    assert [w.workflow_id for w in DBOS.list_workflows()] == ["kept"]


def test_corrupt_recorded_output_is_reported_not_ignored(dbos: str) -> None:
    with SetWorkflowID("corrupt"):
        takes_anything("c", 1)
    run_system_sql(
        dbos,
        "UPDATE {prefix}workflow_status SET output = '{not json' WHERE workflow_uuid = 'corrupt'",
    )
    with pytest.raises(DBOSDeserializationError):
        DBOS.retrieve_workflow("corrupt").get_result()
    # Listing still works and shows the raw text rather than hiding the row.
    status = DBOS.get_workflow_status("corrupt")
    assert status is not None and status.output == "{not json"


def test_unreadable_inputs_of_a_pending_workflow_end_it_in_error(system_database_url: str) -> None:
    config = _config(system_database_url) | {"application_version": "v1"}
    DBOS.destroy()
    DBOS(config=config)
    DBOS.reset_system_database()
    DBOS.launch()
    DBOS.destroy()
    run_system_sql(
        system_database_url,
        "INSERT INTO {prefix}workflow_status (workflow_uuid, status, name, inputs, "
        "executor_id, application_version, created_at, updated_at, recovery_attempts, "
        "owner_xid) VALUES ('garbled', 'PENDING', 'takes_anything', '{\"args\": [', "
        "'local', 'v1', 1, 1, 1, 'dead-owner')",
    )
    DBOS(config=config)
    DBOS.launch()
    try:
        with pytest.raises(DBOSDeserializationError, match="garbled"):
            DBOS.retrieve_workflow("garbled").get_result()
        assert DBOS.get_workflow_status("garbled").status == "ERROR"  # type: ignore[union-attr]
    finally:
        DBOS.destroy()

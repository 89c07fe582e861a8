"""A store of the system database is usable alone: built over any `Connections`, with no
`SystemDatabase` around it, it reads and writes its area (and a store that needs another
is given it). `SystemDatabase` builds one of each over its own connections."""

from __future__ import annotations

from typing import Any

from dbos._config import normalize_url
from dbos._db.connections import Connections
from dbos._db.message_store import MessageStore, OutgoingMessage
from dbos._db.records import StepWrite, now_ms
from dbos._db.system import SystemDatabase
from dbos._db.version_store import VersionStore
from dbos._db.workflow_store import WorkflowStore


def _pending_row(workflow_id: str, owner: str) -> dict[str, Any]:
    """A new PENDING workflow row, every column the INSERT takes."""
    now = now_ms()
    return {
        "workflow_uuid": workflow_id,
        "status": "PENDING",
        "name": "alone.workflow",
        "class_name": None,
        "config_name": None,
        "inputs": '{"args": [], "kwargs": {}}',
        "serialization": "portable_json",
        "executor_id": "alone-executor",
        "application_version": "v-alone",
        "now": now,
        "recovery_attempts": 1,
        "owner_xid": owner,
        "workflow_timeout_ms": None,
        "workflow_deadline_epoch_ms": None,
        "parent_workflow_id": None,
        "queue_name": None,
        "authenticated_user": None,
        "authenticated_roles": None,
        "assumed_role": None,
        "priority": 0,
        "forked_from": None,
        "deduplication_id": None,
        "queue_partition_key": None,
        "started_at_epoch_ms": None,
        "delay_until_epoch_ms": None,
        "debounce_deadline_epoch_ms": None,
        "trace_context": None,
        "attributes": None,
    }


def test_the_workflow_store_alone_records_and_reads_steps(connections: Connections) -> None:
    assert not isinstance(connections, SystemDatabase)
    workflows = WorkflowStore(connections)
    assert workflows.insert_workflow(_pending_row("alone-1", "owner-a"))
    assert not workflows.insert_workflow(_pending_row("alone-1", "owner-b"))  # the ID is taken
    assert workflows.record_step("alone-1", "owner-a", 0, "first", '"one"', None, None, None, 1)
    # A step of an execution that no longer owns the workflow is refused, not written.
    assert not workflows.record_step("alone-1", "owner-b", 1, "second", "2", None, None, None, 1)
    steps = workflows.load_steps("alone-1")
    assert [(s.function_id, s.function_name, s.output) for s in steps.values()] == [
        (0, "first", '"one"')
    ]
    row = workflows.get_workflow("alone-1")
    assert row is not None and row[1] == "PENDING"


def test_a_row_and_its_steps_in_one_read_are_what_two_reads_give(
    connections: Connections,
) -> None:
    """`load_with_steps` (a parked workflow's resume) returns `get_workflow`'s row and
    `load_steps`' steps: none, several in step order whatever the order written, a missing ID."""
    workflows = WorkflowStore(connections)
    assert workflows.insert_workflow(_pending_row("both-1", "owner-a"))
    assert workflows.load_with_steps("both-1") == (workflows.get_workflow("both-1"), {})
    for step_id in (3, 1, 2):
        assert workflows.record_step(
            "both-1", "owner-a", step_id, f"s{step_id}", f'"{step_id}"', None, "c", "json", 7, 2
        )
    assert workflows.record_step("both-1", "owner-a", 4, "failed", None, '"e"', None, None, 8)
    row, steps = workflows.load_with_steps("both-1")
    assert row == workflows.get_workflow("both-1")
    assert steps == workflows.load_steps("both-1")
    assert list(steps) == [1, 2, 3, 4]
    assert (steps[2].output, steps[2].child_workflow_id, steps[2].attempts) == ('"2"', "c", 2)
    assert (steps[4].error, steps[4].started_at_epoch_ms) == ('"e"', 8)
    assert workflows.load_with_steps("no-such-workflow") == (None, {})


def test_a_store_that_needs_another_is_given_it(connections: Connections) -> None:
    """The message store checks its sends against the workflow store it is built with."""
    workflows = WorkflowStore(connections)
    messages = MessageStore(connections, workflows)
    assert workflows.insert_workflow(_pending_row("receiver", "owner-r"))
    messages.send_messages([OutgoingMessage("m-1", "receiver", "topic", '"hello"', "portable")])
    assert messages.has_message("receiver", "topic")
    step = StepWrite("receiver", "owner-r", 0, "DBOS.recv", started_at=now_ms())
    deadline = StepWrite("receiver", "owner-r", 1, "DBOS.sleep", started_at=now_ms())
    found, message, _format = messages.receive_message(step, "topic", deadline)
    assert (found, message) == (True, '"hello"')
    assert workflows.load_steps("receiver")[0].output == '"hello"'


def test_stores_alone_and_in_a_system_database_see_the_same_rows(
    connections: Connections, system_database_url: str
) -> None:
    VersionStore(connections).register_version("v-alone", "alone-app")
    sysdb = SystemDatabase(normalize_url(system_database_url))
    try:
        assert [r[1] for r in sysdb.versions.list_versions()] == ["v-alone"]
        # Its stores share its one set of connections, and the queue and message stores
        # the one workflow store.
        for store in (sysdb.workflows, sysdb.queues, sysdb.messages, sysdb.schedules):
            assert store.db is sysdb
        assert sysdb.queues.workflows is sysdb.workflows
        assert sysdb.messages.workflows is sysdb.workflows
    finally:
        sysdb.dispose()

"""`DBOS.delete_workflow(s)`: a workflow goes with everything it owns, whatever its status;
children with `delete_children`. A reused ID then runs afresh (no old step is replayed)."""

from __future__ import annotations

from conftest import query_system_sql

from dbos import DBOS, DBOSClient, Queue, SetWorkflowID

later = Queue("delete.later")
runs: list[str] = []


@DBOS.step()
def delete_step(label: str) -> str:
    runs.append(label)
    return label


@DBOS.workflow()
def delete_child(label: str) -> str:
    return delete_step(f"{label}.child")


@DBOS.workflow()
def delete_parent(label: str) -> str:
    DBOS.set_event("seen", label)
    return delete_child(label) + "+" + delete_step(label)


def _rows(url: str, table: str, workflow_id: str) -> int:
    column = "destination_uuid" if table == "notifications" else "workflow_uuid"
    found = query_system_sql(
        url, f"SELECT count(*) FROM {{prefix}}{table} WHERE {column} = '{workflow_id}'"
    )
    return int(found[0][0])


def test_deleted_with_what_they_own_and_children_on_request(
    dbos: None, system_database_url: str
) -> None:
    for workflow_id in ("keeps-child", "takes-child"):
        with SetWorkflowID(workflow_id):
            delete_parent(workflow_id)
    (kept_child,) = [w.workflow_id for w in DBOS.list_workflows(parent_workflow_id="keeps-child")]
    (taken_child,) = [w.workflow_id for w in DBOS.list_workflows(parent_workflow_id="takes-child")]
    DBOS.delete_workflow("keeps-child")
    assert DBOS.get_workflow_status("keeps-child") is None
    assert DBOS.get_workflow_status(kept_child) is not None  # its child stays
    DBOS.delete_workflows(["takes-child"], delete_children=True)
    for workflow_id in ("takes-child", taken_child):
        assert DBOS.get_workflow_status(workflow_id) is None
        for table in ("operation_outputs", "workflow_events"):
            assert _rows(system_database_url, table, workflow_id) == 0
    # A reused ID starts over: nothing recorded for it is replayed.
    runs.clear()
    with SetWorkflowID("takes-child"):
        assert delete_parent("again") == "again.child+again"
    assert runs == ["again.child", "again"]


def test_any_status_and_from_a_client(dbos: None, system_database_url: str) -> None:
    client = DBOSClient(system_database_url=system_database_url)
    try:
        handle = client.enqueue(
            {
                "workflow_name": "delete_child",
                "queue_name": "delete.later",
                "workflow_id": "q1",
                "delay_seconds": 3600,
            },
            "q1",
        )
        assert client.get_workflow_status(handle.workflow_id).status == "DELAYED"  # type: ignore[union-attr]
        client.delete_workflow("q1")
        assert client.get_workflow_status("q1") is None
        client.delete_workflows(["does-not-exist"])  # nothing to delete: no error
    finally:
        client.destroy()

"""`SetWorkflowAttributes`: key/value attributes on the workflows started in a block (not on
the children they start), filterable in `list_workflows`, replaceable later."""

from __future__ import annotations

import pytest

from dbos import DBOS, DBOSClient, Queue, SetWorkflowAttributes, SetWorkflowID
from dbos.error import DBOSNonExistentWorkflowError

attributes_queue = Queue("attributes.queue")


@DBOS.workflow()
def attributes_child() -> str:
    return "child"


@DBOS.workflow()
def attributes_parent() -> str:
    return attributes_child()


def _ids(found: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(s.workflow_id for s in found)


def test_attributes_are_set_filtered_and_not_inherited(
    dbos: None, system_database_url: str
) -> None:
    with SetWorkflowAttributes({"tenant": "acme", "tier": 2, "beta": True}):
        with SetWorkflowID("with-attributes"):
            attributes_parent()
        with SetWorkflowID("queued-with-attributes"):
            attributes_queue.enqueue(attributes_child).get_result()
    with SetWorkflowID("without"):
        attributes_parent()
    status = DBOS.get_workflow_status("with-attributes")
    assert status is not None and status.attributes == {"tenant": "acme", "tier": 2, "beta": True}
    (child,) = DBOS.list_workflows(parent_workflow_id="with-attributes")
    assert child.attributes is None  # not inherited
    acme = ["queued-with-attributes", "with-attributes"]
    assert _ids(DBOS.list_workflows(attributes={"tenant": "acme"})) == acme
    assert _ids(DBOS.list_workflows(attributes={"tenant": "acme", "tier": 2})) == acme
    assert _ids(DBOS.list_workflows(attributes={"beta": True})) == acme
    assert DBOS.list_workflows(attributes={"tenant": "acme", "tier": 3}) == []
    assert DBOS.list_workflows(attributes={"tenant": "other"}) == []

    DBOS.update_workflow_attributes("with-attributes", {"tenant": "globex"})
    assert _ids(DBOS.list_workflows(attributes={"tenant": "globex"})) == ["with-attributes"]
    DBOS.update_workflow_attributes("with-attributes", None)
    assert DBOS.get_workflow_status("with-attributes").attributes is None  # type: ignore[union-attr]
    with pytest.raises(DBOSNonExistentWorkflowError):
        DBOS.update_workflow_attributes("no-such-workflow", {"a": 1})

    with DBOSClient(system_database_url=system_database_url) as client:
        handle = client.enqueue(
            {
                "workflow_name": "attributes_child",
                "queue_name": "attributes.queue",
                "attributes": {"tenant": "initech"},
            }
        )
        handle.get_result()
        found = client.list_workflows(attributes={"tenant": "initech"})
        assert _ids(found) == [handle.workflow_id]


def test_bad_attributes_are_refused_where_written() -> None:
    with pytest.raises(ValueError, match="plain JSON"):
        SetWorkflowAttributes({"when": object()})
    with pytest.raises(ValueError, match="dict with str keys"):
        SetWorkflowAttributes(["not", "a", "dict"])  # type: ignore[arg-type]
